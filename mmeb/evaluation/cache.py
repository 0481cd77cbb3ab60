"""On-disk embedding cache in a safe format (numpy ``.npy`` without pickle + JSON key lists).

Layout::

    <cache_dir>/<model key[:24]>/model.json              the identity that was hashed (for humans)
                                /<shard>.npy             float32 [n, dim], np.save(allow_pickle=False)
                                /<shard>.keys.json       the n item keys, written last (=> shard complete)

A shard is immutable once its key list exists, so concurrent runs (or a crash mid-write) never
corrupt what is there: readers only trust shards whose key list is present. The model key hashes
(name, revision, settings); an item key adds task, role, instruction, text, raw_text and the sha256 of
the raw image bytes - so a changed setting, instruction or image never reuses a stale vector.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from mmeb.results.io import atomic_write_json

KEYS_SUFFIX = ".keys.json"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def model_identity(name: str, revision: str | None, settings: dict) -> dict:
    # round-trip through JSON so tuples/paths compare the same as when read back
    return {"name": name, "revision": revision, "settings": json.loads(canonical_json(settings or {}))}


def item_key(*, task_name: str, role: str, instruction: str, text: str, raw_text: str,
             image_sha256: str | None) -> str:
    # task_name is part of the key because the protocol hands it to encode(): an adapter may use it
    return sha256_hex(canonical_json({
        "task": task_name, "role": role, "instruction": instruction, "text": text,
        "raw_text": raw_text, "image_sha256": image_sha256,
    }))


class EmbeddingCache:
    """Vectors of one model identity; ``get`` returns what is cached, ``put`` adds one shard."""

    def __init__(self, cache_dir: str | os.PathLike, identity: dict):
        self.identity = identity
        self.model_key = sha256_hex(canonical_json(identity))
        self.directory = Path(cache_dir) / self.model_key[:24]
        self._index: dict[str, tuple[str, int]] | None = None

    def _load_index(self) -> dict[str, tuple[str, int]]:
        index: dict[str, tuple[str, int]] = {}
        if self.directory.is_dir():
            for keys_file in sorted(self.directory.glob(f"*{KEYS_SUFFIX}")):
                shard = keys_file.name[: -len(KEYS_SUFFIX)]
                try:
                    keys = json.loads(keys_file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # unreadable key list: treat the shard as absent (it will be recomputed)
                for row, key in enumerate(keys):
                    index[key] = (shard, row)
        return index

    def refresh(self) -> None:
        self._index = None

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the keys that have one (float32 [dim] each)."""
        if self._index is None:
            self._index = self._load_index()
        wanted: dict[str, list[tuple[str, int]]] = {}
        for key in keys:
            hit = self._index.get(key)
            if hit is not None:
                wanted.setdefault(hit[0], []).append((key, hit[1]))
        found: dict[str, np.ndarray] = {}
        for shard, entries in wanted.items():
            try:
                matrix = np.load(self.directory / f"{shard}.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):
                continue  # a damaged shard is a cache miss, never a crash
            rows = np.asarray([row for _, row in entries])
            vectors = np.asarray(matrix[rows], dtype=np.float32)
            for (key, _), vector in zip(entries, vectors):
                found[key] = vector
        return found

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        if not keys:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "model.json"
        if not meta.exists():
            atomic_write_json(meta, self.identity)
        shard = f"shard-{uuid.uuid4().hex[:16]}"
        tmp = self.directory / f".{shard}.npy.tmp"
        with open(tmp, "wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        os.replace(tmp, self.directory / f"{shard}.npy")
        atomic_write_json(self.directory / f"{shard}{KEYS_SUFFIX}", keys)  # last: marks the shard complete
        if self._index is not None:
            self._index.update({key: (shard, row) for row, key in enumerate(keys)})

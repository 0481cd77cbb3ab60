"""On-disk embedding cache in a safe format (numpy ``.npy`` without pickle + JSON manifests).

Layout::

    <cache_dir>/<model key[:24]>/model.json               the identity that was hashed (for humans)
                                /<shard>.npy              float32 [n, dim], np.save(allow_pickle=False)
                                /<shard>.manifest.json    the n item keys, n, dim and a sha256 over keys + .npy
                                                          (written last: marks the shard complete)

The model key hashes the same model identity as the results' scoring key (:mod:`mmeb.results.key`: name,
revision, every setting, a plug-in's source hash); an item key adds task, role, instruction, text, raw_text and
the sha256 of the raw image bytes - so a changed setting, instruction or image never reuses a stale vector.

A shard is immutable once its manifest exists, so concurrent runs (or a crash mid-write) never corrupt what
is there. Before a shard's vectors are used, its ``.npy`` must hash to the manifest's checksum (the keys are
bound to exactly these vectors), have the manifest's shape and the cache's dimension, and be finite; a shard
that fails is deleted with a warning and its vectors are encoded again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mmeb.errors import ConfigError
from mmeb.results.io import atomic_write_bytes, atomic_write_json
from mmeb.results.key import canonical_json

MANIFEST_SUFFIX = ".manifest.json"
log = logging.getLogger("mmeb")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def item_key(*, task_name: str, role: str, instruction: str, text: str, raw_text: str,
             image_sha256: str | None) -> str:
    # task_name is part of the key because the protocol hands it to encode(): an adapter may use it
    return sha256_hex(canonical_json({
        "task": task_name, "role": role, "instruction": instruction, "text": text,
        "raw_text": raw_text, "image_sha256": image_sha256,
    }))


def binding(keys: list[str], npy_bytes: bytes) -> str:
    """The checksum that binds a shard's keys, in order, to its exact vectors."""
    return sha256_hex(canonical_json(keys).encode("utf-8") + b"\0" + npy_bytes)


def check_cache_dir(cache_dir: str | os.PathLike) -> Path:
    """The cache folder, created if absent; a one-line ConfigError when it cannot be a writable folder."""
    path = Path(cache_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--cache-dir {str(path)!r} is a file, not a folder; give a folder for the embedding "
                          "cache (it is created if absent)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--cache-dir {str(path)!r} is not a usable folder ({exc.strerror or exc}); give a "
                          "writable folder or leave the cache off") from exc
    return path


class EmbeddingCache:
    """Vectors of one model identity; ``get`` returns what is cached and valid, ``put`` adds one shard."""

    def __init__(self, cache_dir: str | os.PathLike, identity: dict):
        self.identity = identity
        self.model_key = sha256_hex(canonical_json(identity))
        self.directory = Path(cache_dir) / self.model_key[:24]
        self._index: dict[str, tuple[str, int]] | None = None
        self._manifests: dict[str, dict] = {}
        self._checked: dict[str, bool] = {}  # shard -> passed every check (False = rejected)
        self.dim: int | None = None

    def _load_index(self) -> dict[str, tuple[str, int]]:
        index: dict[str, tuple[str, int]] = {}
        if self.directory.is_dir():
            for manifest_file in sorted(self.directory.glob(f"*{MANIFEST_SUFFIX}")):
                shard = manifest_file.name[: -len(MANIFEST_SUFFIX)]
                try:
                    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
                    keys = manifest["keys"]
                    assert isinstance(keys, list) and len(keys) == manifest["n"]
                    assert all(isinstance(key, str) for key in keys)
                except (OSError, ValueError, KeyError, TypeError, AssertionError):
                    self._reject(shard, "its manifest is unreadable")
                    continue
                self._manifests[shard] = manifest
                for row, key in enumerate(keys):
                    index[key] = (shard, row)
        return index

    def _reject(self, shard: str, why: str) -> None:
        log.warning("embedding cache %s: shard %s ignored and removed (%s); its vectors are encoded again",
                    self.directory, shard, why)
        for suffix in (".npy", MANIFEST_SUFFIX):
            try:
                (self.directory / f"{shard}{suffix}").unlink(missing_ok=True)
            except OSError:
                pass
        self._checked[shard] = False

    def _matrix(self, shard: str) -> np.ndarray | None:
        """The shard's vectors if they pass every check, else None (the shard is then removed)."""
        path = self.directory / f"{shard}.npy"
        if shard in self._checked:
            return np.load(path, mmap_mode="r", allow_pickle=False) if self._checked[shard] else None
        manifest = self._manifests.get(shard, {})
        try:
            data = path.read_bytes()
        except OSError:
            self._reject(shard, "its vectors are missing")
            return None
        if binding(manifest.get("keys", []), data) != manifest.get("sha256"):
            self._reject(shard, "its keys and vectors do not match the checksum in its manifest")
            return None
        try:
            matrix = np.load(io.BytesIO(data), allow_pickle=False)
        except (OSError, ValueError) as exc:
            self._reject(shard, f"unreadable vectors: {exc}")
            return None
        expected_dim = self.dim if self.dim is not None else manifest.get("dim")
        if matrix.ndim != 2 or matrix.shape != (manifest.get("n"), manifest.get("dim")) \
                or matrix.shape[1] != expected_dim:
            self._reject(shard, f"shape {matrix.shape} instead of ({manifest.get('n')}, {expected_dim})")
            return None
        if matrix.dtype != np.float32 or not np.isfinite(matrix).all():
            self._reject(shard, "non-finite or non-float32 vectors")
            return None
        self.dim = matrix.shape[1]
        self._checked[shard] = True
        return matrix

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
            matrix = self._matrix(shard)
            if matrix is None:
                for key, _ in entries:
                    self._index.pop(key, None)
                continue
            rows = np.asarray([row for _, row in entries])
            for (key, _), vector in zip(entries, matrix[rows]):
                found[key] = np.array(vector, dtype=np.float32)
        return found

    def put(self, keys: list[str], vectors: np.ndarray, remember: bool = True) -> None:
        """Store one shard. ``remember=False`` keeps it out of this object's lookups (under torchrun only
        rank 0 writes: the other ranks would not see it, and every rank must plan the same batches)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        if not keys or vectors.ndim != 2 or not np.isfinite(vectors).all():
            return  # never store what could not be used
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "model.json"
        if not meta.exists():
            atomic_write_json(meta, self.identity)
        shard = f"shard-{uuid.uuid4().hex[:16]}"
        buffer = io.BytesIO()
        np.save(buffer, vectors, allow_pickle=False)
        data = buffer.getvalue()
        atomic_write_bytes(self.directory / f"{shard}.npy", data)
        manifest: dict[str, Any] = {"keys": list(keys), "n": int(vectors.shape[0]), "dim": int(vectors.shape[1]),
                                    "sha256": binding(list(keys), data)}
        atomic_write_json(self.directory / f"{shard}{MANIFEST_SUFFIX}", manifest)  # last: shard complete
        self._manifests[shard] = manifest
        if self.dim is None:
            self.dim = int(vectors.shape[1])
        self._checked[shard] = True
        if self._index is not None and remember:
            self._index.update({key: (shard, row) for row, key in enumerate(keys)})

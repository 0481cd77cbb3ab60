"""What is known about each image without reading it: sha256 of its bytes and its size, remembered by the
store's cheap stamp (zip central-directory entry or file stat), so a warm rerun computes every cache key
without touching image bytes.

The facts are learnt where the encoder reads the bytes anyway (one read per image: hash, header size, and the
same bytes are decoded later). With a cache folder they persist as
``<cache_dir>/image-identity/<sha256(store location)[:24]>.json``: ``{"location": ..., "images": {path:
[stamp, sha256, width, height]}}``. An entry is used only while the store reports the same stamp for the path;
a store without ``stamp`` (an in-memory test store) is always read.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmeb.results.io import atomic_write_json

FOLDER = "image-identity"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageFacts:
    sha256: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def store_location(store: Any) -> str | None:
    """A stable name for a store that can stamp its images (None: the store cannot)."""
    if not callable(getattr(store, "stamp", None)):
        return None
    return str(getattr(store, "location", None) or repr(store))


class ImageIdentity:
    """path -> (stamp, facts) per store location; in memory for the run, on disk when given a folder."""

    def __init__(self, cache_dir: str | Path | None):
        self.directory = Path(cache_dir) / FOLDER if cache_dir else None
        self._tables: dict[str, dict[str, list]] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()

    def _file(self, location: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{hashlib.sha256(location.encode()).hexdigest()[:24]}.json"

    def _table(self, location: str) -> dict[str, list]:
        table = self._tables.get(location)
        if table is None:
            table = {}
            file = self._file(location)
            if file is not None and file.is_file():
                try:
                    data = json.loads(file.read_text(encoding="utf-8"))
                    if data.get("location") == location and isinstance(data.get("images"), dict):
                        table = data["images"]
                except (OSError, ValueError, AttributeError):
                    table = {}  # unreadable: relearnt from the bytes as they are read
            self._tables[location] = table
        return table

    def lookup(self, store: Any, paths: list[str]) -> dict[str, ImageFacts]:
        """Facts of the paths whose stamp is unchanged (a stat or directory lookup per path, no bytes)."""
        location = store_location(store)
        if location is None:
            return {}
        with self._lock:
            table = self._table(location)
        found: dict[str, ImageFacts] = {}
        for path in paths:
            entry = table.get(path)
            if not isinstance(entry, list) or len(entry) != 4:
                continue  # unknown, or a damaged entry: the bytes are read and the facts learnt again
            try:
                facts = ImageFacts(str(entry[1]), int(entry[2]), int(entry[3]))
            except (TypeError, ValueError):
                continue
            if not _SHA256.fullmatch(facts.sha256):
                continue
            if store.stamp(path) == entry[0]:
                found[path] = facts
        return found

    def record(self, store: Any, path: str, stamp: str | None, facts: ImageFacts) -> None:
        location = store_location(store)
        if location is None or stamp is None:
            return
        with self._lock:
            self._table(location)[path] = [stamp, facts.sha256, facts.width, facts.height]
            self._dirty.add(location)

    def save(self) -> None:
        """Write the tables that learnt something (atomic; a folder that cannot be written is skipped)."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            snapshots = {location: dict(self._tables[location]) for location in dirty}
        for location, table in snapshots.items():
            file = self._file(location)
            if file is None:
                continue
            try:
                atomic_write_json(file, json.dumps({"location": location, "images": table}, separators=(",", ":")))
            except OSError:
                pass

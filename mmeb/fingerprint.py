"""Full-content fingerprints of local folders and files (model weights, checkpoints, local data mirrors).

Every byte of every file counts. Per-file digests are memoised on disk by (absolute path, size, mtime_ns,
ctime_ns, inode) so a rerun over an unchanged 16 GB checkpoint re-hashes nothing; a changed file is hashed again -
also one rewritten with its old size and mtime put back (``cp -p``, ``rsync -t``, ``utime``): writing a file
always sets its change time, which no tool can set back.
The memo lives in ``$MMEB_CACHE_HOME`` (default ``~/.cache/mmeb``) as ``file-digests.json``; a memo that cannot
be read or written is ignored (the digests are then simply computed).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Iterable

_CHUNK = 1 << 22
_LOCK = threading.Lock()


def cache_home() -> Path:
    return Path(os.environ.get("MMEB_CACHE_HOME") or Path.home() / ".cache" / "mmeb")


def _memo_path() -> Path:
    return cache_home() / "file-digests.json"


def _load_memo() -> dict[str, list]:
    try:
        data = json.loads(_memo_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_memo(memo: dict[str, list]) -> None:
    from mmeb.results.io import atomic_write_json

    try:
        atomic_write_json(_memo_path(), json.dumps(memo, separators=(",", ":")))
    except OSError:
        pass


def _digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(paths: Iterable[Path]) -> dict[Path, str]:
    """sha256 of each file's full content, memoised by (path, size, mtime_ns, ctime_ns, inode)."""
    with _LOCK:
        memo = _load_memo()
        out: dict[Path, str] = {}
        changed = False
        for path in paths:
            st = path.stat()
            key = str(path.resolve())
            stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
            hit = memo.get(key)
            if isinstance(hit, list) and len(hit) == len(stamp) + 1 and hit[:-1] == stamp:
                out[path] = hit[-1]
                continue
            out[path] = _digest_file(path)
            memo[key] = [*stamp, out[path]]
            changed = True
        if changed:
            _save_memo(memo)
        return out


def files_fingerprint(root: Path, files: Iterable[Path], prefix: str = "local-") -> str:
    """A fingerprint of the given files under ``root``: relative names and full contents."""
    root = Path(root)
    ordered = sorted(Path(f) for f in files)
    digests = file_digests(ordered)
    total = hashlib.sha256()
    for path in ordered:
        total.update(path.relative_to(root).as_posix().encode() + b"\0" + digests[path].encode() + b"\n")
    return prefix + total.hexdigest()[:16]


def folder_fingerprint(root: Path, prefix: str = "local-") -> str:
    """A fingerprint of every file below ``root`` (hidden files included, symlinks followed)."""
    root = Path(root)
    return files_fingerprint(root, (p for p in root.rglob("*") if p.is_file()), prefix)

"""Atomic file writing: readers never see half a file, and files get the usual permissions."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write to a temporary file in the same folder, then rename. The file is created with mode 0666
    minus the umask (0644 under the usual umask 022), as ``open()`` would - not 0600 as ``mkstemp``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    """``data`` as indented JSON (a str is written as given), atomically."""
    text = data if isinstance(data, str) else json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False,
                                                         default=str)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))

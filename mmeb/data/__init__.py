"""Task data: the in-memory form of one MMEB test split, and how it is read from disk or the Hub.

Loading helpers are resolved lazily so ``import mmeb.data.items`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmeb.data.items import ImageStore, Item, QueryRow, TaskData

_EXPORTS = {
    "load_task_data": "mmeb.data.loader",
    "check_images": "mmeb.data.images",
    "ImageNotFoundError": "mmeb.data.images",
    "ZipImageStore": "mmeb.data.images",
    "FolderImageStore": "mmeb.data.images",
    "parse_item": "mmeb.data.parsing",
}

__all__ = ["ImageStore", "Item", "QueryRow", "TaskData", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.data.images import FolderImageStore, ImageNotFoundError, ZipImageStore, check_images
    from mmeb.data.loader import load_task_data
    from mmeb.data.parsing import parse_item


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmeb.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

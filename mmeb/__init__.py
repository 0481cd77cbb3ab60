"""mmeb: the benchmark harness for universal multimodal embeddings (MMEB).

Heavy libraries (torch, transformers) are imported only where they are needed, so
``import mmeb`` and ``mmeb tasks`` stay instant. Public names are resolved lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmeb._version import __version__

# public name -> module that defines it
_EXPORTS = {
    "ModelInput": "mmeb.models.protocol",
    "EmbeddingModel": "mmeb.models.protocol",
    "get_tasks": "mmeb.tasks",
    "get_task": "mmeb.tasks",
    "evaluate": "mmeb.evaluation",
    "load_model": "mmeb.models",
    "TaskResult": "mmeb.results.schema",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.evaluation import evaluate
    from mmeb.models import load_model
    from mmeb.models.protocol import EmbeddingModel, ModelInput
    from mmeb.results.schema import TaskResult
    from mmeb.tasks import get_task, get_tasks


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmeb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

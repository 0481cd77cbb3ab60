"""The evaluation engine: ``evaluate(model, tasks, ...)`` encodes, ranks, scores and writes results.

The engine's names resolve lazily, so importing a light submodule (``mmeb.evaluation.progress``) does not
import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["EvaluationFailed", "RunReport", "RunSettings", "evaluate", "run_evaluation"]

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.evaluation.engine import EvaluationFailed, RunReport, RunSettings, evaluate, run_evaluation


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mmeb.evaluation import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'mmeb.evaluation' has no attribute {name!r}")

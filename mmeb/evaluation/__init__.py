"""The evaluation engine: ``evaluate(model, tasks, ...)`` encodes, ranks, scores and writes results."""

from mmeb.evaluation.engine import EvaluationFailed, RunReport, RunSettings, evaluate, run_evaluation

__all__ = ["EvaluationFailed", "RunReport", "RunSettings", "evaluate", "run_evaluation"]

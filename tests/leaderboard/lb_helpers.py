"""Builders of result trees for the leaderboard tests: real TaskResult files as `mmeb run` writes them.
(Imported by the tests as `lb_helpers`; conftest.py only holds fixtures.)"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from mmeb.results.schema import DatasetInfo, HarnessInfo, ModelInfo, Prediction, Scores, TaskResult
from mmeb.tasks import TASK_NAMES, get_task


def make_result(task: str, model: str = "org/my-model", hit: float = 0.5, *, revision: str | None = "abc123",
                n_queries: int | None = None, predictions: list[tuple[int, int]] | None = None,
                tie_rule: str = "fractional", ci: tuple[float, float] | None = None, **model_meta) -> TaskResult:
    meta = get_task(task).metadata
    preds = None
    if predictions is not None:  # (rank, tie_size) per query
        preds = [Prediction(top1=0 if r == 1 else 1, rank=r, tie_size=t) for r, t in predictions]
        n_queries = len(preds)
    scores = Scores(hit_at_1=hit, **({"ci95_low": ci[0], "ci95_high": ci[1]} if ci else {}))
    return TaskResult(
        task_name=task, benchmark=meta.benchmark, meta_task=meta.meta_task, split=meta.split, main_score=hit,
        n_queries=meta.n_queries if n_queries is None else n_queries, scores=scores, tie_rule=tie_rule,
        dataset=DatasetInfo(id=meta.dataset_id, revision="0123456789abcdef", subset=task, source="hub:test"),
        model=ModelInfo(name=model, revision=revision, metadata=model_meta),
        harness=HarnessInfo(mmeb_version="0.1.0", python="3.11"),
        date=datetime(2026, 1, 2, tzinfo=timezone.utc), predictions=preds)


def write_result(root: Path, result: TaskResult, name: str | None = None) -> Path:
    folder = Path(root) / result.model.name.replace("/", "__") / (result.model.revision or "no_revision")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{result.task_name}.json")
    path.write_text(result.model_dump_json(indent=2, exclude_none=True), encoding="utf-8")
    return path


def write_model(root: Path, model: str = "org/my-model", tasks=TASK_NAMES, base: float = 0.40, **kw) -> list[Path]:
    """A model with a distinct, known score per task: base + 0.01 * position."""
    return [write_result(root, make_result(t, model, round(base + 0.01 * (i % 10), 4), **kw))
            for i, t in enumerate(tasks)]


def edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


SPEC_TASKS = Path("/work/shared/spec/mmeb-v2/tasks.json")


def v2_catalog():
    """The task catalog with the 78 MMEB-V2 tasks: from the registry once the V2 task classes exist, else
    (until then) from the spec's task list."""
    from mmeb.leaderboard.catalog import Catalog, TaskInfo, task_catalog

    catalog = task_catalog()
    if len(catalog.names("MMEB-V2")) == 78:
        return catalog
    spec = json.loads(SPEC_TASKS.read_text())
    v2 = [TaskInfo(name=t["name"], benchmark="MMEB-V2", modality=t["modality"], group=t["group"],
                   main_metric=t["main_metric"], n_queries=t["n_queries"]["v2.0.1"], dataset_id=t["hf"]["repo"])
          for t in spec["tasks"]]
    return Catalog([*catalog, *v2])

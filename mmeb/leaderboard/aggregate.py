"""Per-benchmark aggregation exactly as the papers: unweighted means of per-dataset main scores.
MMEB-V1: meta-task over its datasets, IND, OOD, Overall over all 36. MMEB-V2: each modality (image,
video, visdoc) and sub-category over its tasks, and Overall = the mean over all 78 tasks (not the mean
of the three modality means). A model missing some datasets keeps its per-task scores but gets no mean
over the smaller set: the group is marked partial (k/n) instead.

Scores here are percentages (the paper's unit); files hold fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mmeb.leaderboard.aggregate_only import GROUP_KEYS
from mmeb.leaderboard.catalog import MODALITIES, Catalog, TaskInfo
from mmeb.leaderboard.identity import recomputable, row_identity
from mmeb.leaderboard.load import ResultSet
from mmeb.leaderboard.published.v1 import UNDATED_NOTE
from mmeb.results.schema import Published, TaskResult

META_TASK_LABELS = {"classification": "Classification", "vqa": "VQA", "retrieval": "Retrieval",
                    "grounding": "Grounding"}
MODALITY_LABELS = {"image": "Image", "video": "Video", "visdoc": "VisDoc"}
GROUP_LABELS = {"overall": "Overall", "IND": "IND", "OOD": "OOD", **META_TASK_LABELS, **MODALITY_LABELS}
GROUP_SHORT = {**GROUP_LABELS, "classification": "Cls", "retrieval": "Ret", "grounding": "VG"}  # as the paper


def group_label(key: str, short: bool = False) -> str:
    """Display name of a group key (a sub-category such as V-RET is its own label)."""
    return (GROUP_SHORT if short else GROUP_LABELS).get(key, key)
Z95 = 1.959963984540054
CI_METHOD = ("group CI = mean +- 1.96 * sqrt(sum of per-task variances) / n, each per-task variance taken "
             "from its bootstrap 95% CI (tasks treated as independent); shown only when every task has a CI")


@dataclass(frozen=True)
class TaskScore:
    value: float  # percent
    ci: tuple[float, float] | None = None  # percent


@dataclass(frozen=True)
class GroupScore:
    """One aggregate cell. value is None when the group is incomplete (partial) or not reported."""

    value: float | None
    n_done: int
    n_total: int | None  # None for aggregate-only rows (the source gives no per-task detail)
    ci: tuple[float, float] | None = None

    @property
    def partial(self) -> bool:
        return self.value is None and self.n_total is not None and 0 < self.n_done < self.n_total


@dataclass
class ModelRow:
    name: str
    revision: str | None
    tie_rule: str
    kind: str  # "run" (evaluated with mmeb) | "published" (per-task figures) | "aggregate-only"
    published: Published | None
    tasks: dict[str, TaskScore] = field(default_factory=dict)
    groups: dict[str, GroupScore] = field(default_factory=dict)
    size_b: float | None = None  # parameters, billions
    date: datetime | None = None
    url: str | None = None
    verified: bool = False  # every task's scores recomputed here from its per-query predictions
    unofficial: str | None = None  # why the row is not official (a --limit run, a data sample, ...)
    config: str | None = None  # digest of the chosen settings (model settings and code, evaluation settings)
    version: str | None = None  # benchmark / data version (published rows, MMEB-V2 runs)
    show_config: bool = False  # several configurations of this model: the label names the digest

    @property
    def label(self) -> str:
        """The name plus what tells two rows of one model apart."""
        extras = [self.revision] if self.revision else []
        if self.version:
            extras.append(self.version)
        if self.tie_rule != "fractional" and self.kind == "run":
            extras.append(f"{self.tie_rule} ties")
        if self.config and self.show_config:
            extras.append(f"settings {self.config[:8]}")
        if self.unofficial:
            extras.append("unofficial")
        return f"{self.name} ({', '.join(extras)})" if extras else self.name


@dataclass
class BenchmarkBoard:
    benchmark: str
    task_names: list[str]  # canonical order
    task_groups: dict[str, list[str]]  # group key -> its tasks, display order, only groups with tasks
    rows: list[ModelRow]
    tasks: list[TaskInfo] = field(default_factory=list)  # canonical order, as task_names
    by_modality: bool = False  # MMEB-V2 style: columns image, video, visdoc, overall, then sub-categories

    @property
    def columns(self) -> list[str]:
        """The headline columns (MMEB-V2: image, video, visdoc, overall)."""
        if self.by_modality:
            return [g for g in (*MODALITIES, "overall") if g in self.task_groups]
        return [g for g in self.task_groups if g in ("overall", "IND", "OOD")]

    def task(self, name: str) -> TaskInfo | None:
        return next((t for t in self.tasks if t.name == name), None)


def _group_tasks(task_meta: list[TaskInfo], by_modality: bool = False) -> dict[str, list[str]]:
    if by_modality:
        groups = {m: [t.name for t in task_meta if t.modality == m] for m in MODALITIES}
        groups["overall"] = [t.name for t in task_meta]
        for t in task_meta:
            groups.setdefault(t.group, []).append(t.name)
        return {k: v for k, v in groups.items() if v}
    groups = {"overall": [m.name for m in task_meta],
              "IND": [m.name for m in task_meta if m.split == "IND"],
              "OOD": [m.name for m in task_meta if m.split == "OOD"]}
    for key in META_TASK_LABELS:
        groups[key] = [m.name for m in task_meta if m.meta_task == key]
    return {k: groups[k] for k in GROUP_KEYS if groups[k]}


def _combined_ci(scores: list[TaskScore], mean: float) -> tuple[float, float] | None:
    if not scores or any(s.ci is None for s in scores):
        return None
    variance = sum(((s.ci[1] - s.ci[0]) / (2 * Z95)) ** 2 for s in scores)
    half = Z95 * math.sqrt(variance) / len(scores)
    return (max(0.0, mean - half), min(100.0, mean + half))


def aggregate_tasks(tasks: dict[str, TaskScore], task_groups: dict[str, list[str]]) -> dict[str, GroupScore]:
    """The paper's aggregates of one model: unweighted means over complete groups only."""
    out = {}
    for key, names in task_groups.items():
        have = [tasks[n] for n in names if n in tasks]
        if len(have) == len(names):
            mean = math.fsum(s.value for s in have) / len(have)
            out[key] = GroupScore(mean, len(have), len(names), _combined_ci(have, mean))
        else:
            out[key] = GroupScore(None, len(have), len(names))
    return out


def _task_score(r: TaskResult) -> TaskScore:
    s = r.scores
    ci = (100 * s.ci95_low, 100 * s.ci95_high) if s.ci95_low is not None and s.ci95_high is not None else None
    return TaskScore(100 * r.main_score, ci)


def _size_b(*sources: dict[str, Any]) -> float | None:
    for meta in sources:
        for key in ("size_b", "model_size", "n_parameters", "num_parameters"):
            value = meta.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return float(value) / 1e9 if key in ("n_parameters", "num_parameters") else float(value)
    return None


def _url(published: Published | None, *sources: dict[str, Any]) -> str | None:
    if published is not None and published.url:
        return published.url
    for meta in sources:
        if isinstance(meta.get("url"), str):
            return meta["url"]
    return None


def _sort_key(row: ModelRow):
    """Official rows first (best Overall first, then the most complete), unofficial rows after them."""
    overall = row.groups.get("overall")
    if overall is not None and overall.value is not None:
        return (row.unofficial is not None, 0, -overall.value, row.label)
    return (row.unofficial is not None, 1, -len(row.tasks), row.label)


def build_boards(results: ResultSet, catalog: Catalog) -> list[BenchmarkBoard]:
    """One board per benchmark that has at least one row, MMEB-V1 first. ``results`` must be valid.
    Official and unofficial results never share a row."""
    rows: dict[tuple, ModelRow] = {}
    for path, r in results.task_results:
        why_unofficial = results.unofficial.get(path)
        key = (*row_identity(r), why_unofficial is not None)
        meta_file = results.meta_for(path)
        meta_file = {**meta_file, **(meta_file.get("metadata") or {})}  # `mmeb run` nests model facts
        row = rows.get(key)
        if row is None:
            row = rows[key] = ModelRow(
                name=r.model.name, revision=r.model.revision, tie_rule=r.tie_rule,
                kind="published" if r.published else "run", published=r.published,
                size_b=_size_b(r.model.metadata, meta_file), url=_url(r.published, r.model.metadata, meta_file),
                verified=r.published is None, config=key[5], version=key[4])
        if why_unofficial:
            row.unofficial = why_unofficial if not row.unofficial or row.unofficial == why_unofficial else \
                "several reasons (see `mmeb validate`)"
        row.verified = row.verified and recomputable(r)
        row.tasks[r.task_name] = _task_score(r)
        if not (r.published and r.published.note and UNDATED_NOTE in r.published.note):
            row.date = max(row.date, r.date) if row.date else r.date
    for _, a in results.aggregate_only:
        key = (a.benchmark, a.model.name, a.model.revision, a.tie_rule, "aggregate-only")
        values = a.scores.model_dump()
        rows[key] = ModelRow(
            name=a.model.name, revision=a.model.revision, tie_rule=a.tie_rule, kind="aggregate-only",
            published=a.published, size_b=_size_b(a.model.metadata), url=_url(a.published, a.model.metadata),
            date=a.date,
            groups={k: GroupScore(None if v is None else 100 * v, 0, None) for k, v in values.items()})

    configs: dict[tuple, set] = {}
    for key, row in rows.items():
        configs.setdefault(key[:5], set()).add(row.config)
    for key, row in rows.items():
        row.show_config = len(configs[key[:5]]) > 1

    benchmarks = sorted({key[0] for key in rows}, key=lambda b: (b != "MMEB-V1", b != "MMEB-V2", b))
    boards = []
    for benchmark in benchmarks:
        task_meta = catalog.tasks(benchmark)
        by_modality = catalog.by_modality(benchmark)
        task_groups = _group_tasks(task_meta, by_modality)
        board_rows = [row for key, row in rows.items() if key[0] == benchmark]
        for row in board_rows:
            if row.kind != "aggregate-only":
                row.groups = aggregate_tasks(row.tasks, task_groups)
            else:  # keep only the groups this benchmark has, in its order
                row.groups = {k: row.groups.get(k, GroupScore(None, 0, None)) for k in task_groups}
        board_rows.sort(key=_sort_key)
        boards.append(BenchmarkBoard(benchmark, [m.name for m in task_meta], task_groups, board_rows,
                                     tasks=task_meta, by_modality=by_modality))
    return boards

"""What the leaderboard needs to know about each task, read from the task registry: its benchmark, the
groups it is averaged in, its main metric and official size. Tasks are keyed by (benchmark, name):
MMEB-V2 reuses the names of the 36 MMEB-V1 image tasks (``task_name`` is the official key)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: MMEB-V2's columns in the official order: modalities, then the mean over every task
MODALITIES = ("image", "video", "visdoc")


@dataclass(frozen=True)
class TaskInfo:
    name: str
    benchmark: str
    meta_task: str | None = None  # MMEB-V1 style: classification | vqa | retrieval | grounding
    split: str | None = None  # MMEB-V1 style: IND | OOD
    modality: str | None = None  # MMEB-V2 style: image | video | visdoc
    group: str | None = None  # MMEB-V2 style sub-category, e.g. I-CLS, V-RET, VDRv1
    main_metric: str = "hit@1"
    n_queries: int | None = None
    n_candidates: int | None = None
    dataset_id: str | None = None
    #: (data version, query count) where a version of the data differs from n_queries (MMEB-V2 MomentSeeker)
    version_n_queries: tuple[tuple[str, int], ...] = ()

    def n_queries_for(self, version: str | None) -> int | None:
        """The full query count in a data version (None or an unlisted version: ``n_queries``)."""
        return dict(self.version_n_queries).get(version or "", self.n_queries)

    @classmethod
    def from_metadata(cls, meta) -> "TaskInfo":
        def get(name):
            value = getattr(meta, name, None)
            return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        return cls(name=meta.name, benchmark=meta.benchmark, meta_task=get("meta_task"), split=get("split"),
                   modality=get("modality"), group=get("group"), main_metric=get("main_metric") or "hit@1",
                   n_queries=get("n_queries"), n_candidates=get("n_candidates"), dataset_id=get("dataset_id"),
                   version_n_queries=tuple(sorted((getattr(meta, "version_n_queries", None) or {}).items())))


class Catalog:
    """Tasks by (benchmark, name), each benchmark's tasks in canonical order."""

    def __init__(self, tasks: Iterable[TaskInfo]):
        self._tasks: dict[tuple[str, str], TaskInfo] = {}
        for t in tasks:
            self._tasks.setdefault((t.benchmark, t.name), t)

    def get(self, benchmark: str, name: str) -> TaskInfo | None:
        return self._tasks.get((benchmark, name))

    def __iter__(self) -> Iterator[TaskInfo]:
        return iter(self._tasks.values())

    def names(self, benchmark: str | None = None) -> list[str]:
        return [t.name for t in self if benchmark is None or t.benchmark == benchmark]

    @property
    def benchmarks(self) -> list[str]:
        return list(dict.fromkeys(t.benchmark for t in self))

    def tasks(self, benchmark: str) -> list[TaskInfo]:
        return [t for t in self if t.benchmark == benchmark]

    def by_modality(self, benchmark: str) -> bool:
        """Whether a benchmark is aggregated by modality and sub-category (MMEB-V2) rather than by
        meta-task and IND/OOD split (MMEB-V1)."""
        tasks = self.tasks(benchmark)
        return bool(tasks) and benchmark != "MMEB-V1" and all(t.modality and t.group for t in tasks)


def task_catalog() -> Catalog:
    """Every task mmeb knows (the registry, including other benchmarks that register themselves)."""
    from mmeb.tasks import registered_tasks

    return Catalog(TaskInfo.from_metadata(cls.metadata) for cls in registered_tasks())

"""The task registry: the 36 MMEB-V1 tasks (declared in one module per meta-task) plus the tasks of other
benchmarks, found through the ``mmeb.tasks`` entry-point group (an installed package declares
``[project.entry-points."mmeb.tasks"] name = "package.module:TASK_CLASSES"``, a sequence of Task classes;
mmeb's own offline demo registers this way) or added at run time with :func:`register_task`.

Selectors (``get_tasks``): a task name (case-insensitive, any benchmark); ``all``, ``IND``, ``OOD`` or a
meta-task (``classification``, ``vqa``, ``retrieval``, ``grounding``) within MMEB-V1; and
``<benchmark>:<group>`` (e.g. ``synthetic:OOD``) for a group of another benchmark.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points

from mmeb.errors import MMEBError, suggest
from mmeb.tasks.base import Task, TaskMetadata

__all__ = ["TASK_NAMES", "DEFAULT_BENCHMARK", "GROUPS", "Task", "TaskMetadata", "get_task", "get_tasks",
           "register_task", "registered_tasks"]

DEFAULT_BENCHMARK = "MMEB-V1"

#: the 36 MMEB-V1 tasks in the canonical report order (= the exact Hub subset names)
TASK_NAMES: tuple[str, ...] = (
    "ImageNet-1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "Place365", "ImageNet-A", "ImageNet-R",
    "ObjectNet", "Country211",
    "OK-VQA", "A-OKVQA", "DocVQA", "InfographicsVQA", "ChartQA", "Visual7W", "ScienceQA", "VizWiz", "GQA",
    "TextVQA",
    "VisDial", "CIRR", "VisualNews_t2i", "VisualNews_i2t", "MSCOCO_t2i", "MSCOCO_i2t", "NIGHTS", "WebQA",
    "FashionIQ", "Wiki-SS-NQ", "OVEN", "EDIS",
    "MSCOCO", "RefCOCO", "RefCOCO-Matching", "Visual7W-Pointing",
)
META_TASKS = ("classification", "vqa", "retrieval", "grounding")
GROUPS = ("all", "IND", "OOD", *META_TASKS)

_BUILTIN_MODULES = ("mmeb.tasks.classification", "mmeb.tasks.vqa", "mmeb.tasks.retrieval",
                    "mmeb.tasks.grounding")
#: entry-point group through which installed packages contribute benchmarks
ENTRY_POINT_GROUP = "mmeb.tasks"
_REGISTRY: dict[str, type[Task]] = {}  # lower-cased name -> class, in registration order
_loaded = False


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: add a task to the registry. Names are unique across benchmarks."""
    meta = getattr(cls, "metadata", None)
    if not isinstance(meta, TaskMetadata):
        raise TypeError(f"{cls.__name__} must declare `metadata = TaskMetadata(...)` to be registered")
    key = meta.name.lower()
    existing = _REGISTRY.get(key)
    if existing is not None and _origin(existing) != _origin(cls):
        raise ValueError(f"task name {meta.name!r} is already registered by {_origin(existing)}")
    _REGISTRY[key] = cls  # re-registering the same class (module reload) replaces it
    return cls


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _discover() -> None:
    global _loaded
    if not _loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            _register_entry_point(entry_point)
        _loaded = True


def _register_entry_point(entry_point) -> None:
    where = f"entry point {entry_point.name!r} ({entry_point.value}) of group {ENTRY_POINT_GROUP!r}"
    try:
        declared = entry_point.load()
    except Exception as exc:  # a broken third-party package must say which one it is
        raise MMEBError(f"{where} failed to load: {type(exc).__name__}: {exc}. Fix or uninstall the package "
                        "that declares it.") from exc
    classes = [declared] if isinstance(declared, type) else list(declared)
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise MMEBError(f"{where} must name a Task class or a sequence of Task classes; got {cls!r}")
        register_task(cls)


def _order_key(cls: type[Task]) -> tuple[int, int]:
    """Canonical MMEB order first, then other benchmarks' tasks in registration order."""
    name = cls.metadata.name
    if name in TASK_NAMES:
        return (0, TASK_NAMES.index(name))
    return (1, list(_REGISTRY).index(name.lower()))


def registered_tasks() -> list[type[Task]]:
    """Every registered task class, in canonical order."""
    _discover()
    return sorted(_REGISTRY.values(), key=_order_key)


def get_task(name: str) -> Task:
    """One task by (case-insensitive) name."""
    _discover()
    cls = _REGISTRY.get(name.strip().lower())
    if cls is None:
        raise suggest(name, [c.metadata.name for c in registered_tasks()], "task")
    return cls()


def _group(benchmark: str, group: str, classes: list[type[Task]]) -> list[type[Task]]:
    in_benchmark = [c for c in classes if c.metadata.benchmark.lower() == benchmark.lower()]
    if not in_benchmark:
        benchmarks = sorted({c.metadata.benchmark for c in classes})
        raise suggest(benchmark, benchmarks, "benchmark")
    g = group.lower()
    if g == "all":
        return in_benchmark
    if g in ("ind", "ood"):
        return [c for c in in_benchmark if c.metadata.split == g.upper()]
    return [c for c in in_benchmark if c.metadata.meta_task == g]


def get_tasks(selectors: str | Iterable[str] | None = None) -> list[Task]:
    """Tasks matching any selector, in canonical order, without duplicates (``None`` = all 36).

    A string may hold several selectors separated by commas or spaces (``"IND,vqa"``).
    """
    classes = registered_tasks()
    if selectors is None:
        selectors = ["all"]
    elif isinstance(selectors, str):
        selectors = [selectors]
    tokens = [t for s in selectors for t in s.replace(",", " ").split()]
    if not tokens:
        tokens = ["all"]
    group_names = {g.lower() for g in GROUPS}
    by_name = {c.metadata.name.lower(): c for c in classes}
    chosen: set[type[Task]] = set()
    for token in tokens:
        low = token.lower()
        if low in by_name:  # a task name wins over a group of the same spelling
            chosen.add(by_name[low])
        elif low in group_names:
            chosen.update(_group(DEFAULT_BENCHMARK, low, classes))
        elif ":" in low:
            benchmark, _, group = token.partition(":")
            if group.lower() not in group_names:
                raise suggest(group, GROUPS, "task group")
            chosen.update(_group(benchmark, group, classes))
        else:
            raise suggest(token, [c.metadata.name for c in classes] + list(GROUPS), "task")
    return [cls() for cls in classes if cls in chosen]

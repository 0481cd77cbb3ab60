"""The task registry: the 36 MMEB-V1 tasks (declared in one module per meta-task), the 78 MMEB-V2 tasks
(:mod:`mmeb.tasks.v2`), plus the tasks of other benchmarks, found through the ``mmeb.tasks`` entry-point group
(an installed package declares ``[project.entry-points."mmeb.tasks"] name = "package.module:TASK_CLASSES"``, a
sequence of Task classes; mmeb's own offline demo registers this way) or added at run time with
:func:`register_task`. Names are unique within a benchmark; MMEB-V2's image tasks share the MMEB-V1 names (the
official keys), so a bare name means the MMEB-V1 task and ``MMEB-V2:<name>`` the V2 one.

Selectors (``get_tasks``): a task name (case-insensitive; MMEB-V1 first, else the one task of that name);
``all``, ``IND``, ``OOD`` or a meta-task (``classification``, ``vqa``, ``retrieval``, ``grounding``) within
MMEB-V1; ``<benchmark>:<group>`` (e.g. ``synthetic:OOD``) for a group of another benchmark; for MMEB-V2
``MMEB-V2:all``, ``MMEB-V2:image|video|visdoc``, a sub-category (``MMEB-V2:video-ret``, ``MMEB-V2:V-RET``,
``MMEB-V2:visdoc-vdr1``, ...) or ``MMEB-V2:<Task>``.
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
                    "mmeb.tasks.grounding", "mmeb.tasks.v2")
#: entry-point group through which installed packages contribute benchmarks
ENTRY_POINT_GROUP = "mmeb.tasks"
_REGISTRY: dict[tuple[str, str], type[Task]] = {}  # (benchmark, name), lower-cased -> class, in registration order
_loaded = False


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: add a task to the registry. Names are unique within a benchmark."""
    meta = getattr(cls, "metadata", None)
    if not isinstance(meta, TaskMetadata) and not _is_v2_metadata(meta):
        raise TypeError(f"{cls.__name__} must declare `metadata = TaskMetadata(...)` to be registered")
    key = _key(meta.benchmark, meta.name)
    existing = _REGISTRY.get(key)
    if existing is not None and _origin(existing) != _origin(cls):
        raise ValueError(f"task name {meta.name!r} is already registered in {meta.benchmark} by "
                         f"{_origin(existing)}")
    _REGISTRY[key] = cls  # re-registering the same class (module reload) replaces it
    return cls


def _key(benchmark: str, name: str) -> tuple[str, str]:
    return benchmark.lower(), name.lower()


def _is_v2_metadata(meta) -> bool:
    from mmeb.tasks.v2.metadata import V2TaskMetadata

    return isinstance(meta, V2TaskMetadata)


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
    """Canonical MMEB-V1 order first, then MMEB-V2 in the official order, then other benchmarks' tasks in
    registration order."""
    from mmeb.tasks.v2.names import V2_TASK_NAMES

    meta = cls.metadata
    if meta.benchmark == DEFAULT_BENCHMARK and meta.name in TASK_NAMES:
        return (0, TASK_NAMES.index(meta.name))
    if meta.benchmark == "MMEB-V2" and meta.name in V2_TASK_NAMES:
        return (1, V2_TASK_NAMES.index(meta.name))
    return (2, list(_REGISTRY).index(_key(meta.benchmark, meta.name)))


def registered_tasks() -> list[type[Task]]:
    """Every registered task class, in canonical order."""
    _discover()
    return sorted(_REGISTRY.values(), key=_order_key)


def _by_name(name: str) -> type[Task] | None:
    """A bare name: the MMEB-V1 task of that name, else the first registered one; ``<benchmark>:<name>``:
    that benchmark's task."""
    name = name.strip()
    if ":" in name:
        benchmark, _, task = name.partition(":")
        return _REGISTRY.get(_key(benchmark, task))
    found = _REGISTRY.get(_key(DEFAULT_BENCHMARK, name))
    if found is None:
        found = next((c for (_, n), c in _REGISTRY.items() if n == name.lower()), None)
    return found


def get_task(name: str) -> Task:
    """One task by (case-insensitive) name, or ``<benchmark>:<name>``."""
    _discover()
    cls = _by_name(name)
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
    chosen: set[type[Task]] = set()
    for token in tokens:
        low = token.lower()
        named = None if low in group_names or ":" in low else _by_name(low)
        if named is not None:  # a task name wins over a group of the same spelling
            chosen.add(named)
        elif low in group_names:
            chosen.update(_group(DEFAULT_BENCHMARK, low, classes))
        elif ":" in low:
            benchmark, _, group = token.partition(":")
            if benchmark.lower() == "mmeb-v2":
                from mmeb.tasks.v2.names import select

                chosen.update(select(group, classes))
                continue
            if _by_name(token) is not None:
                chosen.add(_by_name(token))
                continue
            if group.lower() not in group_names:
                raise suggest(group, GROUPS, "task group")
            chosen.update(_group(benchmark, group, classes))
        else:
            raise suggest(token, [c.metadata.name for c in classes] + list(GROUPS), "task")
    return [cls() for cls in classes if cls in chosen]

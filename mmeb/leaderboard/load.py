"""Read a results tree (as ``mmeb run`` writes it, or the shipped published rows) into typed records.

Each ``*.json`` is one of: ``<Task>.json`` (a :class:`TaskResult`), ``aggregates.json`` (an
:class:`AggregateOnlyResult`, published rows only), ``model_meta.json`` (a :class:`ModelMeta`) or
``<Task>.error.json`` (a failed run: not a result, skipped); the layout is :mod:`mmeb.results.store`'s. Files that do not parse become
:class:`Problem` entries instead of exceptions, so one pass reports every bad file. A file over
``MAX_RESULT_BYTES`` or nested deeper than ``MAX_JSON_DEPTH`` is refused before it is interpreted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mmeb.leaderboard.aggregate_only import AGGREGATES_FILE, AggregateOnlyResult
from mmeb.results.schema import ModelMeta, TaskResult
from mmeb.results.store import BENCHMARK_FOLDERS, ERROR_SUFFIX, MODEL_META, json_files

#: a result file with per-query predictions for the largest task (8,564 queries) is well under 2 MiB
MAX_RESULT_BYTES = 32 * 2**20
#: result files nest about 4 levels deep; model settings may add a few
MAX_JSON_DEPTH = 32
_TOO_DEEP = object()


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be used: where, what, and how to fix it. ``unofficial`` problems (a
    ``--limit`` run, a subset or local sample of the data, an unpinned dataset) keep a result off the
    official rows but let ``mmeb leaderboard --include-unofficial`` show it, marked."""

    file: Path
    what: str
    fix: str
    unofficial: bool = False

    def __str__(self) -> str:
        return f"{self.file}: {self.what}. Fix: {self.fix}"


@dataclass
class ResultSet:
    task_results: list[tuple[Path, TaskResult]] = field(default_factory=list)
    aggregate_only: list[tuple[Path, AggregateOnlyResult]] = field(default_factory=list)
    model_meta: dict[Path, dict[str, Any]] = field(default_factory=dict)  # folder -> model_meta.json
    problems: list[Problem] = field(default_factory=list)
    n_files: int = 0
    trusted: bool = False  # the shipped published rows (package data); never a user's tree
    unofficial: dict[Path, str] = field(default_factory=dict)  # result file -> why it is not official
    n_unofficial_hidden: int = 0  # unofficial results left out (shown with --include-unofficial)

    def meta_for(self, result_file: Path) -> dict[str, Any]:
        """The model_meta.json of a result file's model folder: next to it, or one level up for a benchmark
        that keeps its results in a sub-folder (``<revision>/MMEB-V2/<Task>.json``)."""
        folder = Path(result_file).parent
        if folder not in self.model_meta and folder.name in BENCHMARK_FOLDERS.values():
            folder = folder.parent
        return self.model_meta.get(folder, {})

    def extend(self, other: ResultSet) -> None:
        self.task_results += other.task_results
        self.aggregate_only += other.aggregate_only
        self.model_meta.update(other.model_meta)
        self.problems += other.problems
        self.n_files += other.n_files
        self.unofficial.update(other.unofficial)


def _schema_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def json_depth(data: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _load_json(file: Path) -> tuple[Any, Problem | None]:
    size = file.stat().st_size
    if size > MAX_RESULT_BYTES:
        return None, Problem(file, f"is {size / 2**20:.1f} MiB, over the {MAX_RESULT_BYTES // 2**20} MiB limit of "
                                   f"a result file", "submit the files `mmeb run` writes, one per task")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except RecursionError:  # the parser's own limit: far too deep
        data = _TOO_DEEP
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Problem(file, f"is not readable JSON ({exc})", "re-export the file; result files are UTF-8 JSON")
    if data is _TOO_DEEP or json_depth(data) > MAX_JSON_DEPTH:
        return None, Problem(file, f"nests JSON deeper than {MAX_JSON_DEPTH} levels",
                             "submit the files `mmeb run` writes; result files are shallow")
    return data, None


def read_results(path: str | Path, *, trusted: bool = False, allow_empty: bool = False) -> ResultSet:
    """Parse every JSON file under ``path`` (a file or a folder, recursively). ``trusted`` only for the
    shipped published rows: elsewhere a file may not mark itself published or be an aggregate-only row.
    ``allow_empty``: a folder without result files is no problem (a leaderboard before the first run)."""
    path = Path(path)
    out = ResultSet(trusted=trusted)
    if not path.exists():
        out.problems.append(Problem(path, "does not exist", "pass a result file or a results folder"))
        return out
    for file in json_files(path):
        if file.name.endswith(ERROR_SUFFIX):
            continue  # a failure record of `mmeb run`, never a score
        out.n_files += 1
        data, problem = _load_json(file)
        if problem is not None:
            out.problems.append(problem)
            continue
        if file.name == MODEL_META:
            try:
                out.model_meta[file.parent] = ModelMeta.model_validate(data).model_dump(exclude_none=True)
            except ValidationError as exc:
                out.problems.append(Problem(file, f"is not a valid model_meta.json: {_schema_message(exc)}",
                                            "keep the model_meta.json `mmeb run` wrote (see docs/submitting.md)"))
            continue
        if not trusted and file.name == AGGREGATES_FILE:
            out.problems.append(Problem(file, "is an aggregate-only row; only the shipped published rows may "
                                              "come without per-task results",
                                        "submit one result file per task as `mmeb run` writes them"))
            continue
        kind = AggregateOnlyResult if file.name == AGGREGATES_FILE else TaskResult
        try:
            record = kind.model_validate(data)
        except ValidationError as exc:
            what = "aggregate-only row" if kind is AggregateOnlyResult else "task result"
            out.problems.append(Problem(file, f"is not a valid {what}: {_schema_message(exc)}",
                                        "produce result files with `mmeb run` (or see docs/submitting.md "
                                        "for the schema) and do not edit them by hand"))
            continue
        if not trusted and record.published is not None:
            out.problems.append(Problem(file, "marks itself `published`; published reference rows ship with "
                                              "mmeb and cannot be submitted",
                                        "remove the `published` field: a submission is your own run"))
            continue
        if isinstance(record, AggregateOnlyResult):
            out.aggregate_only.append((file, record))
        else:
            out.task_results.append((file, record))
    if out.n_files == 0 and not out.problems and not allow_empty:
        out.problems.append(Problem(path, "holds no result files (*.json)",
                                    "point at the folder `mmeb run --output-dir` wrote"))
    return out

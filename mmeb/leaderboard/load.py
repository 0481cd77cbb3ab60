"""Read a results tree (as ``mmeb run`` writes it, plus published rows) into typed records.

Each ``*.json`` is one of: ``<Task>.json`` (a :class:`TaskResult`), ``aggregates.json`` (an
:class:`AggregateOnlyResult`), ``model_meta.json`` (free-form model facts written by ``mmeb run``) or
``<Task>.error.json`` (a failed run: not a result, skipped). Files that do not parse become
:class:`Problem` entries instead of exceptions, so one pass reports every bad file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mmeb.leaderboard.aggregate_only import AGGREGATES_FILE, AggregateOnlyResult
from mmeb.results.io import ERROR_SUFFIX, MODEL_META
from mmeb.results.schema import TaskResult


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be used: where, what, and how to fix it."""

    file: Path
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}. Fix: {self.fix}"


@dataclass
class ResultSet:
    task_results: list[tuple[Path, TaskResult]] = field(default_factory=list)
    aggregate_only: list[tuple[Path, AggregateOnlyResult]] = field(default_factory=list)
    model_meta: dict[Path, dict[str, Any]] = field(default_factory=dict)  # folder -> model_meta.json
    problems: list[Problem] = field(default_factory=list)
    n_files: int = 0


def _schema_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def _json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json") if p.is_file() and not p.name.startswith("."))
    return []


def read_results(path: str | Path) -> ResultSet:
    """Parse every JSON file under ``path`` (a file or a folder, recursively)."""
    path = Path(path)
    out = ResultSet()
    if not path.exists():
        out.problems.append(Problem(path, "does not exist", "pass a result file or a results folder"))
        return out
    for file in _json_files(path):
        if file.name.endswith(ERROR_SUFFIX):
            continue  # a failure record of `mmeb run`, never a score
        out.n_files += 1
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            out.problems.append(Problem(file, f"is not readable JSON ({exc})",
                                        "re-export the file; result files are UTF-8 JSON"))
            continue
        if file.name == MODEL_META:
            if isinstance(data, dict):
                out.model_meta[file.parent] = data
            else:
                out.problems.append(Problem(file, "model_meta.json must hold a JSON object",
                                            "rewrite it as written by `mmeb run`"))
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
        if isinstance(record, AggregateOnlyResult):
            out.aggregate_only.append((file, record))
        else:
            out.task_results.append((file, record))
    if out.n_files == 0 and not out.problems:
        out.problems.append(Problem(path, "holds no result files (*.json)",
                                    "point at the folder `mmeb run --output-dir` wrote"))
    return out

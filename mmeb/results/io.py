"""Where result files live, how they are written (atomically), and when a task counts as done.

Layout (as MTEB: one folder per model and revision, so two revisions never overwrite each other)::

    <output_dir>/<model name, "/" -> "__">/<model revision or "no_revision">/<Task>.json
                                                                            /<Task>.error.json  (last failure)
                                                                            /model_meta.json
                                                                            /MMEB-V2/<Task>.json

MMEB-V2 results live in their own folder: its image tasks share the MMEB-V1 task names.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mmeb.errors import DataError
from mmeb.results.schema import TaskResult

NO_REVISION = "no_revision"
MODEL_META = "model_meta.json"
ERROR_SUFFIX = ".error.json"


def model_dir(output_dir: str | os.PathLike, model_name: str, revision: str | None) -> Path:
    safe_name = model_name.replace("/", "__").replace("\\", "__")
    safe_revision = (revision or NO_REVISION).replace("/", "__").replace("\\", "__")
    if safe_name in ("", ".", "..") or safe_revision in (".", ".."):
        raise ValueError(f"cannot build a result folder from model name {model_name!r} / revision {revision!r}")
    return Path(output_dir) / safe_name / safe_revision


#: benchmarks whose results live in a sub-folder of the model folder (task names shared with MMEB-V1)
BENCHMARK_FOLDERS = {"MMEB-V2": "MMEB-V2"}


def _task_dir(output_dir, model_name: str, revision: str | None, benchmark: str | None) -> Path:
    folder = model_dir(output_dir, model_name, revision)
    sub = BENCHMARK_FOLDERS.get(benchmark or "")
    return folder / sub if sub else folder


def result_path(output_dir: str | os.PathLike, model_name: str, revision: str | None, task_name: str,
                benchmark: str | None = None) -> Path:
    return _task_dir(output_dir, model_name, revision, benchmark) / f"{task_name}.json"


def error_path(output_dir: str | os.PathLike, model_name: str, revision: str | None, task_name: str,
               benchmark: str | None = None) -> Path:
    return _task_dir(output_dir, model_name, revision, benchmark) / f"{task_name}{ERROR_SUFFIX}"


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, indent=2, ensure_ascii=False, default=str)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_result(result: TaskResult, output_dir: str | os.PathLike) -> Path:
    """Write one task result and clear any earlier failure record of that task."""
    path = result_path(output_dir, result.model.name, result.model.revision, result.task_name, result.benchmark)
    atomic_write_json(path, result.model_dump_json(indent=2, exclude_none=True))
    error_path(output_dir, result.model.name, result.model.revision, result.task_name,
               result.benchmark).unlink(missing_ok=True)
    return path


def write_error(output_dir, model_name: str, revision: str | None, task_name: str, error: dict,
                benchmark: str | None = None) -> Path:
    return atomic_write_json(error_path(output_dir, model_name, revision, task_name, benchmark), error)


def write_model_meta(output_dir, model_name: str, revision: str | None, meta: dict) -> Path:
    return atomic_write_json(model_dir(output_dir, model_name, revision) / MODEL_META, meta)


def load_result(path: str | os.PathLike) -> TaskResult:
    path = Path(path)
    try:
        return TaskResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise DataError(f"result file {str(path)!r} is not a valid mmeb result: {exc}") from exc


def read_complete(path: str | os.PathLike) -> TaskResult | None:
    """The result at ``path`` if it exists and validates, else None (missing, partial or corrupt)."""
    try:
        return load_result(path)
    except (OSError, DataError):
        return None


AGGREGATES_FILE = "aggregates.json"  # published aggregate-only rows (mmeb.leaderboard.aggregate_only)


def load_results(directory: str | os.PathLike) -> list[TaskResult]:
    """Every task result under ``directory`` (recursively), skipping model metadata, error records and
    aggregate-only rows. (``mmeb.leaderboard.load`` reads a tree with every kind of file and reports problems.)"""
    results = []
    for path in sorted(Path(directory).rglob("*.json")):
        if path.name in (MODEL_META, AGGREGATES_FILE) or path.name.endswith(ERROR_SUFFIX):
            continue
        results.append(load_result(path))
    return results

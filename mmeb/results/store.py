"""The results store: the only code that knows the layout of a results tree.

Layout (as MTEB: one folder per model and revision, so two revisions never overwrite each other)::

    <root>/<model folder>/<revision folder>[+<configuration>]/<Task>.json        one task result
                                                             /<Task>.error.json  the task's last failure
                                                             /model_meta.json    the loaded model's facts
                                                             /MMEB-V2/<Task>.json  (its image tasks share
                                                                                    the MMEB-V1 names)
    <root>/.mmeb/loads/<request digest>.json      which model identity a load request gave (see engine)

Folder names come from the model's name and revision: ``/`` becomes ``__`` and every character that is
awkward in a shell or on Windows (``: * ? " < > |``, spaces) becomes ``_``; names that would leave the
folder (``..``), hold control characters or are over-long are refused. A run with the default scoring
settings writes to ``<revision>``; any other configuration (see :mod:`mmeb.results.key`) gets
``<revision>+<configuration digest>``, so two configurations never overwrite each other's files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from mmeb.errors import ConfigError, DataError
from mmeb.results.io import atomic_write_json
from mmeb.results.schema import TaskResult

NO_REVISION = "no_revision"
MODEL_META = "model_meta.json"
ERROR_SUFFIX = ".error.json"
SUPERSEDED_DIR = ".superseded"  # stale results set aside by a failed recompute (hidden: dot folder)
AGGREGATES_FILE = "aggregates.json"  # published aggregate-only rows (mmeb.leaderboard.aggregate_only)
INTERNAL_DIR = ".mmeb"  # bookkeeping of the store itself, never a result
CONFIG_SEPARATOR = "+"
#: benchmarks whose results live in a sub-folder of the model folder (task names shared with MMEB-V1)
BENCHMARK_FOLDERS = {"MMEB-V2": "MMEB-V2"}
MAX_COMPONENT = 150  # characters of one folder name (file systems allow 255 bytes)

_AWKWARD = re.compile(r'[:*?"<>|\s]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_component(value: str, what: str) -> str:
    """A folder name for ``value``; a one-line :class:`ConfigError` when it cannot be one."""
    if _CONTROL.search(value):
        raise ConfigError(f"{what} {value!r} contains a control character (NUL, newline, ...); "
                          "give a name of printable characters")
    name = _AWKWARD.sub("_", value.replace("/", "__").replace("\\", "__"))
    if name.strip(".") == "":
        raise ConfigError(f"{what} {value!r} cannot name a results folder (it is empty or only dots); "
                          "give the model a real name")
    if len(name) > MAX_COMPONENT:
        raise ConfigError(f"{what} is {len(value)} characters long (at most {MAX_COMPONENT}): "
                          f"{value[:40]!r}...; give a shorter name")
    return name


MAX_SPEC = 1024  # characters of a model spec (a path, Hub id or plug-in spec)


def check_spec(value: str, what: str) -> None:
    """Refuse a model spec or requested revision that no loader could use, in one line: control characters
    (NUL, newline), over-long names, and revisions that would name a parent folder (``..``)."""
    if _CONTROL.search(value):
        raise ConfigError(f"{what} {value[:60]!r} contains a control character (NUL, newline, ...); "
                          "give a name of printable characters")
    longest = max((len(part) for part in re.split(r"[/\\]", value)), default=0)
    if len(value) > MAX_SPEC or longest > 255:
        raise ConfigError(f"{what} is too long ({len(value)} characters, {longest} in one path part; at most "
                          f"{MAX_SPEC} and 255): {value[:40]!r}...")
    if what != "--model" and (value.strip(".") == "" or ".." in re.split(r"[/\\]", value)):
        raise ConfigError(f"{what} {value!r} is not a revision (it names a folder such as '..'); give a "
                          "commit hash, branch or tag")


def check_name(value: str | None, what: str) -> None:
    """Refuse a model name or revision that cannot name a results folder (before any model is loaded)."""
    if value is not None:
        safe_component(value, what)


@dataclass(frozen=True)
class Location:
    """Where one configuration of one model lives."""

    folder: Path

    def _tasks(self, benchmark: str | None) -> Path:
        sub = BENCHMARK_FOLDERS.get(benchmark or "")
        return self.folder / sub if sub else self.folder

    def result(self, task_name: str, benchmark: str | None = None) -> Path:
        return self._tasks(benchmark) / f"{task_name}.json"

    def error(self, task_name: str, benchmark: str | None = None) -> Path:
        return self._tasks(benchmark) / f"{task_name}{ERROR_SUFFIX}"

    def superseded(self, task_name: str, benchmark: str | None = None) -> Path:
        """Where a stored result goes when a run wanted another scoring key and failed: kept, but hidden
        (a dot folder) from the leaderboard and from reuse."""
        return self._tasks(benchmark) / SUPERSEDED_DIR / f"{task_name}.json"

    @property
    def model_meta(self) -> Path:
        return self.folder / MODEL_META


class ResultsStore:
    """A results tree rooted at ``root``: paths, writing and reading."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def check_writable(self) -> None:
        """The results folder, created if absent; a one-line ConfigError when no result could be written
        there (checked before a model is loaded, not after the first task)."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"--output-dir {str(self.root)!r} is a file, not a folder; give a folder for the "
                              "results (it is created if absent)")
        probe = self.root / f".write-test-{os.getpid()}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"--output-dir {str(self.root)!r} is not a writable folder ({exc.strerror or exc}); "
                              "give another folder") from exc

    # -- layout --------------------------------------------------------------------------------------
    def location(self, model_name: str, revision: str | None, configuration: str | None = None) -> Location:
        """``configuration`` is None for the default scoring settings, else a short digest."""
        folder = safe_component(revision or NO_REVISION, "model revision")
        if configuration:
            folder = f"{folder}{CONFIG_SEPARATOR}{safe_component(configuration, 'configuration')}"
        return Location(self.root / safe_component(model_name, "model name") / folder)

    def result_path(self, model_name: str, revision: str | None, task_name: str,
                    configuration: str | None = None, benchmark: str | None = None) -> Path:
        return self.location(model_name, revision, configuration).result(task_name, benchmark)

    def load_record_path(self, request_digest: str) -> Path:
        return self.root / INTERNAL_DIR / "loads" / f"{request_digest}.json"

    # -- writing -------------------------------------------------------------------------------------
    def write_result(self, result: TaskResult, location: Location) -> Path:
        """Write one task result and clear any earlier failure record of that task."""
        path = atomic_write_json(location.result(result.task_name, result.benchmark),
                                 result.model_dump_json(indent=2, exclude_none=True))
        location.error(result.task_name, result.benchmark).unlink(missing_ok=True)
        return path

    def write_error(self, location: Location, task_name: str, error: dict, benchmark: str | None = None) -> Path:
        return atomic_write_json(location.error(task_name, benchmark), error)

    def set_aside(self, location: Location, task_name: str, benchmark: str | None = None) -> Path | None:
        """Move a stored result that no longer answers the run (its data, settings or code changed and the
        recompute failed) out of sight: the leaderboard must not go on showing it as current."""
        path, target = location.result(task_name, benchmark), location.superseded(task_name, benchmark)
        if not path.is_file():
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target

    def write_model_meta(self, location: Location, meta: dict) -> Path:
        return atomic_write_json(location.model_meta, meta)

    def read_model_meta(self, location: Location) -> dict | None:
        try:
            data = json.loads(location.model_meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_load_record(self, request_digest: str, record: dict) -> None:
        if self.read_load_record(request_digest) == record:
            return  # a rerun that loads the same model again (to retry a failed task) leaves it untouched
        atomic_write_json(self.load_record_path(request_digest), record)

    def read_load_record(self, request_digest: str) -> dict | None:
        try:
            data = json.loads(self.load_record_path(request_digest).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- reading -------------------------------------------------------------------------------------
    def read_complete(self, path: Path) -> TaskResult | None:
        """The result at ``path`` if it exists and validates, else None (missing, partial or corrupt)."""
        return read_complete(path)

    def results(self) -> list[TaskResult]:
        """Every task result in the tree; a file that is not a valid result raises :class:`DataError`.
        (:mod:`mmeb.leaderboard.load` reads a tree with every kind of file and reports problems.)"""
        return [load_result(path) for path in result_files(self.root)]


def load_result(path: str | os.PathLike) -> TaskResult:
    path = Path(path)
    try:
        return TaskResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise DataError(f"result file {str(path)!r} is not a valid mmeb result: {exc}") from exc


def read_complete(path: str | os.PathLike) -> TaskResult | None:
    try:
        return load_result(path)
    except (OSError, DataError):
        return None


def json_files(path: Path) -> list[Path]:
    """Every ``*.json`` of a tree (or the file itself), skipping hidden files and the store's bookkeeping."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*.json") if p.is_file() and not _hidden(p.relative_to(path)))


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def result_files(path: Path) -> Iterator[Path]:
    """The task-result files of a tree: no model metadata, error records or aggregate-only rows."""
    for file in json_files(Path(path)):
        if file.name not in (MODEL_META, AGGREGATES_FILE) and not file.name.endswith(ERROR_SUFFIX):
            yield file

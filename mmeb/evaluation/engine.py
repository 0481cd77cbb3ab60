"""The evaluation engine: one code path for every task and every model.

Per task: load the data (the next task's on a background thread), encode each unique query and candidate
once (cached, batched by size, decoded on worker threads or processes, sharded under torchrun), rank every
query's own candidate list on the device, score, and write one result file atomically. A stored result is
reused only when its scoring key matches (:mod:`mmeb.evaluation.reuse`); when every selected task is reusable
the model is not even loaded. A task failing at any stage (writing included) is recorded in
``<Task>.error.json`` and the run moves on.

The model protocol (:mod:`mmeb.models.protocol`) asks for ``encode(inputs, **context)`` only. The engine
also uses these optional members when a model has them:

* ``name``, ``revision``, ``settings`` (dict of plain JSON values), ``metadata`` (dict) - recorded in results;
  name, revision, settings and (for a model defined outside mmeb) the sha256 of its source file form the
  model part of the scoring key and the embedding cache's identity;
* ``to(device)`` - called once before encoding;
* the **fast path** ``prepare(inputs, *, task_name, role) -> batch`` + ``embed(batch) -> tensor [n, dim]``:
  ``prepare`` must be CPU-only and thread-safe (it runs on the loader's thread pool, or in the run's
  worker processes with ``loader="processes"``: tokenising and image preprocessing overlap the forward
  pass); ``embed`` runs in the main process on the device.
  ``encode(inputs)`` must equal ``embed(prepare(inputs))``; pass ``fast_path=False`` to force ``encode``.
"""

from __future__ import annotations

import logging
import platform
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal

import torch

from mmeb._version import __version__
from mmeb.errors import ConfigError, MMEBError, ModelOutputError
from mmeb.data.v2.items import PoolTaskData
from mmeb.evaluation import distributed, reuse
from mmeb.evaluation.cache import EmbeddingCache, check_cache_dir
from mmeb.evaluation.corpus import evaluate_pool_task, submit_pool_task
from mmeb.evaluation.encoding import LOADERS, EncodeOptions, Encoder, RoleJob
from mmeb.evaluation.graded import NDCG_RULES, NdcgRule
from mmeb.evaluation.image_identity import ImageIdentity
from mmeb.evaluation.metrics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, compute_scores
from mmeb.evaluation.progress import make_progress
from mmeb.evaluation.ranking import normalise_rows, rank_candidates
from mmeb.results import key as keys
from mmeb.results.schema import (
    DatasetInfo,
    EvaluationInfo,
    HarnessInfo,
    ModelInfo,
    Prediction,
    ScoringKey,
    TaskResult,
    TieRule,
    Timings,
)
from mmeb.results.store import Location, ResultsStore
from mmeb.tasks.base import Task
from mmeb.tasks.v2.metadata import DATA_VERSIONS
from mmeb.units import format_percent

Similarity = Literal["cosine", "dot"]
log = logging.getLogger("mmeb")
LIBRARIES = ("torch", "torchvision", "transformers", "numpy", "pillow", "sentence-transformers", "open_clip_torch",
             "peft")


class EvaluationFailed(MMEBError):
    """Some tasks failed; the others completed. ``results`` holds what completed, ``failures`` the errors."""

    def __init__(self, results: list[TaskResult], failures: dict[str, str]):
        self.results, self.failures = results, failures
        listed = "; ".join(f"{task}: {message}" for task, message in failures.items())
        super().__init__(f"{len(failures)} task(s) failed: {listed}")


@dataclass
class TaskOutcome:
    task_name: str
    status: Literal["done", "skipped", "failed"]
    result: TaskResult | None = None
    error: str | None = None
    seconds: float = 0.0
    recomputed_because: str | None = None  # a stored result existed but its scoring key differed


@dataclass
class RunReport:
    model_name: str
    model_revision: str | None
    outcomes: list[TaskOutcome] = field(default_factory=list)
    output_dir: Path | None = None
    encode_calls: int = 0  # model calls made by this process (0 on a fully cached rerun)
    encode_stats: dict = field(default_factory=dict)  # where the encoding time went (EncodeStats)
    model_loaded: bool = True  # False when every task was reused without loading the model

    @property
    def results(self) -> list[TaskResult]:
        return [o.result for o in self.outcomes if o.result is not None]

    @property
    def failures(self) -> dict[str, str]:
        return {o.task_name: o.error or "" for o in self.outcomes if o.status == "failed"}


#: RunSettings fields that change scores: recorded in every result and part of its scoring key (the data
#: choices ``data_dir`` / ``dataset_revision`` / ``data_version`` enter the key as the dataset's resolved
#: revision; ``preprocess`` enters it through the model's settings)
SCORE_CHANGING = ("ties", "similarity", "limit", "bootstrap_resamples", "bootstrap_seed", "ndcg", "data_dir",
                  "dataset_revision", "data_version", "preprocess")
#: fields that never change a score: where things go, how fast, what is shown
NOT_SCORE_CHANGING = ("output_dir", "batch_size", "num_workers", "device", "cache_dir", "overwrite",
                      "save_predictions", "fast_path", "loader", "progress", "progress_interval",
                      "max_batch_tokens")


@dataclass
class RunSettings:
    """Everything besides model and tasks that shapes a run: see SCORE_CHANGING / NOT_SCORE_CHANGING."""

    data_dir: str | None = None
    output_dir: str | None = None
    batch_size: int = 32
    num_workers: int = 2
    device: str = "auto"
    cache_dir: str | None = None
    overwrite: bool = False
    ties: TieRule = "fractional"
    similarity: Similarity = "cosine"
    save_predictions: bool = False
    limit: int | None = None
    dataset_revision: str | None = None
    fast_path: bool = True
    loader: Literal["threads", "processes"] = "threads"  # where images are decoded (never changes scores)
    max_batch_tokens: int | None = None  # token-budget batches (VLMs); never changes scores
    preprocess: Literal["reference", "device"] = "reference"  # device: score-changing, in the model settings
    progress: bool = True  # bars in a terminal, plain lines in logs (mmeb.evaluation.progress)
    progress_interval: float | None = None  # seconds between progress lines (None: $MMEB_PROGRESS_INTERVAL or 15)
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES
    bootstrap_seed: int = BOOTSTRAP_SEED
    ndcg: NdcgRule = "correct"  # MMEB-V2 graded NDCG: each document its own grade, or the official pairing
    data_version: str | None = None  # MMEB-V2 data version (None = the current Hub data, v2.1)

    def check(self) -> None:
        if self.ties not in ("fractional", "v1"):
            raise ConfigError(f"ties must be 'fractional' or 'v1', got {self.ties!r}")
        if self.similarity not in ("cosine", "dot"):
            raise ConfigError(f"similarity must be 'cosine' or 'dot', got {self.similarity!r}")
        if self.ndcg not in NDCG_RULES:
            raise ConfigError(f"ndcg must be one of {NDCG_RULES}, got {self.ndcg!r}")
        if self.data_version is not None and self.data_version not in DATA_VERSIONS:
            raise ConfigError(f"data_version must be one of {DATA_VERSIONS}, got {self.data_version!r}")
        if self.loader not in LOADERS:
            raise ConfigError(f"loader must be one of {LOADERS}, got {self.loader!r}")
        if self.preprocess not in ("reference", "device"):
            raise ConfigError(f"preprocess must be 'reference' or 'device', got {self.preprocess!r}")
        if self.max_batch_tokens is not None and self.max_batch_tokens < 1:
            raise ConfigError(f"max_batch_tokens must be >= 1, got {self.max_batch_tokens}")
        if self.bootstrap_resamples < 1:
            raise ConfigError(f"bootstrap_resamples must be >= 1, got {self.bootstrap_resamples}")

        if self.batch_size < 1 or self.num_workers < 0 or (self.limit is not None and self.limit < 1):
            raise ConfigError(f"need batch_size >= 1, num_workers >= 0, limit >= 1 (got {self.batch_size}, "
                              f"{self.num_workers}, {self.limit})")

    def evaluation_key(self, benchmark: str | None = None) -> dict:
        """The evaluation part of the scoring key: of the run (the folder's configuration; the NDCG rule only
        when not the default) or of one benchmark's tasks (MMEB-V2 tasks always record their NDCG rule)."""
        extra = {"ndcg": self.ndcg} if benchmark == "MMEB-V2" or self.ndcg != "correct" else {}
        return {**keys.evaluation_key(tie_rule=self.ties, similarity=self.similarity, limit=self.limit,
                                      bootstrap_resamples=self.bootstrap_resamples,
                                      bootstrap_seed=self.bootstrap_seed), **extra}


def evaluate(model: Any, tasks: str | Task | Iterable[str | Task], *, raise_errors: bool = True,
             **settings: Any) -> list[TaskResult]:
    """Evaluate ``model`` (an object with ``encode`` or a spec string for :func:`mmeb.load_model`) on ``tasks``
    (selectors such as ``"ImageNet-1K"``/``"retrieval"``/``"all"`` or Task objects).

    Keyword settings: see :class:`RunSettings` (``data_dir``, ``output_dir``, ``batch_size``, ``device``,
    ``cache_dir``, ``overwrite``, ``ties``, ``save_predictions``, ``num_workers``, ``limit``, ...). Results are
    written only when ``output_dir`` is given. Every task is attempted; if some fail and ``raise_errors``,
    :class:`EvaluationFailed` is raised at the end (it carries the completed results).
    """
    report = run_evaluation(model, tasks, RunSettings(**settings))
    if report.failures and raise_errors:
        raise EvaluationFailed(report.results, report.failures)
    return report.results


def _task_id(task: Task) -> tuple[str, str]:
    return task.metadata.benchmark, task.name


def resolve_tasks(tasks: str | Task | Iterable[str | Task]) -> list[Task]:
    from mmeb.tasks import get_tasks

    items = [tasks] if isinstance(tasks, (str, Task)) else list(tasks)
    resolved: list[Task] = []
    for entry in items:
        found = [entry] if isinstance(entry, Task) else get_tasks(entry)
        # MMEB-V2's image tasks share the MMEB-V1 names: a task is its (benchmark, name)
        resolved.extend(t for t in found if _task_id(t) not in {_task_id(r) for r in resolved})
    if not resolved:
        raise ConfigError("no tasks selected")
    return resolved


def resolve_model(model: Any, *, device: torch.device, **load_kwargs: Any) -> Any:
    """A spec string goes through :func:`mmeb.models.load_model`; a model object is used as it is."""
    if not isinstance(model, str):
        return model
    from mmeb.models import load_model

    return load_model(model, device=str(device), **load_kwargs)


def model_info(model: Any) -> ModelInfo:
    """What a result records of the model. Settings and metadata must be plain JSON (they are recorded and
    hashed): anything else is refused here, once, when the model loads - not per task when writing."""
    from mmeb.results.store import check_name

    name = str(getattr(model, "name", None) or type(model).__name__)
    revision = getattr(model, "revision", None)
    settings = getattr(model, "settings", None) or {}
    meta = getattr(model, "metadata", None) or {}
    if not isinstance(settings, dict):
        raise ConfigError(f"model {name!r}: `settings` must be a dict, got {type(settings).__name__}")
    for what, value in (("settings", settings), ("metadata", meta if isinstance(meta, dict) else {})):
        bad = keys.unserialisable(dict(value), what)
        if bad:
            raise ConfigError(f"model {name!r}: {bad}; {what} are written into every result, so they must be "
                              "plain JSON values")
    if revision is not None and not isinstance(revision, str):
        raise ConfigError(f"model {name!r}: `revision` must be a string, got {type(revision).__name__}")
    check_name(name, "model name")
    check_name(revision, "model revision")
    return ModelInfo(name=name, revision=revision, settings=dict(settings),
                     metadata=dict(meta) if isinstance(meta, dict) else {})


def run_evaluation(model: Any, tasks: str | Task | Iterable[str | Task], settings: RunSettings,
                   **load_kwargs: Any) -> RunReport:
    """Evaluate every task; never stops at a failing task. The CLI builds its summary from the report."""
    settings.check()
    _check_requests(model, settings, load_kwargs)
    if settings.cache_dir:
        check_cache_dir(settings.cache_dir)  # before loading or encoding anything
    store = ResultsStore(settings.output_dir) if settings.output_dir else None
    if store is not None:
        store.check_writable()  # before loading or encoding anything
    device = distributed.local_device(settings.device)
    created = distributed.init_if_launched(device)
    displays = ExitStack()
    try:
        task_list = resolve_tasks(tasks)
        progress = displays.enter_context(make_progress(enabled=settings.progress and distributed.is_main(),
                                                        interval=settings.progress_interval))
        planner = _Planner(store, settings)
        request = (reuse.load_request(model, device.type, load_kwargs, settings.preprocess)
                   if store is not None and not settings.overwrite else None)
        remembered = store.read_load_record(request) if request else None
        if remembered and isinstance(remembered.get("identity"), dict):
            done = planner.all_reusable(task_list, remembered["identity"])
            if done is not None:  # every task done with a matching key: no model load
                identity = remembered["identity"]
                report = RunReport(identity["name"], identity.get("revision"), output_dir=store.root,
                                   model_loaded=False)
                report.outcomes = [TaskOutcome(r.task_name, "skipped", r) for r in done]
                return report
        if progress is not None:
            progress.note(f"loading model {model if isinstance(model, str) else type(model).__name__}")
        started = time.perf_counter()
        spec = model if isinstance(model, str) else None
        model = resolve_model(model, device=device, **load_kwargs)
        if callable(getattr(model, "to", None)):
            model = model.to(device) or model  # nn.Module.to returns self; some adapters return None
        if settings.preprocess != "reference":
            if not callable(getattr(model, "set_preprocess", None)):
                raise ConfigError(f"model {getattr(model, 'name', type(model).__name__)} cannot preprocess images "
                                  f"on the device (--preprocess {settings.preprocess}); use --preprocess reference")
            model.set_preprocess(settings.preprocess)  # recorded in the model's settings (score-changing)
        load_s = time.perf_counter() - started
        info = model_info(model)
        identity = keys.model_identity(info.name, info.revision, info.settings, reuse.code_sha256(model),
                                       sources=reuse.source_fingerprints(spec, load_kwargs))
        report = RunReport(info.name, info.revision, output_dir=store.root if store else None)
        location = None
        if store is not None:
            location, config = reuse.location_for(store, identity, planner.evaluation)
            if distributed.is_main():
                store.write_model_meta(location, {
                    **info.model_dump(), "identity": identity, "configuration": config,
                    "evaluation": planner.evaluation, "mmeb_version": __version__, "load_s": round(load_s, 3),
                    "device": describe_device(device)})
                if request:
                    store.write_load_record(request, {"spec": spec, "identity": identity})
        cache = EmbeddingCache(settings.cache_dir, identity) if settings.cache_dir else None
        options = EncodeOptions(batch_size=settings.batch_size, num_workers=settings.num_workers, device=device,
                                fast_path=settings.fast_path, loader=settings.loader,
                                max_batch_tokens=settings.max_batch_tokens)
        # stored results are read once each, up front: this run only writes tasks it does not reuse
        previous = [planner.stored(task, identity, location) for task in task_list]
        with Encoder(model, options, cache, progress, ImageIdentity(settings.cache_dir)) as encoder, \
                _TaskLoader(settings, encoder) as loader:
            for i, task in enumerate(task_list):
                stored, why = previous[i]
                if stored is not None:
                    report.outcomes.append(TaskOutcome(task.name, "skipped", stored))
                    continue
                if why:
                    log.warning("recomputing %s: %s", task.name, why)
                # the next task to run loads on a background thread while this one encodes
                upcoming = next((t for t, p in zip(task_list[i + 1:], previous[i + 1:]) if p[0] is None), None)
                outcome = _run_task(task, encoder, info, identity, settings, device, loader, store, location,
                                    upcoming)
                outcome.recomputed_because = why
                if outcome.status == "failed" and why and why != NO_PREDICTIONS and store is not None \
                        and location is not None and distributed.is_main():
                    # the stored result answers other data / settings / code: left in place, the leaderboard
                    # would go on showing it as this configuration's current score
                    moved = store.set_aside(location, task.name, task.metadata.benchmark)
                    if moved is not None:
                        log.warning("%s: its stored result (%s) was moved to %s", task.name, why, moved)
                report.outcomes.append(outcome)
                distributed.barrier()  # rank 0 finished writing before anyone checks the next task
        report.encode_calls = encoder.encode_calls
        report.encode_stats = encoder.stats.as_dict()
        return report
    finally:
        displays.close()
        distributed.shutdown(created)


def _data_options(task: Task, settings: RunSettings) -> dict:
    kwargs = {"revision": settings.dataset_revision} if settings.dataset_revision else {}
    if settings.data_version and task.metadata.benchmark == "MMEB-V2":
        kwargs["data_version"] = settings.data_version
    return kwargs


def _dataset_key(task_name: str, data: Any) -> dict:
    """The dataset part of the scoring key, from loaded data."""
    key = {"id": data.dataset_id, "subset": task_name, "revision": data.revision}
    if getattr(data, "data_version", ""):
        key["version"] = data.data_version
    return key


def _check_requests(model: Any, settings: RunSettings, load_kwargs: dict) -> None:
    """Names no loader could use fail here, in one line, before anything loads."""
    from mmeb.results.store import check_spec

    if isinstance(model, str):
        check_spec(model, "--model")
    for what, value in (("--revision", load_kwargs.get("revision")),
                        ("--dataset-revision", settings.dataset_revision)):
        if isinstance(value, str):
            check_spec(value, what)


class _Planner:
    """The scoring key of each task, and whether its stored result can be reused."""

    def __init__(self, store: ResultsStore | None, settings: RunSettings):
        self.store, self.settings = store, settings
        self.evaluation = settings.evaluation_key()
        self.datasets: dict[tuple[str, str], dict | None] = {}

    def dataset_key(self, task: Task) -> dict | None:
        """id, subset and resolved revision of the task's data (None when it cannot be found: the task
        then runs and reports why). A task with its own ``load`` is loaded to learn its revision."""
        if _task_id(task) not in self.datasets:
            kwargs = _data_options(task, self.settings)
            try:
                if type(task).load is Task.load:
                    from mmeb.data.loader import resolve_source

                    revision = resolve_source(task.metadata, self.settings.data_dir, **kwargs)[2]
                    self.datasets[_task_id(task)] = {"id": task.metadata.dataset_id, "subset": task.name,
                                                "revision": revision}
                else:
                    self.datasets[_task_id(task)] = _dataset_key(task.name, task.load(data_dir=self.settings.data_dir,
                                                                                 **kwargs))
            except Exception:  # noqa: BLE001 - the task's own run reports the problem
                self.datasets[_task_id(task)] = None
        return self.datasets[_task_id(task)]

    def stored(self, task: Task, identity: dict, location: Location | None) -> tuple[TaskResult | None, str | None]:
        """(the stored result, None) when it can be reused, else (None, why it is recomputed or None)."""
        if self.store is None or location is None or self.settings.overwrite:
            return None, None
        benchmark = task.metadata.benchmark
        if not location.result(task.name, benchmark).exists():
            return None, None
        dataset = self.dataset_key(task)
        if dataset is None:
            return None, None
        wanted = keys.scoring_key(dataset=dataset, model=identity,
                                  evaluation=self.settings.evaluation_key(benchmark))
        stored, why = reuse.reusable(self.store, location, task.name, wanted, benchmark)
        if stored is not None and self.settings.save_predictions and stored.predictions is None:
            return None, NO_PREDICTIONS
        return stored, why

    def all_reusable(self, task_list: list[Task], identity: dict) -> list[TaskResult] | None:
        location, _ = reuse.location_for(self.store, identity, self.evaluation)
        done = []
        for task in task_list:
            stored, _ = self.stored(task, identity, location)
            if stored is None:
                return None
            done.append(stored)
        return done


#: why a stored result with the wanted scoring key is recomputed all the same (it stays valid meanwhile)
NO_PREDICTIONS = "its result holds no per-query predictions (--save-predictions asks for them)"


@dataclass
class _LoadedTask:
    data: Any
    rows: list
    query_ids: list[int]
    candidate_ids: list[list[int]]
    jobs: tuple[RoleJob, RoleJob]


class _TaskLoader:
    """Loads task data on one background thread, a task ahead of the encoding (parsing a 1000 x 1000
    candidate task takes ~0.5 s of Python: hidden behind the previous task's encoding), and submits its
    roles to the encoder there, so their planning and first batches overlap the previous task's encoding."""

    def __init__(self, settings: RunSettings, encoder: Encoder):
        self.settings, self.encoder = settings, encoder
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="mmeb-load")
        self.futures: dict[tuple[str, str], Future] = {}

    def __enter__(self) -> _TaskLoader:
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def prefetch(self, task: Task) -> None:
        if _task_id(task) not in self.futures:
            self.futures[_task_id(task)] = self.pool.submit(self._load, task)

    def get(self, task: Task):
        future = self.futures.pop(_task_id(task), None)
        return future.result() if future is not None else self._load(task)

    def _load(self, task: Task) -> _LoadedTask:
        data = task.load(data_dir=self.settings.data_dir, **_data_options(task, self.settings))
        if isinstance(data, PoolTaskData):  # MMEB-V2: a candidate pool, global or local ranking
            return submit_pool_task(task, data, self.encoder, self.settings.limit)
        rows = data.rows[: self.settings.limit] if self.settings.limit else data.rows
        if not rows:
            raise MMEBError(f"task {task.name}: no query rows in {data.source}")
        queries, query_ids, candidates, candidate_ids = index_rows(rows)
        jobs = (self.encoder.submit(queries, data.images, task_name=task.name, role="query", group=data),
                self.encoder.submit(candidates, data.images, task_name=task.name, role="candidate", group=data))
        return _LoadedTask(data, rows, query_ids, candidate_ids, jobs)


def _run_task(task: Task, encoder: Encoder, info: ModelInfo, identity: dict, settings: RunSettings,
              device: torch.device, loader: _TaskLoader, store: ResultsStore | None, location: Location | None,
              upcoming: Task | None = None) -> TaskOutcome:
    """Evaluate and write one task; a failure at any stage (writing included) becomes its error record."""
    started = time.perf_counter()
    name = task.name
    if encoder.progress is not None:
        encoder.progress.note(f"{name}: loading data and encoding")
    try:
        result = evaluate_task(task, encoder, info, settings, device, loader, upcoming, identity=identity)
        if store is not None and location is not None and distributed.is_main():
            store.write_result(result, location)
    except Exception as exc:  # isolate the failure: record it, go on with the next task
        message = str(exc) if isinstance(exc, MMEBError) else f"{type(exc).__name__}: {exc}"
        if store is not None and location is not None and distributed.is_main():
            try:
                store.write_error(location, name, {
                    "task_name": name, "error_type": type(exc).__name__, "message": message,
                    "traceback": traceback.format_exc(), "date": datetime.now(timezone.utc).isoformat()},
                    task.metadata.benchmark)
            except Exception as write_exc:  # noqa: BLE001 - e.g. the disk is full: say so, go on
                message += f" (and its error record could not be written: {write_exc})"
        if encoder.progress is not None:
            encoder.progress.note(f"{name}: failed ({message})")
        return TaskOutcome(name, "failed", error=message, seconds=time.perf_counter() - started)
    if encoder.progress is not None:
        encoder.progress.note(f"{name}: {result.main_metric} {format_percent(result.main_score)}% "
                              f"({result.n_queries} queries, {time.perf_counter() - started:.1f} s)")
    return TaskOutcome(name, "done", result, seconds=time.perf_counter() - started)


def index_rows(rows: Sequence) -> tuple[list, list[int], list, list[list[int]]]:
    """Unique queries and candidates by content (``Item.key``) and, per row, the ids into them."""
    queries, candidates = _Interner(), _Interner()
    query_ids = [queries.index([row.query])[0] for row in rows]
    candidate_ids = [candidates.index(row.candidates) for row in rows]
    return queries.items, query_ids, candidates.items, candidate_ids


class _Interner:
    """Content ids of items. The loader shares one Item object per distinct candidate, so most lookups go by
    object identity at C speed (a 1000 x 1000 task: ~0.1 s instead of ~1 s); content keys decide the rest."""

    def __init__(self) -> None:
        self.items: list = []
        self.by_key: dict = {}
        self.by_object: dict[int, int] = {}  # id(item) -> content id; the rows keep the items alive

    def index(self, items: Sequence) -> list[int]:
        ids = list(map(self.by_object.get, map(id, items)))
        if None in ids:
            for i, item in enumerate(items):
                if ids[i] is None:
                    ids[i] = self.by_object[id(item)] = self._by_content(item)
        return ids

    def _by_content(self, item) -> int:
        key = item.key
        if key not in self.by_key:
            self.by_key[key] = len(self.items)
            self.items.append(item)
        return self.by_key[key]


def evaluate_task(task: Task, encoder: Encoder, info: ModelInfo, settings: RunSettings,
                  device: torch.device, loader: _TaskLoader, upcoming: Task | None = None, *,
                  identity: dict | None = None) -> TaskResult:
    name = task.name
    t0 = time.perf_counter()
    loaded = loader.get(task)
    if upcoming is not None:
        loader.prefetch(upcoming)
    identity = identity or keys.model_identity(info.name, info.revision, info.settings)
    if isinstance(loaded.data, PoolTaskData):
        result = evaluate_pool_task(task, loaded, encoder, info, settings, device, t0, harness=harness_info(),
                                    device_name=describe_device(device))
        key = keys.scoring_key(dataset=_dataset_key(name, loaded.data), model=identity,
                               evaluation=settings.evaluation_key(task.metadata.benchmark))
        return result.model_copy(update={"scoring_key": ScoringKey(**key)})
    data, rows, query_ids = loaded.data, loaded.rows, loaded.query_ids
    t1 = time.perf_counter()
    try:
        query = encoder.result(loaded.jobs[0])
        candidate = encoder.result(loaded.jobs[1])
    finally:
        for job in loaded.jobs:
            encoder.discard(job)
    query_emb, candidate_emb = query.matrix, candidate.matrix
    # content identity by image bytes: the same picture under two paths is one candidate (ties, dedup)
    first: dict[str, int] = {}
    canonical = [first.setdefault(key, i) for i, key in enumerate(candidate.keys)]
    candidate_ids = [[canonical[c] for c in ids] for ids in loaded.candidate_ids]
    if query_emb.shape[1] != candidate_emb.shape[1]:
        raise ModelOutputError(f"task {name}: query embeddings have dim {query_emb.shape[1]} but candidate "
                               f"embeddings have dim {candidate_emb.shape[1]}; both roles must share one space")
    for role, emb in (("query", query_emb), ("candidate", candidate_emb)):
        if not bool(torch.isfinite(emb).all()):
            raise ModelOutputError(f"task {name}: the model returned non-finite {role} embeddings (inf or nan); "
                                   "no score can be computed from them - check the model's dtype and pooling")
    if settings.similarity == "cosine":
        query_emb, candidate_emb = normalise_rows(query_emb), normalise_rows(candidate_emb)
    t2 = time.perf_counter()

    try:
        outcome = rank_candidates(query_emb, candidate_emb, query_ids, candidate_ids, device=device)
    except ModelOutputError as exc:
        raise ModelOutputError(f"task {name}: {exc}") from exc
    predictions = [Prediction(top1=int(a), rank=int(b), tie_size=int(c))
                   for a, b, c in zip(outcome.top1, outcome.rank, outcome.tie_size)]
    scores = compute_scores(predictions, settings.ties, resamples=settings.bootstrap_resamples,
                            seed=settings.bootstrap_seed)
    t3 = time.perf_counter()

    meta = task.metadata
    scoring_key = keys.scoring_key(dataset=_dataset_key(name, data), model=identity,
                                   evaluation=settings.evaluation_key(meta.benchmark))
    return TaskResult(
        task_name=name, benchmark=meta.benchmark, meta_task=meta.meta_task, split=meta.split,
        main_score=scores.hit_at_1,
        n_queries=len(rows), scores=scores, tie_rule=settings.ties,
        dataset=DatasetInfo(id=data.dataset_id, revision=data.revision, subset=name, source=data.source,
                            null_texts=getattr(data, "null_texts", 0) or None),
        model=info, harness=harness_info(), device=describe_device(device),
        timings=Timings(load_s=t1 - t0, encode_s=t2 - t1, rank_s=t3 - t2, total_s=t3 - t0),
        evaluation=EvaluationInfo(similarity=settings.similarity, limit=settings.limit,
                                  bootstrap_resamples=settings.bootstrap_resamples,
                                  bootstrap_seed=settings.bootstrap_seed, batch_size=settings.batch_size,
                                  world_size=distributed.world_size()),
        date=datetime.now(timezone.utc), predictions=predictions if settings.save_predictions else None,
        scoring_key=ScoringKey(**scoring_key))


def harness_info() -> HarnessInfo:
    versions = {}
    for library in LIBRARIES:
        try:
            versions[library] = importlib_metadata.version(library)
        except importlib_metadata.PackageNotFoundError:
            pass
    return HarnessInfo(mmeb_version=__version__, python=platform.python_version(), libraries=versions)


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device} ({platform.processor() or platform.machine()})"

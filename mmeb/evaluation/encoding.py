"""Encode the unique items of each (task, role) once, as one continuous pipeline over the whole run.

Per role (:mod:`mmeb.evaluation.planning`, on a planner thread, as soon as the role is submitted): cache keys
from each image's content hash (remembered facts, or one read of the bytes), cache lookup, one representative
per content, size-sorted batches. Batches are then decoded and preprocessed off the main thread and embedded
by the main thread in submission order. The engine submits a task's roles when its data has loaded, a task
ahead, so the next role's and the next task's first batches are prepared while the current ones finish: the
model never waits for a refill between roles or tasks.

Where the decoding and preprocessing run (``EncodeOptions.loader``):

* ``"threads"`` (default) - one thread pool for the whole run keeps ``2 x num_workers`` batches in flight
  across role and task boundaries. PIL decoding and resizing and the torch ops of the processors release
  the GIL, nothing is pickled, and a prepared batch is handed over by reference (pinned off the main thread
  for a GPU). ``prepare`` must be thread-safe.
* ``"processes"`` - one pool of worker processes for the whole run (forked once, when the encoder starts,
  so they inherit the model's ``prepare``), fed by the same continuous queue: a batch travels as its items
  and the image bytes read while planning, and comes back through shared memory. No GIL is shared between
  workers, so this is the setting that scales past a few workers on a many-core machine. Where ``fork`` does
  not exist (Windows), DataLoader worker processes per role.

Two ways to call a model (see also :mod:`mmeb.evaluation.engine`):

* protocol path - workers decode images into :class:`~mmeb.models.protocol.ModelInput`; the main process
  calls ``model.encode(inputs, task_name=..., role=..., batch_size=..., device=...)``.
* fast path - when the model also has ``prepare(inputs, *, task_name, role) -> batch`` (CPU tensors,
  picklable) and ``embed(batch) -> tensor``, workers run ``prepare`` (tokenise, resize, normalise) and the
  main process only runs ``embed``.

Optional model hook: ``token_count(width, height, text) -> int`` sizes items for ``max_batch_tokens``.
"""

from __future__ import annotations

import collections
import hashlib
import io
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mmeb.data.items import ImageStore, Item
from mmeb.errors import DataError, MMEBError, ModelOutputError
from mmeb.evaluation import distributed
from mmeb.evaluation.cache import EmbeddingCache
from mmeb.evaluation.image_identity import ImageIdentity
from mmeb.evaluation.planning import RolePlan, media_paths, plan_batches, plan_role, read_image
from mmeb.evaluation.progress import role_noun
from mmeb.models.protocol import ModelInput

__all__ = ["LOADERS", "EncodeOptions", "EncodeStats", "EncodedRole", "Encoder", "has_fast_path", "plan_batches",
           "to_embedding_matrix"]


@dataclass
class EncodeOptions:
    batch_size: int = 32
    num_workers: int = 2
    device: torch.device = torch.device("cpu")
    fast_path: bool = True  # use prepare/embed when the model offers both
    loader: Literal["threads", "processes"] = "threads"  # checked by RunSettings.check
    max_batch_tokens: int | None = None  # batches capped by image + text tokens instead of batch_size


LOADERS = ("threads", "processes")


@dataclass
class EncodeStats:
    """Where a run's encoding time went (seconds, summed over tasks and roles; main thread's view)."""

    plan_s: float = 0.0  # waiting for a role's plan (image facts, cache lookup, batches)
    wait_s: float = 0.0  # waiting for the next prepared batch (the pipeline not keeping up)
    gap_s: float = 0.0  # waiting for the first batch of a role, every role but the run's first
    model_s: float = 0.0  # embed()/encode() and the output checks
    cache_s: float = 0.0  # cache stores
    images_read: int = 0  # image files read (each at most once per role; 0 on a warm rerun)
    roles: int = 0
    batches: int = 0
    items: int = 0

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass
class EncodedRole:
    matrix: torch.Tensor  # [n_items, dim] float32, in the items' order
    keys: list[str]  # content key per item (texts + image sha256): equal keys are the same content


def has_fast_path(model: Any) -> bool:
    return callable(getattr(model, "prepare", None)) and callable(getattr(model, "embed", None))


# -- workers -------------------------------------------------------------------------------------------

@dataclass
class _WorkerFailure:
    """Returned (not raised) by workers, so the main process re-raises the error with a clean message
    instead of the DataLoader's wrapped worker traceback."""

    error: MMEBError


def _as_failure(exc: Exception, where: str) -> _WorkerFailure:
    if isinstance(exc, MMEBError):
        try:
            return _WorkerFailure(type(exc)(str(exc)))  # a fresh copy pickles across processes
        except Exception:
            return _WorkerFailure(MMEBError(str(exc)))
    return _WorkerFailure(MMEBError(f"{where}: {type(exc).__name__}: {exc}"))


class _RoleDataset(Dataset):
    """Row -> ModelInput, decoding the bytes read while planning (read again only past the held budget)."""

    def __init__(self, items: Sequence[Item], images: ImageStore | None, plan: RolePlan, task_name: str,
                 role: str):
        self.items, self.images, self.plan, self.task_name, self.role = items, images, plan, task_name, role

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[int, ModelInput | _WorkerFailure]:
        try:
            return index, self._input(index)
        except Exception as exc:
            return index, _as_failure(exc, f"task {self.task_name}, {self.role} {self.items[index].raw_text[:60]!r}")

    def _input(self, index: int) -> ModelInput:
        item = self.items[index]
        image = self._decode(item, item.image_path) if item.has_image else None
        frames = getattr(item, "frames", ())
        video = tuple(self._decode(item, path) for path in frames) if frames else None
        return ModelInput(instruction=item.instruction, text=item.text, image=image, raw_text=item.raw_text,
                          frames=video)

    def _decode(self, item: Item, path: str):
        data = self.plan.held.get(path)
        if data is None:
            data = read_image(self.images, item, self.task_name, self.role, path)
            if hashlib.sha256(data).hexdigest() != self.plan.facts[path].sha256:
                raise DataError(f"task {self.task_name}, {self.role} image {path!r} changed while "
                                "the run was reading it; run again")
        try:
            return _decode(data)
        except Exception as exc:
            where = getattr(self.images, "location", "the image store")
            raise DataError(f"task {self.task_name}, {self.role} image {path!r}: cannot decode it "
                            f"from {where} ({exc}). The file is corrupt or not an image; re-download the "
                            "images (`mmeb download`).") from exc


def _decode(data: bytes):
    """Pixels in the file's own mode, as the protocol promises (adapters convert when they need RGB: no
    extra copy of an image that is RGB already)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class _Collate:
    """Runs in the workers: the fast path's ``prepare`` happens here, off the main process."""

    def __init__(self, prepare: Callable | None, task_name: str, role: str):
        self.prepare, self.task_name, self.role = prepare, task_name, role

    def __call__(self, batch: list[tuple[int, ModelInput]]):
        indices = [index for index, _ in batch]
        inputs = [model_input for _, model_input in batch]
        failures = [x for x in inputs if isinstance(x, _WorkerFailure)]
        if failures or self.prepare is None:
            return indices, failures[0] if failures else inputs
        try:
            return indices, _retry_borrowed(lambda: self.prepare(inputs, task_name=self.task_name, role=self.role))
        except Exception as exc:
            return indices, _as_failure(exc, f"task {self.task_name}, role {self.role}: model.prepare() failed")


def _retry_borrowed(call: Callable, attempts: int = 5):
    """A fast (Rust) tokenizer sets its padding/truncation state on first use; a thread encoding at that
    moment gets "RuntimeError: Already borrowed". The state is set once, so a retry succeeds."""
    for attempt in range(attempts):
        try:
            return call()
        except RuntimeError as exc:
            if "Already borrowed" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def _pinned(prepared):
    """Pin the CPU tensors of a prepared batch (in the pool thread) so the copy to the GPU is fast."""
    indices, payload = prepared
    if isinstance(payload, dict):
        try:
            payload = {k: v.pin_memory() if torch.is_tensor(v) and v.device.type == "cpu" and v.numel() > 4096
                       else v for k, v in payload.items()}
        except RuntimeError:  # pinned host memory exhausted: pageable tensors copy too, only slower
            pass
    return indices, payload


_PROCESS_PREPARE: Callable | None = None  # the model's prepare, in a pool worker process (set before the fork)


def _process_init(prepare: Callable | None) -> None:
    """Runs once in each pool worker process: one intra-op thread, as DataLoader workers have."""
    global _PROCESS_PREPARE
    _PROCESS_PREPARE = prepare
    torch.set_num_threads(1)


def _process_batch(dataset: "_RoleDataset"):
    """One batch in a pool worker process: ``dataset`` holds just the batch's items (rows 0..n-1)."""
    return _Collate(_PROCESS_PREPARE, dataset.task_name, dataset.role)([dataset[i] for i in range(len(dataset))])


def _batch_dataset(job: "RoleJob", plan: RolePlan, batch: list[int]) -> _RoleDataset:
    """What a worker process needs for one batch: its items, their image facts and the bytes read while
    planning; the image store only when some bytes were not held (it is read again there)."""
    items = [job.items[i] for i in batch]
    paths = {path for item in items for path in media_paths(item)}
    held = {path: plan.held[path] for path in paths if path in plan.held}
    facts = {path: plan.facts[path] for path in paths if path in plan.facts}
    sub = RolePlan(keys=[], cached={}, batches=[], same={}, facts=facts, held=held)
    return _RoleDataset(items, job.images if len(held) < len(paths) else None, sub, job.task_name, job.role)


def _fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def to_embedding_matrix(output: Any, n_inputs: int, task_name: str, role: str) -> torch.Tensor:
    """Check one model call's output and return it as a float32 CPU tensor [n_inputs, dim]."""
    where = f"task {task_name}, role {role}"
    if isinstance(output, torch.Tensor):
        matrix = output.detach().to(device="cpu", dtype=torch.float32)
    elif isinstance(output, np.ndarray) or (isinstance(output, (list, tuple)) and len(output) > 0):
        try:
            matrix = torch.from_numpy(np.asarray(output, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise ModelOutputError(f"{where}: encode() returned {type(output).__name__} that is not a numeric "
                                   f"array ({exc}); return a numpy array or torch tensor [n_inputs, dim]") from exc
    else:
        raise ModelOutputError(f"{where}: encode() returned {type(output).__name__}, not an array; "
                               "return a numpy array or torch tensor of shape [n_inputs, dim]")
    if matrix.ndim != 2 or matrix.shape[0] != n_inputs or matrix.shape[1] == 0:
        raise ModelOutputError(f"{where}: encode() returned shape {tuple(matrix.shape)} for {n_inputs} inputs; "
                               f"expected [{n_inputs}, dim] with dim > 0")
    if not torch.isfinite(matrix).all():
        bad = int((~torch.isfinite(matrix)).any(dim=1).sum())
        raise ModelOutputError(f"{where}: encode() returned NaN or inf in {bad} of {n_inputs} rows")
    return matrix


# -- the main process ------------------------------------------------------------------------------------

class RoleJob:
    """One role of one task in the pipeline: planned on the planner thread, encoded by ``Encoder.result``."""

    def __init__(self, items: Sequence[Item], images: ImageStore | None, task_name: str, role: str,
                 group: object | None = None):
        self.items, self.images, self.task_name, self.role = items, images, task_name, role
        self.group = group  # the roles of one task share it: a worker death in one drops the others
        self.planned: Future = Future()
        self.local: list[list[int]] = []  # this rank's batches
        self.submitted = 0  # batches handed to the pool so far
        self.failed = False
        self.dropped = False  # its task already failed: never prepared


class Encoder:
    """Turns each submitted (task, role)'s unique items into an embedding matrix in the items' order.

    ``submit`` (any thread) queues a role and starts planning it; ``result`` (the main thread, in submission
    order) encodes it; ``discard`` drops a role that will not be asked for. ``encode`` does both at once.
    Use as a context manager (or call ``close``) to stop the worker threads.
    """

    def __init__(self, model: Any, options: EncodeOptions, cache: EmbeddingCache | None = None,
                 progress=None, identity: ImageIdentity | None = None):
        self.model, self.options, self.cache, self.progress = model, options, cache, progress
        self.identity = identity or ImageIdentity(None)
        self.fast = options.fast_path and has_fast_path(model)
        self.encode_calls = 0  # model calls made by this process (tests count them)
        self.stats = EncodeStats()
        workers = max(0, options.num_workers)
        self._threads = workers > 0 and options.loader == "threads"
        self._processes = workers > 0 and options.loader == "processes" and _fork_available()
        self._depth = 2 * workers
        self._cache_lock = threading.Lock()
        self._queue_lock = threading.RLock()  # guards _queue and _inflight (the planner tops up too)
        self._queue: collections.deque[RoleJob] = collections.deque()
        self._inflight: collections.deque[tuple[RoleJob, Future]] = collections.deque()
        self._pool: ThreadPoolExecutor | ProcessPoolExecutor | None = None
        if self._processes:
            self._pool = self._start_processes()  # before this encoder starts any thread of its own
        elif self._threads:
            # one intra-op thread per worker, as worker processes have: torch ops in the processors would
            # otherwise each start a full OpenMP team and take the cores the forward pass needs
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="mmeb-prepare",
                                            initializer=torch.set_num_threads, initargs=(1,))
        self._planner = ThreadPoolExecutor(1, thread_name_prefix="mmeb-plan") if workers else None
        self._readers = ThreadPoolExecutor(workers, thread_name_prefix="mmeb-read") if workers else None

    def _start_processes(self) -> ProcessPoolExecutor:
        """Fork the worker processes now: they inherit the model's prepare (never pickled); one intra-op
        thread each."""
        pool = ProcessPoolExecutor(self.options.num_workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_process_init, initargs=(self.model.prepare if self.fast else None,))
        pool.submit(int).result()  # a fork-context pool starts all its workers on the first call
        return pool

    def _restart_processes(self, failed: RoleJob) -> None:
        """A worker process died (the pool is broken): start a new pool; the batches other tasks' roles had
        in flight are prepared again there. ``failed``'s own batches are dropped by ``discard``, and the other
        roles of its task are dropped here (their task has failed: preparing them could only break the new
        pool under the next task)."""
        with self._queue_lock:
            broken, self._pool = self._pool, self._start_processes()
            for job in self._queue:
                if job is not failed and failed.group is not None and job.group is failed.group:
                    job.dropped = True
            for owner, _ in self._inflight:
                if owner is not failed and not owner.dropped:
                    owner.submitted -= 1
            self._inflight = collections.deque((o, f) for o, f in self._inflight
                                               if o is failed or o.dropped)
        broken.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for pool in (self._pool, self._planner, self._readers):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    # ---------------------------------------------------------------- submitting and planning
    def submit(self, items: Sequence[Item], images: ImageStore | None, *, task_name: str, role: str,
               group: object | None = None) -> RoleJob:
        """Queue one role; ``group`` ties the roles of one task together (see ``RoleJob.group``)."""
        job = RoleJob(items, images, task_name, role, group)
        with self._queue_lock:
            self._queue.append(job)
        if self._planner is not None:
            self._planner.submit(self._plan, job)
        else:
            self._plan(job)
        return job

    def _plan(self, job: RoleJob) -> None:
        try:
            plan = plan_role(job.items, job.images, task_name=job.task_name, role=job.role,
                             identity=self.identity, cache_get=self._cache_get, readers=self._readers,
                             batch_size=self.options.batch_size, max_batch_tokens=self.options.max_batch_tokens,
                             token_count=getattr(self.model, "token_count", None))
            job.local = plan.batches[distributed.rank()::distributed.world_size()]  # strided: big and small
            job.planned.set_result(plan)
        except BaseException as exc:  # handed to result()
            job.failed = True
            job.planned.set_exception(exc)
        if self._pool is not None:
            self._top_up()  # a role planned while the main thread is busy starts preparing at once

    def _cache_get(self, keys: list[str]) -> dict:
        if self.cache is None or not keys:
            return {}
        with self._cache_lock:
            return self.cache.get(keys)

    # ---------------------------------------------------------------- the prepare pool
    def _prepare(self, job: RoleJob, batch: list[int]):
        plan = job.planned.result()
        dataset = _RoleDataset(job.items, job.images, plan, job.task_name, job.role)
        out = _Collate(self.model.prepare if self.fast else None, job.task_name, job.role)(
            [dataset[i] for i in batch])
        return _pinned(out) if self._pool is not None and self.options.device.type == "cuda" else out

    def _top_up(self) -> None:
        """Keep the pool ``2 x workers`` batches ahead, in submission order, across role and task boundaries."""
        with self._queue_lock:
            for job in list(self._queue):
                if len(self._inflight) >= self._depth or not job.planned.done():
                    return  # never skip ahead of a role still planning: batches leave in submission order
                if job.failed or job.dropped:
                    continue
                while job.submitted < len(job.local) and len(self._inflight) < self._depth:
                    batch = job.local[job.submitted]
                    try:
                        future = (self._pool.submit(_process_batch, _batch_dataset(job, job.planned.result(), batch))
                                  if self._processes else self._pool.submit(self._prepare, job, batch))
                    except RuntimeError:  # the pool is shut down (the run is ending)
                        return
                    self._inflight.append((job, future))
                    job.submitted += 1

    def _batches(self, job: RoleJob, plan: RolePlan):
        if self._pool is not None:
            for batch in job.local:
                self._top_up()
                with self._queue_lock:
                    owner, future = self._inflight.popleft()
                assert owner is job, "roles must be encoded in submission order"
                if not self._processes:
                    yield future.result()
                    continue
                try:
                    _, payload = future.result()
                except BrokenProcessPool as exc:
                    self._restart_processes(job)
                    raise MMEBError(f"task {job.task_name}, {role_noun(job.role)}: a worker process died while "
                                    "preparing a batch (killed for memory?); run again with fewer --num-workers or "
                                    "with --loader threads") from exc
                prepared = (batch, payload)  # the worker numbered the batch's rows 0..n-1
                yield _pinned(prepared) if self.options.device.type == "cuda" else prepared
            return
        dataset = _RoleDataset(job.items, job.images, plan, job.task_name, job.role)
        collate = _Collate(self.model.prepare if self.fast else None, job.task_name, job.role)
        if self.options.loader == "processes" and self.options.num_workers and len(job.local) > 1:
            yield from DataLoader(dataset, batch_sampler=job.local, collate_fn=collate,
                                  num_workers=self.options.num_workers,
                                  pin_memory=self.options.device.type == "cuda")
            return
        for batch in job.local:
            yield collate([dataset[i] for i in batch])

    def discard(self, job: RoleJob) -> None:
        """Forget a submitted role (its task failed): its queued batches are dropped."""
        with self._queue_lock:
            if job in self._queue:
                self._queue.remove(job)
            for owner, future in self._inflight:
                if owner is job:
                    future.cancel()
            self._inflight = collections.deque((o, f) for o, f in self._inflight if o is not job)
            job.submitted = len(job.local)

    # ---------------------------------------------------------------- the main thread
    def encode(self, items: Sequence[Item], images: ImageStore | None, *, task_name: str,
               role: str) -> torch.Tensor:
        return self.result(self.submit(items, images, task_name=task_name, role=role)).matrix

    def result(self, job: RoleJob) -> EncodedRole:
        with self._queue_lock:
            ahead = list(self._queue)[: list(self._queue).index(job)] if job in self._queue else []
        for abandoned in ahead:
            self.discard(abandoned)
        started = time.perf_counter()
        error: BaseException | None = None
        plan: RolePlan | None = None
        rows: list[int] = []
        parts: list[torch.Tensor] = []
        bar = None
        try:
            if job.dropped:
                raise MMEBError(f"task {job.task_name}, {role_noun(job.role)}: not encoded (a worker process died "
                                "in another role of the task)")
            plan = job.planned.result()
            self.stats.plan_s += time.perf_counter() - started
            self.stats.images_read += plan.images_read
            n_fresh = sum(len(b) for b in plan.batches)
            if self.progress is not None:
                bar = self.progress.add_task(f"{job.task_name} {role_noun(job.role)}", total=n_fresh)
            rows, parts = self._run(job, plan, bar, started)
            if len({part.shape[1] for part in parts}) > 1:  # before the gather: every rank must learn of it
                dims = sorted({part.shape[1] for part in parts})
                raise ModelOutputError(f"task {job.task_name}, role {job.role}: batches returned different "
                                       f"dims {dims}")
        except Exception as exc:  # re-raised below, after the other ranks learn of it
            error = exc
        finally:
            self.discard(job)
            if self._pool is not None:
                self._top_up()  # the next role's batches start now, while this one is assembled
            if bar is not None:
                self.progress.remove_task(bar)
        self.stats.roles += 1
        agreed = (hashlib.sha256(repr(plan.batches).encode()).hexdigest()
                  if plan is not None and distributed.active() else None)
        distributed.raise_if_any_failed(error, agreed, f"task {job.task_name}, role {job.role}")
        assert plan is not None
        fresh = torch.cat(parts) if parts else torch.zeros((0, 0))
        rows, fresh = distributed.gather_rows(rows, fresh)
        if self.cache is not None and distributed.is_main() and len(rows):
            begun = time.perf_counter()
            with self._cache_lock:
                self.cache.put([plan.keys[i] for i in rows], fresh.numpy(), remember=not distributed.active())
            self.stats.cache_s += time.perf_counter() - begun
        matrix = self._assemble(len(job.items), plan, rows, fresh, job.task_name, job.role)
        return EncodedRole(matrix, plan.keys)

    def _run(self, job: RoleJob, plan: RolePlan, bar, started: float) -> tuple[list[int], list[torch.Tensor]]:
        rows: list[int] = []
        parts: list[torch.Tensor] = []
        stream = self._batches(job, plan)
        first = True
        try:
            with torch.inference_mode():
                while True:
                    begun = time.perf_counter()
                    prepared = next(stream, None)
                    waited = time.perf_counter() - begun
                    self.stats.wait_s += waited
                    if first and self.stats.roles > 0:
                        self.stats.gap_s += time.perf_counter() - started
                    first = False
                    if prepared is None:
                        break
                    indices, payload = prepared
                    begun = time.perf_counter()
                    if isinstance(payload, _WorkerFailure):
                        raise payload.error
                    if self.fast:
                        output = self.model.embed(payload)
                    else:
                        output = self.model.encode(payload, task_name=job.task_name, role=job.role,
                                                   batch_size=self.options.batch_size,
                                                   device=str(self.options.device))
                    self.encode_calls += 1
                    parts.append(to_embedding_matrix(output, len(indices), job.task_name, job.role))
                    rows.extend(indices)
                    self.stats.model_s += time.perf_counter() - begun
                    self.stats.batches += 1
                    self.stats.items += len(indices)
                    if bar is not None:
                        self.progress.advance(bar, len(indices) * distributed.world_size())
        finally:
            stream.close()
        return rows, parts

    def _assemble(self, n: int, plan: RolePlan, fresh_rows: list[int], fresh: torch.Tensor,
                  task_name: str, role: str) -> torch.Tensor:
        cached = plan.cached
        used = {plan.keys[i] for i in range(n)} & cached.keys()
        dims = {cached[k].shape[0] for k in used} | ({fresh.shape[1]} if len(fresh_rows) else set())
        if len(dims) > 1:
            raise ModelOutputError(f"task {task_name}, role {role}: cached and new embeddings differ in dim "
                                   f"{sorted(dims)}; clear the cache folder {self.cache.directory}")
        if not dims:
            raise ModelOutputError(f"task {task_name}, role {role}: no items to encode")
        if len(fresh_rows) != len(plan.same) or set(fresh_rows) != plan.same.keys():
            raise MMEBError(f"task {task_name}, role {role}: the ranks planned different items to encode (the "
                            "embedding cache changed while they planned); run again")
        out = torch.empty((n, dims.pop()), dtype=torch.float32)
        for position, rep in enumerate(fresh_rows):
            out[torch.as_tensor(plan.same[rep])] = fresh[position]
        for i, key in enumerate(plan.keys):
            if key in cached:
                out[i] = torch.from_numpy(np.asarray(cached[key]))
        return out

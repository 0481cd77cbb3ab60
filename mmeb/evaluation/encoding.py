"""Encode a task's unique items once: probe (image hash + size), cache lookup, size-sorted batches decoded
and preprocessed off the main thread, model call, validation, gather across ranks, cache store, order restored.

Where the decoding and preprocessing run (``EncodeOptions.loader``):

* ``"threads"`` (default) - a thread pool in this process keeps ``2 x num_workers`` batches in flight. PIL
  decoding and resizing and the torch ops of the processors release the GIL, nothing is pickled, and a
  prepared batch (for a VLM at high resolution, hundreds of MB of patches) is handed over by reference and
  pinned off the main thread. ``prepare`` must be thread-safe.
* ``"processes"`` - DataLoader worker processes: each pool is a fork of this process (slow for a process
  holding a large model) and each batch crosses process boundaries through shared memory.

Measured (bench/README.md), threads vs processes end to end: H100, warm, CLIP ViT-L/14 383 vs 376 items/s,
Qwen2-VL-2B 35.9 vs ~32 items/s; 2 CPU cores, CLIP ViT-B/16 14.6 vs 15.5 items/s (there the forward needs
both cores and any preprocessing takes them from it).

Two ways to call a model (see also :mod:`mmeb.evaluation.engine`):

* protocol path - workers decode images into :class:`~mmeb.models.protocol.ModelInput`; the main process
  calls ``model.encode(inputs, task_name=..., role=..., batch_size=..., device=...)``.
* fast path - when the model also has ``prepare(inputs, *, task_name, role) -> batch`` (CPU tensors,
  picklable) and ``embed(batch) -> tensor``, workers run ``prepare`` (tokenise, resize, normalise) and the
  main process only runs ``embed``: the GPU never waits for the CPU-side preprocessing.
"""

from __future__ import annotations

import collections
import hashlib
import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mmeb.data.items import ImageStore, Item
from mmeb.errors import DataError, MMEBError, ModelOutputError
from mmeb.evaluation import distributed
from mmeb.evaluation.cache import EmbeddingCache, item_key
from mmeb.models.protocol import ModelInput

@dataclass
class EncodeOptions:
    batch_size: int = 32
    num_workers: int = 2
    device: torch.device = torch.device("cpu")
    fast_path: bool = True  # use prepare/embed when the model offers both
    loader: Literal["threads", "processes"] = "threads"  # checked by RunSettings.check


LOADERS = ("threads", "processes")


@dataclass
class EncodeStats:
    """Where a run's encoding time went (seconds, summed over tasks and roles; main thread's view)."""

    probe_s: float = 0.0  # image hashes and sizes
    wait_s: float = 0.0  # waiting for the next prepared batch (the pipeline not keeping up)
    model_s: float = 0.0  # embed()/encode() and the output checks
    cache_s: float = 0.0  # cache lookups and stores
    batches: int = 0
    items: int = 0

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


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


class _ProbeDataset(Dataset):
    """Per item: sha256 of the raw image bytes (cache key) and pixel count (batch ordering)."""

    def __init__(self, items: Sequence[Item], images: ImageStore | None, task_name: str, role: str):
        self.items, self.images, self.task_name, self.role = items, images, task_name, role

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[str | None, int] | _WorkerFailure:
        try:
            return self._probe(index)
        except Exception as exc:
            return _as_failure(exc, f"task {self.task_name}, {self.role} image {self.items[index].image_path!r}")

    def _probe(self, index: int) -> tuple[str | None, int]:
        item = self.items[index]
        if not item.has_image:
            return None, 0
        raw = _read_image_bytes(self.images, item, self.task_name, self.role)
        try:
            from PIL import Image

            with Image.open(io.BytesIO(raw)) as image:  # header only: no pixel decoding here
                width, height = image.size
        except Exception as exc:
            raise DataError(f"task {self.task_name}, {self.role} image {item.image_path!r}: "
                            f"not a readable image ({exc})") from exc
        return hashlib.sha256(raw).hexdigest(), width * height


def _read_image_bytes(images: ImageStore | None, item: Item, task_name: str, role: str) -> bytes:
    if images is None:
        raise DataError(f"task {task_name}: {role} {item.raw_text[:60]!r} names image {item.image_path!r} "
                        "but the task data has no image store")
    try:
        return images.read_bytes(item.image_path)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"task {task_name}, {role} image {item.image_path!r}: cannot read it ({exc})") from exc


class _InputDataset(Dataset):
    def __init__(self, items: Sequence[Item], images: ImageStore | None, task_name: str, role: str):
        self.items, self.images, self.task_name, self.role = items, images, task_name, role

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[int, ModelInput | _WorkerFailure]:
        try:
            return index, self._input(index)
        except Exception as exc:
            return index, _as_failure(exc, f"task {self.task_name}, {self.role} {self.items[index].raw_text[:60]!r}")

    def _input(self, index: int) -> ModelInput:
        item = self.items[index]
        image = None
        if item.has_image:
            if self.images is None:
                _read_image_bytes(None, item, self.task_name, self.role)
            try:
                image = self.images.open(item.image_path)
            except DataError:
                raise
            except Exception as exc:
                raise DataError(f"task {self.task_name}, {self.role} image {item.image_path!r}: "
                                f"cannot decode it ({exc})") from exc
        return ModelInput(instruction=item.instruction, text=item.text, image=image, raw_text=item.raw_text)


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


def _batches(dataset: Dataset, batches: list[list[int]], collate, options: EncodeOptions,
             has_images: bool) -> Iterator:
    """Prepared batches in ``batches`` order. Workers only where they pay: images to decode and resize and
    more than one batch (tokenising text in the main thread costs milliseconds per batch)."""
    workers = options.num_workers if len(batches) > 1 and has_images else 0
    pin = options.device.type == "cuda"
    if workers and options.loader == "processes":
        # each pool forks this process (~0.1 s per worker for a process holding a large model)
        yield from DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=workers,
                              pin_memory=pin)
        return

    def prepare(batch: list[int]):
        out = collate([dataset[i] for i in batch])
        return _pinned(out) if pin and workers else out

    if not workers:
        for batch in batches:
            yield prepare(batch)
        return
    # one intra-op thread per worker, as DataLoader worker processes have: torch ops in the processors
    # (torchvision resize, normalise) would otherwise each start a full OpenMP team and, on the CPU,
    # take the cores the forward pass needs (the setting is per thread; the main thread keeps its own)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="mmeb-prepare", initializer=torch.set_num_threads,
                              initargs=(1,))
    pending: collections.deque = collections.deque()
    todo = iter(batches)
    try:
        for batch in todo:
            pending.append(pool.submit(prepare, batch))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            batch = next(todo, None)
            if batch is not None:
                pending.append(pool.submit(prepare, batch))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


# -- the main process ------------------------------------------------------------------------------------

def probe_items(items: Sequence[Item], images: ImageStore | None, task_name: str, role: str,
                options: EncodeOptions) -> tuple[list[str | None], np.ndarray]:
    """Image hashes and pixel counts of all items.

    Runs on a thread pool in this process, not in DataLoader workers: reading bytes, sha256 and a header
    parse release the GIL, and a worker pool costs a fork of this (large, CUDA-holding) process - measured
    at ~0.9 s per 8-worker pool for a 4 GB process, more than the probing itself.
    """
    hashes: list[str | None] = [None] * len(items)
    pixels = np.zeros(len(items), dtype=np.int64)
    image_rows = [i for i, item in enumerate(items) if item.has_image]
    if not image_rows:
        return hashes, pixels
    dataset = _ProbeDataset(items, images, task_name, role)
    threads = max(1, min(options.num_workers, 16))
    with ThreadPoolExecutor(threads) as pool:
        for row, entry in zip(image_rows, pool.map(dataset.__getitem__, image_rows, chunksize=64)):
            if isinstance(entry, _WorkerFailure):
                raise entry.error
            hashes[row], pixels[row] = entry
    return hashes, pixels


def plan_batches(items: Sequence[Item], pixels: np.ndarray, batch_size: int) -> list[list[int]]:
    """Similar sizes together (less padding), largest first (an out-of-memory batch fails at once)."""
    order = sorted(range(len(items)), key=lambda i: (-int(pixels[i]), -len(items[i].raw_text), i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


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


class Encoder:
    """Turns a task's unique items (of one role) into an embedding matrix in the items' order."""

    def __init__(self, model: Any, options: EncodeOptions, cache: EmbeddingCache | None = None,
                 progress=None):
        self.model, self.options, self.cache, self.progress = model, options, cache, progress
        self.fast = options.fast_path and has_fast_path(model)
        self.encode_calls = 0  # model calls made by this process (tests count them)
        self.stats = EncodeStats()

    def encode(self, items: Sequence[Item], images: ImageStore | None, *, task_name: str,
               role: str) -> torch.Tensor:
        started = time.perf_counter()
        hashes, pixels = probe_items(items, images, task_name, role, self.options)
        self.stats.probe_s += time.perf_counter() - started
        keys = [item_key(task_name=task_name, role=role, instruction=item.instruction, text=item.text,
                         raw_text=item.raw_text, image_sha256=digest) for item, digest in zip(items, hashes)]
        started = time.perf_counter()
        cached = self.cache.get(keys) if self.cache is not None else {}
        self.stats.cache_s += time.perf_counter() - started
        missing = [i for i, key in enumerate(keys) if key not in cached]

        batches = plan_batches([items[i] for i in missing], pixels[missing], self.options.batch_size)
        batches = [[missing[j] for j in batch] for batch in batches]
        local = batches[distributed.rank()::distributed.world_size()]  # strided: every rank gets big and small
        fresh_rows, fresh = self._run(items, images, local, task_name, role, n_total=len(missing))
        fresh_rows, fresh = distributed.gather_rows(fresh_rows, fresh)

        if self.cache is not None and distributed.is_main() and len(fresh_rows):
            started = time.perf_counter()
            self.cache.put([keys[i] for i in fresh_rows], fresh.numpy())
            self.stats.cache_s += time.perf_counter() - started
        return self._assemble(len(items), cached, keys, fresh_rows, fresh, task_name, role)

    def _run(self, items, images, batches, task_name, role, n_total) -> tuple[list[int], torch.Tensor]:
        rows: list[int] = []
        parts: list[torch.Tensor] = []
        error: BaseException | None = None
        bar = self.progress.add_task(f"{task_name} {role}s", total=n_total) if self.progress else None
        stream = None
        try:
            dataset = _InputDataset(items, images, task_name, role)
            collate = _Collate(self.model.prepare if self.fast else None, task_name, role)
            has_images = any(items[i].has_image for batch in batches for i in batch)
            stream = _batches(dataset, batches, collate, self.options, has_images)
            with torch.inference_mode():
                while True:
                    started = time.perf_counter()
                    prepared = next(stream, None)
                    self.stats.wait_s += time.perf_counter() - started
                    if prepared is None:
                        break
                    indices, payload = prepared
                    started = time.perf_counter()
                    if isinstance(payload, _WorkerFailure):
                        raise payload.error
                    if self.fast:
                        output = self.model.embed(payload)
                    else:
                        output = self.model.encode(payload, task_name=task_name, role=role,
                                                   batch_size=self.options.batch_size,
                                                   device=str(self.options.device))
                    self.encode_calls += 1
                    parts.append(to_embedding_matrix(output, len(indices), task_name, role))
                    rows.extend(indices)
                    self.stats.model_s += time.perf_counter() - started
                    self.stats.batches += 1
                    self.stats.items += len(indices)
                    if bar is not None:
                        self.progress.advance(bar, len(indices) * distributed.world_size())
        except Exception as exc:  # re-raised below, after the other ranks learn of it
            error = exc
        finally:
            if stream is not None:
                stream.close()  # stops the pool: in-flight batches finish, queued ones are dropped
            if bar is not None:
                self.progress.remove_task(bar)
        distributed.raise_if_any_failed(error)
        if parts and len({part.shape[1] for part in parts}) > 1:
            dims = sorted({part.shape[1] for part in parts})
            raise ModelOutputError(f"task {task_name}, role {role}: batches returned different dims {dims}")
        matrix = torch.cat(parts) if parts else torch.zeros((0, 0))
        return rows, matrix

    def _assemble(self, n: int, cached: dict, keys: list[str], fresh_rows: list[int], fresh: torch.Tensor,
                  task_name: str, role: str) -> torch.Tensor:
        dims = {vector.shape[0] for vector in cached.values()} | ({fresh.shape[1]} if len(fresh_rows) else set())
        if len(dims) > 1:
            raise ModelOutputError(f"task {task_name}, role {role}: cached and new embeddings differ in dim "
                                   f"{sorted(dims)}; clear the cache folder {self.cache.directory}")
        if not dims:
            raise ModelOutputError(f"task {task_name}, role {role}: no items to encode")
        out = torch.empty((n, dims.pop()), dtype=torch.float32)
        if len(fresh_rows):
            out[torch.as_tensor(fresh_rows)] = fresh
        for i, key in enumerate(keys):
            if key in cached:
                out[i] = torch.from_numpy(cached[key])
        return out

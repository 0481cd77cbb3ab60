"""The prepare path against the unavoidable work, and its scaling with workers (issue 15, points 1 and 8).

* ``prepare_overhead``: CPU seconds per image of the engine's prepare path on one thread (read + sha256 +
  header while planning, decode, ``model.prepare`` of each batch) / CPU seconds per image of the unavoidable
  work on the same thread (decode + the recipe's processor call on the same batches: a two-tower model's image
  processor per batch, a VLM's processor per item on its text and image). Thread CPU time, one
  intra-op thread: the cost on one core, insensitive to other processes sharing the machine.
* ``worker_scaling``: images/s of the engine's pipeline (planning + prepare on the worker pool, the model's
  ``embed`` replaced by a no-op) with W workers / (W x images/s with one worker); wall time, best of rounds.

    python bench/prepare_cost.py --model-dir D --data-dir W/data     # after bench_engine.py --work-dir W
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from typing import Callable

import torch

from mmeb.evaluation.encoding import EncodeOptions, Encoder
from mmeb.evaluation.image_identity import ImageIdentity
from mmeb.evaluation.planning import plan_role


def image_items(data_dir: str, task: str = "ImageNet-1K", limit: int | None = None):
    from mmeb.evaluation.engine import index_rows
    from mmeb.tasks import get_task

    data = get_task(task).load(data_dir=data_dir)
    queries, _, _, _ = index_rows(data.rows)
    items = [q for q in queries if q.has_image][:limit]
    return task, items, data.images


def _decode(blob: bytes):
    """The minimum decode: the file's pixels (JPEG: RGB), no conversion."""
    from PIL import Image

    image = Image.open(io.BytesIO(blob))
    image.load()
    return image


def _reference_call(model) -> Callable[[list, list[str]], None]:
    """The recipe's own processor call on a batch of decoded images: a two-tower model's image processor on
    the batch; a VLM's processor once per item on its text with one image token, as the official collators
    call it (the VLM's prompt tokens - the image's expanded tokens included - come out of that same call)."""
    from mmeb.models.vlm import IMAGE_TOKENS

    backbone = getattr(getattr(model, "inputs", None), "backbone", None)
    if backbone in IMAGE_TOKENS:
        token, processor = IMAGE_TOKENS[backbone], model.processor

        def per_item(decoded, texts):
            for image, text in zip(decoded, texts):
                processor(text=[f"{token}\n{text}"], images=[image], return_tensors="pt")
        return per_item
    image_processor = model.processor.image_processor
    return lambda decoded, texts: image_processor(images=decoded, return_tensors="pt")


def _unavoidable(model, items, images, batch_size: int) -> float:
    """Decode + the recipe's processor call on the same batches, thread CPU seconds (bytes already in memory)."""
    blobs = [images.read_bytes(item.image_path) for item in items]
    texts = [f"{item.instruction} {item.text}".strip() for item in items]
    call = _reference_call(model)
    begun = time.thread_time()
    for start in range(0, len(blobs), batch_size):
        call([_decode(blob) for blob in blobs[start:start + batch_size]], texts[start:start + batch_size])
    return time.thread_time() - begun


def _engine_prepare(model, items, images, task: str, batch_size: int) -> float:
    """The engine's path on this thread: plan (one read: bytes, sha256, header), decode, model.prepare."""
    from mmeb.evaluation.encoding import _Collate, _RoleDataset

    begun = time.thread_time()
    plan = plan_role(items, images, task_name=task, role="query", identity=ImageIdentity(None),
                     cache_get=lambda keys: {}, readers=None, batch_size=batch_size)
    dataset = _RoleDataset(items, images, plan, task, "query")
    collate = _Collate(model.prepare, task, "query")
    for batch in plan.batches:
        collate([dataset[i] for i in batch])
    return time.thread_time() - begun


def prepare_overhead(model, items, images, task: str, batch_size: int, rounds: int = 5) -> dict:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _engine_prepare(model, items[:batch_size], images, task, batch_size)  # warm-up (imports, allocator)
        reference, engine = [], []
        for _ in range(rounds):  # interleaved, so drifts in machine load hit both alike
            reference.append(_unavoidable(model, items, images, batch_size))
            engine.append(_engine_prepare(model, items, images, task, batch_size))
    finally:
        torch.set_num_threads(previous)
    n = len(items)
    return {"prepare_overhead": min(engine) / min(reference),
            "prepare_ms_per_image": 1e3 * min(engine) / n, "unavoidable_ms_per_image": 1e3 * min(reference) / n,
            "prepare_images": n, "rounds": rounds}


class _NoForward:
    """The model's prepare, a no-op embed: times the pipeline alone."""

    def __init__(self, model):
        self.model = model
        self.name, self.settings = "no-forward", {}

    def prepare(self, inputs, **context):
        return self.model.prepare(inputs, **context)

    def embed(self, batch):
        return torch.zeros(int(batch["n"]) if "n" in batch else len(batch["input_ids"]), 4)

    def encode(self, inputs, **context):
        return self.embed(self.prepare(inputs, **context))


def pipeline_images_per_s(model, items, images, task: str, workers: int, batch_size: int,
                          loader: str = "threads") -> float:
    options = EncodeOptions(batch_size=batch_size, num_workers=workers, loader=loader)
    with Encoder(_NoForward(model), options) as encoder:  # worker processes start here, before the clock
        begun = time.perf_counter()
        encoder.encode(items, images, task_name=task, role="query")
        return len(items) / (time.perf_counter() - begun)


def worker_scaling(model, items, images, task: str, workers: int, batch_size: int, rounds: int = 3,
                   loader: str = "threads") -> dict:
    one, many = [], []
    for _ in range(rounds):  # interleaved; best of rounds (other processes only ever slow a round down)
        one.append(pipeline_images_per_s(model, items, images, task, 1, batch_size, loader))
        many.append(pipeline_images_per_s(model, items, images, task, workers, batch_size, loader))
    return {"worker_scaling": max(many) / (workers * max(one)), "images_per_s_one_worker": max(one),
            "images_per_s_workers": max(many), "scaling_workers": workers, "scaling_images": len(items),
            "scaling_batch_size": batch_size, "scaling_loader": loader}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--data-dir", required=True, help="a bench_engine.py workload (its data folder)")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    from mmeb.models import load_model

    model = load_model(args.model_dir, device="cpu")
    task, items, images = image_items(args.data_dir, limit=args.images)
    out = {**prepare_overhead(model, items, images, task, args.batch_size),
           **worker_scaling(model, items, images, task, args.workers, args.batch_size)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``query_chunk_size: auto`` / ``target_chunk_size: auto``: the GradCache chunk from free memory.

GradCache's cost above a plain step is fixed per chunk, so the chunk should be as large as memory allows.
At the first step one probe embeds a few rows of each column with gradients and measures what they take
per row: on CUDA the peak growth of ``torch.cuda.max_memory_allocated``, elsewhere the bytes autograd
saves for backward (``saved_tensors_hooks``; RSS and tracemalloc do not see torch's CPU allocations
reliably). The chunk is then the largest divisor of the per-device batch that fits
``AUTO_MEMORY_SHARE`` of the free memory (CUDA ``mem_get_info`` plus the allocator's unused reserve, or
the host's available RAM). The probe restores the RNG state and leaves ``.grad`` untouched, so the step
(and its gradients) is exactly the step a fixed chunk of that size would take.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

logger = logging.getLogger(__name__)

#: the share of free memory one chunk's activations may take (the rest: optimizer state made at the
#: first optimizer step, allocator fragmentation, the gathered embeddings)
AUTO_MEMORY_SHARE = 0.5
#: rows per column the probe embeds (the heaviest rows by image bytes, so the estimate errs high)
PROBE_ROWS = 2


def free_memory_bytes(device: torch.device) -> int:
    """Bytes a chunk may still use on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    return 0


def choose_chunk(per_device: int, per_row_bytes: float, free_bytes: int, cap: int | None = None,
                 share: float = AUTO_MEMORY_SHARE) -> int:
    """The largest divisor of ``per_device`` (GradCache slices equal chunks) within ``cap`` whose rows
    fit ``share * free_bytes``; at least 1."""
    limit = per_device if per_row_bytes <= 0 else int(share * free_bytes // per_row_bytes)
    limit = max(1, min(limit, per_device, cap or per_device))
    return max(d for d in range(1, limit + 1) if per_device % d == 0)


def _probe_rows(inputs: list[Any]) -> list[int]:
    """The rows with the largest images (text-only rows last), so the per-row cost errs high."""
    def weight(i):
        image = getattr(inputs[i], "image", None) if inputs[i] is not None else None
        if isinstance(image, (bytes, bytearray)):
            return len(image)
        return image.width * image.height * 3 if image is not None else -1
    present = [i for i in range(len(inputs)) if inputs[i] is not None]
    return sorted(present, key=weight, reverse=True)[:PROBE_ROWS]


def measure_row_bytes(model, columns: list[dict[str, Any]]) -> float:
    """Bytes per row of one chunk's forward + backward: the most expensive column's, per probed row."""
    from mmeb.training.encoder import ByteBudget, ChunkMemo, raw_features

    model = getattr(model, "module", model)  # a DDP wrapper: probe the module (no reducer hooks)
    params = [p for p in model.parameters() if p.requires_grad]
    device = next(model.parameters()).device
    cuda = device.type == "cuda"
    worst = 0.0
    with torch.random.fork_rng(devices=[device] if cuda else []):  # the real step sees the same dropout
        for column in columns:
            rows = _probe_rows(column["inputs"])
            if not rows:
                continue
            features = raw_features([column["inputs"][i] for i in rows], ChunkMemo(ByteBudget(0)))
            saved = {}

            def pack(t):
                saved[(t.untyped_storage().data_ptr(), t.device)] = t.untyped_storage().nbytes()
                return t

            if cuda:
                torch.cuda.synchronize(device)
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
            with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                emb = model(features)["sentence_embedding"]
            if emb.requires_grad and params:  # grads computed, not accumulated into .grad
                torch.autograd.grad(emb.sum(), params, allow_unused=True)
            used = (torch.cuda.max_memory_allocated(device) - base) if cuda else sum(saved.values())
            worst = max(worst, used / len(rows))
            del emb, features
    return worst


def resolve_auto_chunk(loss, columns: list[dict[str, Any]], per_device: int, cap: int | None) -> int:
    """Probe, pick the chunk, agree on the smallest across processes; sets ``loss.mini_batch_size``."""
    device = next(loss.model.parameters()).device
    per_row = measure_row_bytes(loss.model, columns)
    free = free_memory_bytes(device)
    chunk = choose_chunk(per_device, per_row, free, cap)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and torch.distributed.is_initialized():
        agreed = torch.tensor([chunk], device=device if torch.distributed.get_backend() == "nccl" else "cpu")
        torch.distributed.all_reduce(agreed, op=torch.distributed.ReduceOp.MIN)
        chunk = int(agreed.item())
        while per_device % chunk:  # divisors of one per-device batch: the minimum divides it already
            chunk -= 1
    logger.info("GradCache chunk auto: %.1f MiB per row, %.1f GiB free -> chunk %d of %d",
                per_row / 2**20, free / 2**30, chunk, per_device)
    loss.mini_batch_size = chunk
    return chunk


class AutoChunkCachedLoss(CachedMultipleNegativesRankingLoss):
    """A cached InfoNCE loss whose chunk is picked at its first call (see the module docstring); ``cap``:
    the fixed one of the two chunk settings, if any."""

    def __init__(self, model, cap: int | None = None, **kwargs):
        super().__init__(model, mini_batch_size=cap or 1, **kwargs)
        self.cap, self.resolved = cap, False

    def forward(self, sentence_features, labels):
        sentence_features = list(sentence_features)
        if not self.resolved:
            resolve_auto_chunk(self, sentence_features, len(sentence_features[0]["inputs"]), self.cap)
            self.resolved = True
        return super().forward(sentence_features, labels)

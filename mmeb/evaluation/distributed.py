"""Sharded encoding under ``torchrun``: each rank encodes a stride of the batches, the rows are
all-gathered, and rank 0 writes results and cache. Without torchrun every helper is a no-op.

The backend follows the device: NCCL for CUDA (tensors gathered on the GPU), gloo for the CPU.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from mmeb.errors import ConfigError, MMEBError


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def local_device(requested: str) -> torch.device:
    """The device for this process: ``auto`` -> cuda when present; under torchrun, cuda:LOCAL_RANK."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"--device {requested!r} is not a device ({str(exc).splitlines()[0]}); "
                          "use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) if env_world_size() > 1 else 0)
    check_available(device, requested)
    return device


def check_available(device: torch.device, requested: str | None = None) -> None:
    """A one-line error for a device this machine does not have (before any model is loaded)."""
    if device.type == "cpu":
        return
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"--device {requested or device}: no CUDA GPU is available here (torch "
                              f"{torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); use --device cpu")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"--device {device}: this machine has {count} CUDA GPU(s) (cuda:0 .. "
                              f"cuda:{count - 1})")
        return
    if device.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ConfigError(f"--device {device}: Apple MPS is not available here; use --device cpu")
        return
    raise ConfigError(f"--device {device}: mmeb evaluates on cpu, cuda or mps; {device.type!r} is not supported "
                      "here")


def init_if_launched(device: torch.device) -> bool:
    """Join the process group torchrun set up the environment for. True if this call created it."""
    if env_world_size() <= 1 or not dist.is_available() or dist.is_initialized():
        return False
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl", device_id=device)
    else:
        dist.init_process_group(backend="gloo")
    return True


def shutdown(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if active():
        dist.barrier()


def _comm_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def raise_if_any_failed(error: BaseException | None, plan: str | None = None, where: str = "") -> None:
    """Collective: every rank learns whether any rank failed, so no rank waits forever in a gather; and
    whether the ranks planned the same batches (``plan``: a digest), so all of them fail alike when not."""
    if not active():
        if error is not None:
            raise error
        return
    reports: list[tuple[str | None, str | None] | None] = [None] * world_size()
    dist.all_gather_object(reports, (None if error is None else f"{type(error).__name__}: {error}", plan))
    if error is not None:
        raise error
    failed = [(r, m) for r, (m, _) in enumerate(reports) if m is not None]
    if failed:
        r, message = failed[0]
        raise MMEBError(f"rank {r} failed while encoding: {message}")
    if len({p for _, p in reports}) > 1:
        raise MMEBError(f"{where}: the ranks planned different items to encode (the embedding cache or the "
                        "data changed while they planned); run again")


def gather_rows(rows: list[int], matrix: torch.Tensor) -> tuple[list[int], torch.Tensor]:
    """All-gather (row indices, embeddings) of every rank; ranks may hold different counts (even zero)."""
    if not active():
        return rows, matrix
    device = _comm_device()
    shape = torch.tensor([len(rows), matrix.shape[1] if len(rows) else 0], device=device)
    shapes = [torch.zeros_like(shape) for _ in range(world_size())]
    dist.all_gather(shapes, shape)
    counts = [int(s[0]) for s in shapes]
    dims = {int(s[1]) for s in shapes if int(s[0]) > 0}
    if len(dims) > 1:
        from mmeb.errors import ModelOutputError

        raise ModelOutputError(f"ranks returned embeddings of different dims {sorted(dims)}")
    dim = dims.pop() if dims else 0
    longest = max(counts)
    if longest == 0:
        return [], torch.zeros((0, 0))
    padded = torch.zeros((longest, dim), dtype=torch.float32, device=device)
    padded_rows = torch.full((longest,), -1, dtype=torch.int64, device=device)
    if rows:
        padded[: len(rows)] = matrix.to(device)
        padded_rows[: len(rows)] = torch.as_tensor(rows, device=device)
    all_matrices = [torch.empty_like(padded) for _ in range(world_size())]
    all_rows = [torch.empty_like(padded_rows) for _ in range(world_size())]
    dist.all_gather(all_matrices, padded)
    dist.all_gather(all_rows, padded_rows)
    out_rows: list[int] = []
    parts = []
    for count, part, part_rows in zip(counts, all_matrices, all_rows):
        out_rows.extend(part_rows[:count].tolist())
        parts.append(part[:count].cpu())
    return out_rows, torch.cat(parts)

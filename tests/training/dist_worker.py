"""Run by test_train_distributed.py as a script: 2 gloo processes, each with half of a batch, DDP-wrapped
model, cached loss with gathered negatives -> loss and gradients written by rank 0; then the same
loss on the concatenated batch in one process. Not collected by pytest (no test_ prefix)."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def build(model_dir: str, gather: bool):
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    from mmeb.training.config import TrainConfig
    from mmeb.training.encoder import masked_dot
    from mmeb.training.model import build_st_model

    cfg = TrainConfig(model=model_dir, subsets=["VOC2007"], output_dir="unused", lora=False)
    st, _ = build_st_model(cfg)
    st.double()
    loss = CachedMultipleNegativesRankingLoss(st, scale=50.0, similarity_fct=masked_dot, mini_batch_size=2,
                                              gather_across_devices=gather)
    return st, loss


def columns():
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from test_loss import _batch

    q, t, _ = _batch()
    return q[:4], t[:4]


def rank_main(rank: int, model_dir: str, init_file: str, out: str) -> None:
    from torch.nn.parallel import DistributedDataParallel

    from mmeb.training.encoder import raw_features

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    st, loss_fn = build(model_dir, gather=True)
    ddp = DistributedDataParallel(st, find_unused_parameters=True)
    loss_fn.model = ddp  # as the Trainer does: the cached loss replays chunks through the DDP wrapper
    q, t = columns()
    half = slice(2 * rank, 2 * rank + 2)
    loss = loss_fn([raw_features(q[half]), raw_features(t[half])], None)
    loss.backward()
    value = loss.detach().clone()
    dist.all_reduce(value)
    if rank == 0:
        grads = {n: p.grad for n, p in st.named_parameters() if p.grad is not None}
        torch.save({"loss": value.item() / 2, "grads": grads}, out)
    dist.destroy_process_group()


def main(model_dir: str, workdir: str) -> None:
    from mmeb.training.encoder import raw_features

    mp.spawn(rank_main, args=(model_dir, f"{workdir}/init", f"{workdir}/ddp.pt"), nprocs=2, join=True)
    st, loss_fn = build(model_dir, gather=False)
    q, t = columns()
    loss = loss_fn([raw_features(q), raw_features(t)], None)
    loss.backward()
    grads = {n: p.grad for n, p in st.named_parameters() if p.grad is not None}
    torch.save({"loss": loss.item(), "grads": grads}, f"{workdir}/single.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

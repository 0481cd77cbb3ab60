"""``mmeb train --config cfg.yaml [--set key=value ...]``: VLM2Vec contrastive training.

Multi-GPU: ``torchrun --nproc_per_node=8 -m mmeb train --config cfg.yaml`` (see docs/training.md)."""

from __future__ import annotations

import argparse
import os

from mmeb.cli.output import add_output_arguments, apply_output_arguments


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a VLM2Vec embedding model on MMEB-train",
        description="Train a VLM2Vec-style embedding model (InfoNCE over the global batch, GradCache, "
                    "LoRA/DoRA or full fine-tune). Settings: docs/training.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  mmeb train --config qwen2vl.yaml --set max_steps=100 --set subsets=[VOC2007,N24News]")
    p.add_argument("--config", required=True, help="YAML or JSON file with the training settings")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (value parsed as YAML); repeatable")
    p.add_argument("--check", action="store_true",
                   help="validate the config and the data (subsets, images, batch sizes), then stop")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    progress, interval = apply_output_arguments(args)  # before any import of transformers: it reads the env
    from mmeb.training import require_train_extra

    require_train_extra()
    from mmeb.training.trainer import check, train

    if args.check:
        summary = check(args.config, args.overrides)
        print(f"ok: {summary}")
        return 0
    out = train(args.config, args.overrides, progress=progress, progress_interval=interval)
    _end_process_group()
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun: one line for the job, not one per process
        print(f"trained model written to {out} (evaluate it with: mmeb run --model {out})")
    return 0


def _end_process_group() -> None:
    """Under torchrun: every rank waits until rank 0 has written the model, then the process group is torn
    down before the interpreter exits (a gloo group left to the interpreter's teardown can abort a rank -
    "terminate called without an active exception" - failing a finished job)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()

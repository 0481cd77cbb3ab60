"""``train(config) -> output dir``: the VLM2Vec recipe on the sentence-transformers Trainer (the HF
Trainer underneath: DDP via torchrun, FSDP / DeepSpeed via its own settings) - no copied loop.

Objective: InfoNCE, logits = cos / tau over the *global* batch (every rank gathers the other ranks'
embeddings with gradients), optional hard negatives, GradCache (``CachedMultipleNegativesRankingLoss``)
on one device exactly as on many. Bad input fails here before the model is loaded.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformerTrainer

from mmeb.errors import ConfigError, DataError
from mmeb.training.checkpoint import (check_resume_config, export_checkpoint, load_trainable, resolve_resume,
                                      save_trainable, write_run_config)
from mmeb.training.config import TrainConfig, load_config
from mmeb.training.progress import attach_progress

logger = logging.getLogger(__name__)


class VLM2VecTrainer(SentenceTransformerTrainer):
    """Checkpoints hold the trainable weights only (a LoRA run writes megabytes, not the base model)."""

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        # every rank comes here; under FSDP the Trainer hands in the gathered state (the model holds shards)
        if self.args.should_save:
            save_trainable(self.model, output_dir or self.args.output_dir,
                           full_state=state_dict if self.is_fsdp_enabled else None)

    def _load_from_checkpoint(self, checkpoint_path: str, model=None) -> None:
        if self.is_fsdp_enabled:  # the sharded model loads the Trainer's own FSDP checkpoint of it
            from transformers import Trainer

            return Trainer._load_from_checkpoint(self, checkpoint_path, model)
        load_trainable(self.model, checkpoint_path)

    def create_accelerator_and_postprocess(self) -> None:
        super().create_accelerator_and_postprocess()
        if self.args.fsdp_plugin_args is not None and not self.is_fsdp_enabled:
            self.is_fsdp_enabled = _fsdp_on_cpu(self.accelerator, self.args.fsdp_plugin_args)


def _fsdp_on_cpu(accelerator, plugin_args: dict) -> bool:
    """Accelerate 1.x picks FSDP only for accelerator devices (``AcceleratorState``: the FSDP branch sits under
    ``distributed_type in MULTI_GPU/XPU/...``), so a torchrun job on CPUs stays ``MULTI_CPU`` = DDP. FSDP itself
    (torch ``fully_shard``) runs on gloo; switching the shared state to FSDP before ``prepare`` makes
    Accelerate shard the model on the CPU mesh exactly as on GPUs."""
    import torch
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

    if accelerator.state.distributed_type != DistributedType.MULTI_CPU:
        return False
    plugin = FullyShardedDataParallelPlugin(**plugin_args)
    AcceleratorState._shared_state["fsdp_plugin"] = plugin
    # FSDP1 computes on ``torch.device("cpu")`` and refuses a ``device_id`` of "cpu:0", which Accelerate passes
    for shared in (AcceleratorState._shared_state, PartialState._shared_state):
        shared.update(distributed_type=DistributedType.FSDP, device=torch.device("cpu"))
    return True


def build_loss(st_model, config: TrainConfig):
    """GradCache or the plain in-batch loss - the same objective, chosen by ``config.gradcache``."""
    from sentence_transformers.sentence_transformer.losses import (CachedMultipleNegativesRankingLoss,
                                                                   MultipleNegativesRankingLoss)

    from mmeb.training.encoder import masked_dot

    # one process: nothing to gather (the loss is identical); several: negatives from every rank
    gather = int(os.environ.get("WORLD_SIZE", "1")) > 1
    common = dict(scale=1.0 / config.temperature, similarity_fct=masked_dot, gather_across_devices=gather)
    if config.gradcache and config.auto_chunk:
        from mmeb.training.autochunk import AutoChunkCachedLoss

        return AutoChunkCachedLoss(st_model, cap=config.chunk_size, **common)
    if config.gradcache:
        return CachedMultipleNegativesRankingLoss(st_model, mini_batch_size=config.chunk_size, **common)
    return MultipleNegativesRankingLoss(st_model, **common)


def training_arguments(config: TrainConfig, per_device_batch: int):
    import torch
    from sentence_transformers import SentenceTransformerTrainingArguments

    # without a GPU, Accelerate is multi-process (gloo) only when told to use the CPU; otherwise each torchrun
    # process would train alone on its shard
    on_cpu = not torch.cuda.is_available()
    return SentenceTransformerTrainingArguments(
        use_cpu=on_cpu,
        ddp_backend="gloo" if on_cpu and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        output_dir=config.output_dir,
        per_device_train_batch_size=per_device_batch,
        gradient_accumulation_steps=1,  # accumulation adds no negatives: GradCache is the way to big batches
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_steps,
        lr_scheduler_type=config.lr_scheduler,
        weight_decay=config.weight_decay,
        bf16=config.bf16,
        gradient_checkpointing=config.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if config.gradient_checkpointing else None,
        seed=config.seed,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps,
        dataloader_num_workers=config.num_workers,
        dataloader_drop_last=True,  # every step sees the full global batch
        remove_unused_columns=False,
        report_to="none",
        ddp_find_unused_parameters=True,  # a text-only chunk leaves the vision tower unused
        ddp_timeout=config.ddp_timeout,
        fsdp=config.fsdp or "",
        fsdp_config=_cpu_fsdp_config(config.fsdp_config) if on_cpu and config.fsdp else config.fsdp_config,
        deepspeed=config.deepspeed,
    )


def _cpu_fsdp_config(fsdp_config):
    """FSDP on CPUs: FSDP1 by default - FSDP2 reduce-scatters only the parameters that got a gradient, and a rank
    whose chunks hold no image leaves the vision tower without one, so the ranks' collectives disagree; FSDP1's
    flat parameter always reduces whole. No ``sync_module_states`` (Accelerate implements it with an
    accelerator device; every rank loads the same weights anyway)."""
    if isinstance(fsdp_config, str):
        import json

        fsdp_config = json.loads(Path(fsdp_config).read_text())
    return {"version": 1, **(fsdp_config or {}), "sync_module_states": False}


def _validate(config, overrides):
    """Every check that needs no model weights: config, world size vs batch vs chunks, backbone,
    subsets, images of every selected row, resume path."""
    from mmeb.training.data import load_train_data
    from mmeb.training.model import detect_backbone

    config = load_config(config, overrides)
    if Path(config.output_dir).exists() and not Path(config.output_dir).is_dir():
        raise ConfigError(f"output_dir {config.output_dir} is a file; give a folder (it holds the checkpoints and "
                          "the trained model)")
    _check_sharding(config)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    per_device = config.per_device_batch_size(world_size)
    backbone = detect_backbone(config)
    data = load_train_data(config.train_data, config.subset_weights, split=config.split,
                           revision=config.dataset_revision, max_rows_per_subset=config.max_rows_per_subset,
                           hard_negatives=config.hard_negatives, seed=config.seed)
    if len(data.pairs) < config.global_batch_size:
        raise DataError(f"the selected training data has {len(data.pairs)} rows, fewer than one global batch "
                        f"({config.global_batch_size}); lower global_batch_size or add data")
    resume = resolve_resume(config.resume, config.output_dir)
    check_resume_config(config.model_dump(mode="json"), resume)
    return config, world_size, per_device, backbone, data, resume


def _check_sharding(config: TrainConfig) -> None:
    """On the CPU, FSDP runs over gloo in a torchrun job (see ``_fsdp_on_cpu``); one process has nothing to
    shard and Accelerate would silently train unsharded. DeepSpeed needs accelerator devices. A config file is
    read only after the model loaded: it is checked here."""
    import json

    import torch

    if not torch.cuda.is_available():
        if config.deepspeed:
            raise ConfigError("deepspeed needs GPUs (Accelerate runs it only on accelerator devices); on the CPU "
                              "leave deepspeed unset: torchrun processes then train with DDP over gloo, or set fsdp")
        if config.fsdp and int(os.environ.get("WORLD_SIZE", "1")) < 2:
            raise ConfigError("fsdp on the CPU needs several processes: launch with torchrun --nproc_per_node N "
                              "(N >= 2), or leave fsdp unset")
    for key in ("deepspeed", "fsdp_config"):
        path = getattr(config, key)
        if isinstance(path, str):
            if not Path(path).is_file():
                raise ConfigError(f"{key} {path}: file not found; give the path of a JSON config (or a mapping)")
            try:
                json.loads(Path(path).read_text())
            except ValueError as exc:
                raise ConfigError(f"{key} {path}: not valid JSON ({exc})") from None


def check(config: "TrainConfig | dict | str | Path", overrides: list[str] | None = None) -> str:
    """Validate without training; returns a one-line summary."""
    config, world_size, per_device, backbone, data, resume = _validate(config, overrides)
    return (f"{backbone}, {data.provenance['rows']} rows from {len(data.provenance['rows_per_subset'])} subset(s), "
            f"{world_size} process(es) x {per_device}, resume={resume}")


def train(config: "TrainConfig | dict | str | Path", overrides: list[str] | None = None, *, progress: bool = True,
          progress_interval: float | None = None) -> Path:
    """Train a VLM2Vec model; return the output directory holding the exported checkpoint. ``progress``: the
    Trainer's bar in a terminal, plain lines every ``progress_interval`` seconds elsewhere (see
    :mod:`mmeb.training.progress`)."""
    from datasets import Dataset

    from mmeb.training.model import build_st_model

    config, world_size, per_device, backbone, data, resume = _validate(config, overrides)

    from transformers import set_seed

    # the Trainer seeds only after the model exists: the LoRA init (and any random head) would otherwise draw
    # from the process's unseeded RNG, and the same config would train a different model on every run
    set_seed(config.seed)
    if int(os.environ.get("RANK", "0")) == 0:
        write_run_config(config.model_dump(mode="json"), config.output_dir)
    st_model, encoder = build_st_model(config, backbone)
    loss = build_loss(st_model, config)
    logger.info("VLM2Vec training: %s, %d process(es) x %d rows, GradCache %s (chunk %s), tau %.3g, resume %s",
                backbone, world_size, per_device, "on" if config.gradcache else "off", config.chunk_size or "auto",
                config.temperature, resume)
    from mmeb.training.collate import VLM2VecCollator

    trainer = VLM2VecTrainer(
        model=st_model, args=training_arguments(config, per_device),
        train_dataset=Dataset.from_dict({"pair": list(range(len(data.pairs)))}),
        loss=loss, data_collator=VLM2VecCollator(data, hard_negatives=config.hard_negatives,
                                             chunk_cache_gib=config.chunk_cache_gib),
    )
    with ExitStack() as displays:
        attach_progress(trainer, displays, enabled=progress, interval=progress_interval)
        result = trainer.train(resume_from_checkpoint=resume)
    out = Path(config.output_dir)
    with _full_parameters(trainer):  # every rank takes part in gathering FSDP shards; rank 0 writes
        if trainer.is_world_process_zero():
            record = _training_record(config, world_size, per_device, trainer, result)
            record["effective"]["loss"] = _loss_description(loss)
            if config.gradcache:  # the chunk actually used ("auto" resolves at the first step)
                record["effective"]["gradcache_chunk_size"] = loss.mini_batch_size
            record["effective"]["resumed_from"] = resume
            export_checkpoint(encoder, out, training=record, data=data.provenance)
    return out


def _full_parameters(trainer):
    """FSDP1 keeps each rank's shard only; the export needs the whole weights."""
    from contextlib import nullcontext

    from torch.distributed.fsdp import FullyShardedDataParallel

    wrapped = getattr(trainer, "model_wrapped", None)
    if isinstance(wrapped, FullyShardedDataParallel):
        return FullyShardedDataParallel.summon_full_params(wrapped, writeback=False)
    return nullcontext()


def _loss_description(loss) -> str:
    """What actually ran: GradCache or not, negatives gathered from every rank or this rank's batch only."""
    gathered = bool(getattr(loss, "gather_across_devices", False))
    return (f"InfoNCE over the {'global batch (gather_across_devices)' if gathered else 'batch of one process'}, "
            f"{'GradCache: ' if hasattr(loss, 'mini_batch_size') else 'no GradCache: '}{type(loss).__name__}")


def _training_record(config: TrainConfig, world_size: int, per_device: int, trainer, result) -> dict[str, Any]:
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "config": config.model_dump(mode="json"),
        "effective": {"world_size": world_size, "per_device_batch_size": per_device,
                      "gradcache_chunk_size": config.chunk_size if config.gradcache else None,
                      "steps": trainer.state.global_step,
                      # how the model was actually wrapped (DistributedDataParallel, FullyShardedDataParallel,
                      # DeepSpeedEngine, or the bare model in one process)
                      "wrapper": type(getattr(trainer, "model_wrapped", None) or trainer.model).__name__,
                      "distributed_type": str(getattr(trainer.accelerator, "distributed_type", "NO"))},
        "loss_history": losses,
        "train_loss": getattr(result, "training_loss", None),
    }

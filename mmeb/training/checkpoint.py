"""Checkpoints: the Trainer's resumable ``checkpoint-<step>/`` folders (trainable weights only; the
Trainer adds optimizer, scheduler, RNG and step) and the final exported model per
docs/checkpoint-format.md (merged weights + processor + ``mmeb_model.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError

TRAINABLE_FILE = "trainable.safetensors"
RUN_CONFIG_FILE = "mmeb_train_config.json"  # in output_dir: the config its checkpoints were trained with
#: what a resumed run may change: where and how often it saves and logs, how far it goes, how it fits in memory
#: (GradCache chunks are exact); anything else would mix two recipes in one model
RESUMABLE_CHANGES = frozenset({"output_dir", "resume", "max_steps", "save_steps", "save_total_limit",
                               "logging_steps", "num_workers", "ddp_timeout", "chunk_cache_gib",
                               "query_chunk_size", "target_chunk_size"})


def _clean(name: str) -> str:
    """A parameter name as the unwrapped model's state dict spells it (FSDP / checkpointing wrappers insert
    their own module levels into ``named_parameters``)."""
    return name.replace("_fsdp_wrapped_module.", "").replace("_checkpoint_wrapped_module.", "")


def trainable_state(module, full_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The trainable tensors of ``module``; ``full_state``: its gathered state dict where the module itself holds
    only this rank's shard (FSDP) - its parameters are then empty views."""
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    source = {n: p for n, p in module.named_parameters()} if full_state is None else full_state
    # clone: tied weights (embeddings / lm_head) share storage, which safetensors refuses to write
    return {_clean(n): source[n if full_state is None else _clean(n)].detach().cpu().clone().contiguous()
            for n in names}


def save_trainable(module, directory: str | Path, full_state: dict[str, Any] | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(directory) / TRAINABLE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(trainable_state(module, full_state), str(path))
    return path


def load_trainable(module, directory: str | Path) -> None:
    """Restore the trainable parameters; the frozen ones come from the (pinned) base model."""
    from safetensors.torch import load_file

    path = Path(directory) / TRAINABLE_FILE
    if not path.is_file():
        raise ConfigError(f"{directory} is not an mmeb training checkpoint (no {TRAINABLE_FILE})")
    state = load_file(str(path))
    expected = {n for n, p in module.named_parameters() if p.requires_grad}
    if set(state) != expected:
        missing, extra = sorted(expected - set(state))[:3], sorted(set(state) - expected)[:3]
        raise ConfigError(f"checkpoint {directory} does not match this model (missing {missing}, unexpected {extra}): "
                          "resume with the same model, lora and dora settings it was written with")
    module.load_state_dict(state, strict=False)


def resolve_resume(resume: str | None, output_dir: str | Path) -> str | None:
    """"auto": the newest ``checkpoint-*`` in output_dir if there is one; a path: that checkpoint."""
    if resume is None:
        return None
    if resume == "auto":
        from transformers.trainer_utils import get_last_checkpoint

        out = Path(output_dir)
        return get_last_checkpoint(str(out)) if out.is_dir() else None
    if not (Path(resume) / TRAINABLE_FILE).is_file():
        raise ConfigError(f"resume: {resume} is not an mmeb training checkpoint (expected {TRAINABLE_FILE} in it)")
    return resume


def check_resume_config(config: dict[str, Any], resume: str | None) -> None:
    """Refuse to resume a checkpoint trained with other settings (learning rate, data, batch, LoRA ...): the
    Trainer would silently continue it under the new ones."""
    if resume is None:
        return
    stored_file = Path(resume).parent / RUN_CONFIG_FILE
    try:
        stored = json.loads(stored_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return  # checkpoints written before this file existed: nothing to compare with
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {stored_file} ({exc}); delete it to resume without the check") from exc
    changed = [k for k in sorted(set(stored) | set(config))
               if k not in RESUMABLE_CHANGES and stored.get(k) != config.get(k)]
    if changed:
        diffs = ", ".join(f"{k}: {stored.get(k)!r} -> {config.get(k)!r}" for k in changed[:4])
        raise ConfigError(f"resume: {resume} was trained with other settings ({diffs}); resuming would mix two "
                          "recipes in one model. Use a new output_dir, or `resume: null` to start over.")


def write_run_config(config: dict[str, Any], output_dir: str | Path) -> None:
    from mmeb.results.io import atomic_write_json

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(output_dir) / RUN_CONFIG_FILE, config)


def export_checkpoint(encoder, out_dir: str | Path, *, training: dict[str, Any], data: dict[str, Any]) -> Path:
    """Write the final model. LoRA/DoRA are merged into the base weights first (a DoRA adapter reloaded
    by sentence-transformers is silently wrong; merged weights are exact for every loader); the
    adapter itself is kept under ``adapter/`` for reference. Merging modifies ``encoder`` in place."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = encoder.model
    if hasattr(model, "merge_and_unload"):
        model.save_pretrained(out / "adapter")
        model = model.merge_and_unload()
        encoder.model = model
        if encoder.recipe.lora is not None:
            encoder.recipe.lora = {**encoder.recipe.lora, "merged": True}
    model.save_pretrained(out)
    encoder.processor.save_pretrained(out)
    encoder.recipe.training = training
    encoder.recipe.data = data
    encoder.recipe.save(out)
    return out

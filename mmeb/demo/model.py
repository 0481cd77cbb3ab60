"""The demo's models: a small random-init Qwen2-VL (the reference model, before and after training by the real
trainer) and a two-tower baseline, each built with ``mmeb.testing.models`` for the benchmark's vocabulary.

The sizes and the training recipe below are the demo's score-changing settings: they were tuned so that
training for the default number of steps on two CPU cores takes a few minutes and clearly beats the untrained
model on the OOD tasks across seeds (see the demo's test). Everything else is the VLM2Vec recipe as
``mmeb train`` runs it (GradCache, InfoNCE with in-batch negatives, last-token pooling).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

#: config numbers of the reference Qwen2-VL (overrides of the "tiny-qwen2vl" preset)
REFERENCE_SIZES: dict[str, Any] = {
    "hidden_size": 64,  # text width; also the vision merger's output width (the preset sets both)
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    # head dim 16 -> 8 rotary frequencies, split over (time, height, width) as in Qwen2-VL
    "rope_scaling": {"type": "mrope", "mrope_section": [4, 2, 2]},
    "embed_dim": 64,  # vision tower width
    "depth": 2,  # vision tower layers
    "num_heads": 4,  # vision heads
}

#: the training recipe of the reference model (TrainConfig fields); steps and seed come from the command line
TRAINING: dict[str, Any] = {
    "backbone": "qwen2_vl",
    "lora": False,  # full fine-tuning: LoRA on random weights has nothing to adapt
    "temperature": 0.02,  # the paper's
    "global_batch_size": 64,
    "query_chunk_size": 32,
    "target_chunk_size": 32,
    "gradcache": True,
    # random init: far above the paper's fine-tuning rate. Tuned with the official 1-D positions (spec models.md:
    # Qwen2-VL's language model gets cumsum(mask) - 1 on all three rope axes, in training as in evaluation), which
    # learn more slowly here than the 3-D M-RoPE image positions did: at 400 steps, seed 0, 2e-3 gave +13.8 and
    # 3e-3 +31.0 OOD points (with M-RoPE 2e-3 had given +30)
    "learning_rate": 3e-3,
    "warmup_steps": 20,
    "lr_scheduler": "linear",
    "weight_decay": 0.0,
    "bf16": False,  # CPU
    "max_rows_per_subset": None,
    "logging_steps": 10,
    "num_workers": 0,
}
DEFAULT_STEPS = 400

UNTRAINED = "demo-qwen2vl-tiny-untrained"
TWO_TOWER = "demo-clip-tiny-random"


def _is_built(path: Path) -> bool:
    return (path / "config.json").is_file()


def _build_atomically(path: Path, builder) -> Path:
    """Build into a sibling temp dir, then rename: an interrupted build never looks finished."""
    if _is_built(path):
        return path
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    builder(tmp)
    tmp.replace(path)
    return path


def build_reference(path: str | Path, vocabulary: list[str], seed: int) -> Path:
    """The untrained reference model: random weights, the benchmark's words in its tokenizer."""
    from mmeb.testing.models import build

    return _build_atomically(Path(path), lambda out: build("tiny-qwen2vl", out, vocab_words=vocabulary, seed=seed,
                                                          **REFERENCE_SIZES))


def build_two_tower(path: str | Path, vocabulary: list[str], seed: int) -> Path:
    """A CLIP-style two-tower baseline with random weights (no trainer for two-tower models here): the floor
    that shows what the adapters and the engine give a model that has learned nothing."""
    from mmeb.testing.models import build

    return _build_atomically(Path(path), lambda out: build("tiny-clip", out, vocab_words=vocabulary, seed=seed))


def train_config(*, base: Path, train_data: Path, subsets: list[str], output_dir: Path, steps: int,
                 seed: int) -> dict[str, Any]:
    return {
        **TRAINING,
        "model": str(base),
        "train_data": str(train_data),
        "subsets": list(subsets),
        "output_dir": str(output_dir),
        "max_steps": steps,
        "save_steps": max(1, steps // 2),  # a checkpoint halfway: an interrupted demo resumes there
        "seed": seed,
    }


def is_trained(path: Path, config: dict[str, Any]) -> bool:
    """A finished training run of exactly ``config`` (the trainer records its full config; a model trained with
    another recipe - other steps, learning rate, seed, ... - is not this one)."""
    from mmeb.training.config import load_config

    recipe = path / "mmeb_model.json"
    if not (recipe.is_file() and _is_built(path)):
        return False
    training = json.loads(recipe.read_text(encoding="utf-8")).get("training") or {}
    return training.get("config") == load_config(config).model_dump(mode="json")


def train_reference(config: dict[str, Any], progress: bool = True) -> Path:
    from mmeb.training import train

    return Path(train(config, progress=progress))

"""The default LoRA targets are the official code's (VLM2Vec ``src/arguments.py``: one comma list,
``qkv_proj,o_proj,gate_up_proj,down_proj,k_proj,q_proj,out_proj,v_proj``, split and handed to peft for every
backbone, as in the code that trained the published checkpoints): peft matches module-name suffixes, so on
Qwen2-VL they adapt the language model's attention and down projection only (not gate/up), and on LLaVA-NeXT
the language model plus the CLIP tower's attention (q/k/v/out_proj)."""

from __future__ import annotations

import pytest

from mmeb.training.config import TrainConfig
from mmeb.training.model import build_st_model


def _adapted(model_dir, backbone) -> set[tuple[str, str]]:
    """(tower, module suffix) of every module that got a LoRA adapter."""
    config = TrainConfig(model=str(model_dir), subsets=["VOC2007"], output_dir="unused", backbone=backbone,
                         bf16=False)
    _, encoder = build_st_model(config, backbone)
    adapted = set()
    for name, _ in encoder.model.named_parameters():
        if ".lora_A." in name:
            path = name.split(".lora_A.")[0]
            tower = "vision" if any(v in path for v in ("visual", "vision_tower")) else "language"
            adapted.add((tower, path.rsplit(".", 1)[-1]))
    return adapted


def test_qwen2vl_default_targets_are_the_official_ones(tiny_qwen2vl):
    assert _adapted(tiny_qwen2vl, "qwen2_vl") == {("language", m) for m in ("q_proj", "k_proj", "v_proj", "o_proj",
                                                                              "down_proj")}


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-llava-next", tmp_path_factory.mktemp("tiny-llava-next") / "m")


def test_llava_next_default_targets_are_the_official_ones(llava_dir):
    assert _adapted(llava_dir, "llava_next") == (
        {("language", m) for m in ("q_proj", "k_proj", "v_proj", "o_proj", "down_proj")}
        | {("vision", m) for m in ("q_proj", "k_proj", "v_proj", "out_proj")})

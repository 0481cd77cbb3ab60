import json

import pytest
import torch

from mmeb.errors import ConfigError, UnknownNameError
from mmeb.testing.models import PRESETS, build

TINY = [p for p in PRESETS if p.startswith("tiny-") and p != "tiny-openclip"]  # open_clip: its own layout


@pytest.mark.parametrize("preset", TINY)
def test_tiny_presets_round_trip_offline(tiny_dir, preset):
    from transformers import AutoConfig, AutoProcessor

    path = tiny_dir(preset)
    assert AutoConfig.from_pretrained(path).architectures
    assert AutoProcessor.from_pretrained(path).tokenizer("a cat")["input_ids"]


@pytest.mark.parametrize("preset,backbone,token", [("tiny-qwen2vl", "qwen2_vl", "<|image_pad|>"),
                                                   ("tiny-llava-next", "llava_next", "<image>")])
def test_vlm_presets_declare_the_vlm2vec_recipe(tiny_dir, preset, backbone, token):
    recipe = json.loads((tiny_dir(preset) / "mmeb_model.json").read_text())
    assert recipe["format"] == "vlm2vec" and recipe["backbone"] == backbone and recipe["image_token"] == token


def test_two_tower_presets_have_no_recipe_file(tiny_dir):
    assert not (tiny_dir("tiny-clip") / "mmeb_model.json").exists()


def test_vocab_words_reach_the_tokenizer(tmp_path):
    from transformers import AutoProcessor

    path = build("tiny-clip", tmp_path / "m", vocab_words=["zebra", "Giraffe"])
    tok = AutoProcessor.from_pretrained(path).tokenizer
    assert tok.unk_token_id not in tok("zebra giraffe.")["input_ids"]


def test_seed_fixes_the_weights_and_overrides_change_sizes(tmp_path):
    from transformers import CLIPModel

    a = CLIPModel.from_pretrained(build("tiny-clip", tmp_path / "a", seed=1))
    b = CLIPModel.from_pretrained(build("tiny-clip", tmp_path / "b", seed=1))
    c = CLIPModel.from_pretrained(build("tiny-clip", tmp_path / "c", seed=2, hidden_size=64))
    assert torch.equal(a.text_projection.weight, b.text_projection.weight)
    assert c.config.text_config.hidden_size == 64 and c.config.vision_config.hidden_size == 64


def test_bad_preset_and_bad_override_are_refused(tmp_path):
    with pytest.raises(UnknownNameError, match="tiny-clip"):
        build("tiny-clap", tmp_path / "x")
    with pytest.raises(ConfigError, match="hiden_size"):
        build("tiny-clip", tmp_path / "y", hiden_size=64)


def test_real_size_presets_match_the_released_vocabularies():
    assert PRESETS["qwen2vl-2b"][1]["text"]["vocab_size"] == 151936
    assert PRESETS["clip-vit-l-14"][1]["text"]["vocab_size"] == 49408

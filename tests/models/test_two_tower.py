"""CLIP / SigLIP / BLIP / BLIP-2: tower routing, sum fusion, recipe settings."""

import pytest
import torch
from model_helpers import image

from mmeb.models.protocol import ModelInput

TWO_TOWER = ["tiny-clip", "tiny-siglip", "tiny-blip", "tiny-blip2"]
IMG_ONLY = ModelInput("", "", image(), "<|image_1|>\n")
TXT_ONLY = ModelInput("Find the photo:", "a red car", None, "Find the photo: a red car\n")
BOTH = ModelInput("Find the photo:", "a red car", image(), "<|image_1|>\nFind the photo: a red car\n")


@pytest.mark.parametrize("preset", TWO_TOWER)
def test_normalised_and_independent_of_batch_mates(tiny_model, mixed_inputs, preset):
    model = tiny_model(preset)
    together = model.encode(mixed_inputs, task_name="T", role="query")
    alone = torch.cat([model.encode([x], task_name="T", role="query") for x in mixed_inputs])
    torch.testing.assert_close(together.norm(dim=-1), torch.ones(len(mixed_inputs)))
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("preset", TWO_TOWER)
def test_image_plus_text_is_the_sum_of_the_towers(tiny_model, preset):
    model = tiny_model(preset)
    model.normalize = False
    try:
        img, txt, both = model.encode([IMG_ONLY, TXT_ONLY, BOTH], task_name="T", role="query")
    finally:
        model.normalize = True
    torch.testing.assert_close(both, img + txt, atol=1e-5, rtol=1e-5)


def test_clip_features_are_the_pooler_output_of_get_features(tiny_model):
    model = tiny_model("tiny-clip")
    batch = model.prepare([TXT_ONLY], task_name="T", role="query")
    with torch.inference_mode():
        ref = model.model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    torch.testing.assert_close(model.embed(batch)[0], torch.nn.functional.normalize(ref.pooler_output, dim=-1)[0])


def test_siglip_text_is_padded_to_max_length(tiny_model):
    model = tiny_model("tiny-siglip")
    batch = model.prepare([TXT_ONLY], task_name="T", role="query")
    assert batch["input_ids"].shape[1] == model.max_length
    assert model.settings["text_padding"] == "max_length"


def test_text_is_truncated_to_the_tower_max_length(tiny_model):
    model = tiny_model("tiny-clip")
    long = ModelInput("q", "cat " * 500, None, "q " + "cat " * 500)
    assert model.prepare([long], task_name="T", role="query")["input_ids"].shape[1] == model.max_length == 77


def test_blip_uses_the_itc_projections(tiny_model):
    model = tiny_model("tiny-blip")
    batch = model.prepare([IMG_ONLY], task_name="T", role="query")
    with torch.inference_mode():
        ref = model.model.vision_proj(model.model.vision_model(pixel_values=batch["pixel_values"])[0][:, 0])
    torch.testing.assert_close(model.embed(batch), torch.nn.functional.normalize(ref, dim=-1))
    assert model.settings["tower_normalize"] is True and model.settings["fusion"].startswith("sum")

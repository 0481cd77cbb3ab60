"""CLIP / SigLIP / BLIP / BLIP-2: tower routing, sum fusion, padding and truncation, recorded settings.
(Exact recipes against spec references: test_two_tower_recipes.py.)"""

import pytest
import torch
from model_helpers import image

from mmeb.models import load_model
from mmeb.models.protocol import ModelInput

TWO_TOWER = ["tiny-clip", "tiny-siglip", "tiny-blip", "tiny-blip2"]
IMG_ONLY = ModelInput("", "", image(), "")
TXT_ONLY = ModelInput("Find the photo:", "a red car", None, "Find the photo: a red car\n")
BOTH = ModelInput("Find the photo:", "a red car", image(), "Find the photo: a red car\n")


@pytest.mark.parametrize("preset", TWO_TOWER)
def test_normalised_and_independent_of_batch_mates(tiny_model, mixed_inputs, preset):
    model = tiny_model(preset)
    together = model.encode(mixed_inputs, task_name="T", role="query")
    alone = torch.cat([model.encode([x], task_name="T", role="query") for x in mixed_inputs])
    torch.testing.assert_close(together.norm(dim=-1), torch.ones(len(mixed_inputs)))
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("preset", ["tiny-clip", "tiny-siglip", "tiny-blip"])
@pytest.mark.parametrize("recipe", ["default", "native"])
def test_image_plus_text_is_the_sum_of_the_towers(tiny_dir, preset, recipe):
    model = load_model(str(tiny_dir(preset)), device="cpu", recipe=recipe, normalize=False)
    img, txt, both = model.encode([IMG_ONLY, TXT_ONLY, BOTH], task_name="T", role="query")
    torch.testing.assert_close(both, img + txt, atol=1e-5, rtol=1e-5)
    assert model.settings["scoring"] == "dot product"


def test_blip2_always_encodes_the_text(tiny_model):
    """The paper's BLIP2Collator passes a one-element text list for every item: an image with an empty
    string is image feature + the text feature of ''."""
    model = tiny_model("tiny-blip2")
    batch = model.prepare([IMG_ONLY], task_name="T", role="query")
    assert [rows for rows, _ in batch["text_groups"]] == [[0]] and batch["image_rows"] == [0]


def test_siglip_default_is_unpadded_and_native_pads_to_max_length(tiny_dir):
    short, long = TXT_ONLY, ModelInput("", "", None, "a much longer text about a red car on the left")
    default = load_model(str(tiny_dir("tiny-siglip")), device="cpu")
    groups = default.prepare([short, long], task_name="T", role="query")["text_groups"]
    assert len(groups) == 2 and all("attention_mask" in tensors for _, tensors in groups)
    native = load_model(str(tiny_dir("tiny-siglip")), device="cpu", recipe="native")
    (rows, tensors), = native.prepare([short, long], task_name="T", role="query")["text_groups"]
    assert tensors["input_ids"].shape == (2, 64) and "attention_mask" not in tensors
    assert native.settings["text_padding"] == "max_length" and default.settings["text_attention_mask"] != "none"


def test_clip_default_masks_the_pad_eos_key(tiny_model):
    model = tiny_model("tiny-clip")
    (_, tensors), = model.prepare([TXT_ONLY], task_name="T", role="query")["text_groups"]
    ids, mask = tensors["input_ids"][0], tensors["attention_mask"][0]
    eos = model.processor.tokenizer.eos_token_id
    assert model.processor.tokenizer.pad_token_id == eos and ids[-1] == eos and mask[-1] == 0 and mask[:-1].all()


def test_text_is_truncated_to_the_tower_max_length(tiny_model):
    model = tiny_model("tiny-clip")
    long = ModelInput("q", "cat " * 500, None, "q " + "cat " * 500)
    (_, tensors), = model.prepare([long], task_name="T", role="query")["text_groups"]
    assert tensors["input_ids"].shape[1] == model.max_length == 77


def test_blip_uses_the_itc_projections(tiny_model):
    model = tiny_model("tiny-blip")
    batch = model.prepare([IMG_ONLY], task_name="T", role="query")
    with torch.inference_mode():
        ref = model.model.vision_proj(model.model.vision_model(pixel_values=batch["pixel_values"])[0][:, 0])
    torch.testing.assert_close(model.embed(batch), torch.nn.functional.normalize(ref, dim=-1))
    assert model.settings["tower_normalize"] is True and model.settings["recipe"] == "native"


@pytest.mark.parametrize("preset", TWO_TOWER)
def test_settings_record_the_recipe_and_its_source(tiny_model, preset):
    settings = tiny_model(preset).settings
    assert settings["recipe"] == ("native" if preset == "tiny-blip" else "default")  # BLIP: no published row
    assert settings["scoring"] == "cosine"
    assert settings["recipe_source"] and settings["text_input"] and settings["fusion"]
    assert "Pil" in settings["image_preprocess"].get("backend", "Pil")  # the PIL image processors, as run


def test_device_preprocessing_uses_the_torchvision_twin_and_is_recorded(tiny_dir):
    pytest.importorskip("torchvision")
    model = load_model(str(tiny_dir("tiny-clip")), device="cpu")
    reference = model.encode([BOTH, IMG_ONLY], task_name="T", role="query")
    model.set_preprocess("device")
    on_device = model.encode([BOTH, IMG_ONLY], task_name="T", role="query")
    assert "image_preprocess_on" in model.settings
    assert torch.nn.functional.cosine_similarity(reference, on_device).min() > 0.99  # other kernels, same numbers


def test_recipes_with_their_own_pixel_pipeline_refuse_device_preprocessing(tiny_model):
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="preprocess reference"):
        tiny_model("tiny-blip2").set_preprocess("device")


@pytest.mark.parametrize("preset", ["tiny-clip", "tiny-blip2", "tiny-openclip"])
def test_video_frames_are_refused_not_embedded_as_text(tiny_model, preset):
    # a two-tower recipe has no video path: the clip's caption alone would be a silently wrong embedding
    from model_helpers import image

    from mmeb.errors import ConfigError
    from mmeb.models.protocol import ModelInput

    clip = ModelInput("Understand the content of the provided video.", "", None,
                      "<|video_pad|> Understand the content of the provided video.", frames=(image(), image()))
    with pytest.raises(ConfigError, match="task MSR-VTT has video inputs") as err:
        tiny_model(preset).encode([clip], task_name="MSR-VTT", role="candidate")
    assert "\n" not in str(err.value)

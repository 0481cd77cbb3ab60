"""Bad input to the VLM recipes: one clear error naming the model, the input and the fix."""

import pytest
from model_helpers import image

from mmeb.errors import ConfigError, DataError, MMEBError
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput
from mmeb.models.vlm import ImageTooLargeError


@pytest.mark.parametrize("name, preset, needs", [("gme-qwen2vl-2b", "tiny-llava-next", "qwen2_vl"),
                                                 ("vlm2vec-v2", "tiny-llava-next", "qwen2_vl"),
                                                 ("e5-v", "tiny-qwen2vl", "llava_next")])
def test_weights_of_another_architecture_are_refused(tiny_dir, name, preset, needs):
    with pytest.raises(ConfigError, match=needs) as err:
        load_model(name, weights=str(tiny_dir(preset)), device="cpu")
    assert "\n" not in str(err.value)


def test_a_recipe_built_over_the_wrong_model_is_refused(tiny_dir):
    from transformers import AutoProcessor, LlavaNextForConditionalGeneration

    from mmeb.models.gme import GMEEmbedder

    directory = tiny_dir("tiny-llava-next")
    with pytest.raises(ConfigError, match="qwen2_vl weights.*'llava_next'"):
        GMEEmbedder(LlavaNextForConditionalGeneration.from_pretrained(directory),
                    AutoProcessor.from_pretrained(directory), name="gme-x", revision=None, metadata={})


@pytest.mark.parametrize("raw, match", [("Represent the given image.\n", "placeholder"),
                                        ("<|image_1|>\n<|image_1|>\nRepresent the given image.\n", "2 image tokens")])
def test_image_and_placeholder_must_agree(tiny_model, raw, match):
    model = tiny_model("tiny-qwen2vl")
    with pytest.raises(DataError, match=match):
        model.encode([ModelInput("Represent the given image.", "", image(), raw)], task_name="T", role="candidate")


def test_an_image_that_does_not_fit_max_length_is_an_error_not_a_truncation(tiny_dir):
    gme = load_model("gme-qwen2vl-2b", weights=str(tiny_dir("tiny-qwen2vl")), device="cpu", max_length=30)
    big = ModelInput("Represent the given image.", "", image(200, 150), "<|image_1|>\nRepresent the given image.\n")
    with pytest.raises(ImageTooLargeError, match=r"gme-qwen2vl-2b: task MSCOCO_t2i, candidate .*max_length 30.*max_pixels"):
        gme.encode([big], task_name="MSCOCO_t2i", role="candidate")
    assert issubclass(ImageTooLargeError, MMEBError)
    # text beyond max_length is truncated, as the official processor call did (truncation=True)
    long_text = ModelInput("Find me an everyday image that matches the given caption:", "a red car " * 20, None,
                           "Find me an everyday image that matches the given caption: " + "a red car " * 20)
    batch = gme.prepare([long_text], task_name="MSCOCO_t2i", role="query")
    assert batch["input_ids"].shape[1] == 30


def test_video_frames_are_refused_not_embedded_as_text(tiny_model):
    model = tiny_model("tiny-llava-next")  # the v1 recipes' video handling is not reproduced
    clip = ModelInput("Recognize the category of the video content.", "", None,
                      "<|video_pad|> Recognize the category of the video content.", frames=(image(), image()))
    with pytest.raises(ConfigError, match="task K700 has video inputs"):
        model.encode([clip], task_name="K700", role="query")


def test_gme_embeds_a_video_as_its_middle_frame(tiny_dir):
    """VLM2Vec@main src/model/model.py: for GME a list of frames becomes frames[len // 2]."""
    gme = load_model("gme-qwen2vl-2b", weights=str(tiny_dir("tiny-qwen2vl")), device="cpu")
    frames = (image(40, 30, "red"), image(40, 30, "green"), image(40, 30, "blue"), image(40, 30, "white"))
    raw = "<|video_pad|> Recognize the category of the video content."
    video = ModelInput("Recognize the category of the video content.", "", None, raw, frames=frames)
    still = ModelInput("Recognize the category of the video content.", "", frames[2], raw)
    got, want = (gme.prepare([x], task_name="K700", role="query") for x in (video, still))
    assert got.keys() == want.keys() and all(bool((got[k] == want[k]).all()) for k in got)


@pytest.mark.parametrize("setting", [{"padding_side": "middle"}, {"image_resize": "big"}])
def test_a_bad_recipe_setting_value_is_one_line(tiny_dir, setting):
    with pytest.raises(ConfigError, match=f"model 'vlm2vec-v2': setting {next(iter(setting))}") as err:
        load_model("vlm2vec-v2", weights=str(tiny_dir("tiny-qwen2vl")), device="cpu", **setting)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("device, match", [("tpu", "not a device"), ("cuda", "no CUDA GPU")])
def test_a_device_this_machine_lacks_is_one_line(tiny_dir, monkeypatch, device, match):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=match) as err:
        load_model("vlm2vec-v2", weights=str(tiny_dir("tiny-qwen2vl")), device=device)
    assert "\n" not in str(err.value)

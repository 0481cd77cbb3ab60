"""`mmeb train` forms and embeds its inputs exactly as the evaluation adapter does, for every backbone (Qwen2-VL,
LLaVA-NeXT, the Phi-3.5-V stand-in), and trains the model class evaluation loads: a trained checkpoint
evaluates exactly as it was trained."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from mmeb.data.images import decode_image
from mmeb.models.protocol import ModelInput
from mmeb.models.vlm2vec import Phi3VEmbedder, VLM2VecRecipe
from mmeb.training.encoder import RawInput, VLM2VecEncoder


def _png(width, height, mode, seed) -> bytes:
    rgb = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
    image = rgb.quantize(colors=16) if mode == "P" else rgb.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


ROWS = [  # (stored string, image bytes or None)
    ("<|image_1|>\nRepresent the given image for classification\n", _png(40, 30, "P", 1)),
    ("Find me an everyday image that matches the given caption: a red car\n", None),
    ("<|image_1|>\nFind a Wikipedia image that answers this question: what color is it?\n", None),  # orphan
    ("<|image_1|>\nRepresent the given image.\n", _png(20, 60, "RGBA", 2)),
]


def _pair(directory):
    """The evaluation adapter and a training encoder over the same weights (separate processors)."""
    from transformers import AutoProcessor

    from mmeb.models import load_model

    adapter = load_model(str(directory), device="cpu", dtype="float32")
    encoder = VLM2VecEncoder(adapter.model, AutoProcessor.from_pretrained(directory), VLM2VecRecipe.load(directory))
    return adapter, encoder


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-llava-next", tmp_path_factory.mktemp("tiny-llava-next") / "m", golden=True)


@pytest.mark.parametrize("backbone", ["qwen2_vl", "llava_next"])
def test_training_inputs_and_embeddings_equal_the_evaluation_adapters(backbone, tiny_qwen2vl, llava_dir):
    adapter, encoder = _pair(tiny_qwen2vl if backbone == "qwen2_vl" else llava_dir)
    raws = [RawInput(text, data) for text, data in ROWS]
    inputs = [ModelInput("", "", decode_image(data) if data else None, text) for text, data in ROWS]
    trained = encoder.process(raws)
    evaluated = adapter.prepare(inputs, task_name="T", role="query")
    assert trained.keys() == evaluated.keys() and "pixel_values" in trained
    for key in trained:
        torch.testing.assert_close(trained[key], evaluated[key], rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(encoder.embed(raws), adapter.embed(evaluated), rtol=1e-5, atol=1e-6)


def test_the_phi_stand_in_goes_through_the_same_per_item_path():
    from mmeb.testing.phi3v import StandInPhi, StandInProcessor

    recipe = VLM2VecRecipe.for_backbone("phi3_v")
    train_processor, eval_processor = StandInProcessor(), StandInProcessor()
    model = StandInPhi(len(train_processor.tokenizer))
    encoder = VLM2VecEncoder(model, train_processor, recipe)
    adapter = Phi3VEmbedder(model, eval_processor, recipe, name="phi-standin", revision=None, metadata={})
    raws = [RawInput(text, data) for text, data in ROWS]
    inputs = [ModelInput("", "", decode_image(data) if data else None, text) for text, data in ROWS]
    trained = encoder.process(raws)
    evaluated = adapter.prepare(inputs, task_name="T", role="query")
    assert train_processor.calls == eval_processor.calls == [(t, 1 if d else None) for t, d in ROWS]
    for key in trained:
        torch.testing.assert_close(trained[key], evaluated[key], rtol=0, atol=0)
    assert trained["attention_mask"][:, 0].min() == 1  # right padding
    with torch.no_grad():
        torch.testing.assert_close(encoder.embed(raws), adapter.embed(evaluated), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backbone", ["qwen2_vl", "llava_next"])
def test_training_loads_the_model_class_evaluation_loads(backbone, tiny_qwen2vl, llava_dir, tmp_path):
    from mmeb.models import load_model
    from mmeb.training.config import TrainConfig
    from mmeb.training.model import load_vlm

    directory = tiny_qwen2vl if backbone == "qwen2_vl" else llava_dir
    config = TrainConfig(model=str(directory), subsets=["VOC2007"], output_dir=str(tmp_path))
    model, _ = load_vlm(config, backbone)
    assert type(model) is type(load_model(str(directory), device="cpu").model)

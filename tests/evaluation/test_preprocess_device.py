"""--preprocess device: workers only decode, the model's processor resizes and normalises on its device; a
recorded, score-changing setting; refused for a model that cannot do it."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine_testdata import image_item, make_task, text_item
from mmeb.data.items import QueryRow
from mmeb.errors import ConfigError
from mmeb.evaluation import evaluate
from toy_models import ContentModel


def photo(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(coarse).resize((70 + seed, 50), Image.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from mmeb.models import load_model
    from mmeb.testing.models import build

    path = build("tiny-clip", tmp_path_factory.mktemp("tiny-clip"), vocab_words=["red", "green", "photo"])
    return lambda: load_model(str(path), device="cpu", dtype="float32")


def test_device_preprocess_is_recorded_and_close_to_the_reference(tiny_clip):
    images = {f"{i}.jpg": photo(i) for i in range(6)}
    rows = [QueryRow(image_item(f"{i}.jpg"), [text_item(w) for w in ("red", "green", "photo")], i) for i in range(6)]
    task = make_task("Photos", rows, images)
    reference_model, device_model = tiny_clip(), tiny_clip()
    (reference,) = evaluate(reference_model, [task], num_workers=2, save_predictions=True, progress=False)
    (device,) = evaluate(device_model, [task], num_workers=2, preprocess="device", save_predictions=True,
                         progress=False)
    assert "image_preprocess_on" in device.model.settings and "image_preprocess_on" not in reference.model.settings
    inputs = [task.load().images.open(f"{i}.jpg") for i in range(6)]
    from mmeb.models.protocol import ModelInput

    batch = [ModelInput("", "", im, "<|image_1|>") for im in inputs]
    a = reference_model.encode(batch, task_name="Photos", role="query")
    b = device_model.encode(batch, task_name="Photos", role="query")
    cosine = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
    assert float(cosine.min()) > 0.999  # on the CPU the same torchvision ops run: (near) identical


def test_a_model_without_device_preprocessing_is_refused(tiny_clip):
    rows = [QueryRow(text_item("red", "Find"), [text_item("red"), text_item("green")], 0)]
    with pytest.raises(ConfigError, match="cannot preprocess images on the device"):
        evaluate(ContentModel(), [make_task("Texts", rows)], preprocess="device", progress=False)

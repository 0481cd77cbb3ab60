"""Shared fixtures: one tiny random Qwen2-VL and one small generated MMEB-train layout per session."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from mmeb.training.layout import write_train_layout

COLORS = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220), "yellow": (230, 230, 20),
          "black": (0, 0, 0), "white": (255, 255, 255), "car": (120, 60, 0), "tree": (0, 90, 60)}


def png(rgb, size=(28, 28)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, format="PNG")
    return buf.getvalue()


def generated_subsets(n_per_subset: int = 24, seed: int = 0) -> tuple[dict[str, list[dict]], dict[str, bytes]]:
    """Two learnable subsets: image -> colour word (with a hard negative on half the rows), colour
    word -> image. Images are flat colours with a little noise-free size jitter."""
    rng = random.Random(seed)
    names = list(COLORS)
    images: dict[str, bytes] = {}
    i2t, t2i = [], []
    for i in range(n_per_subset):
        word, other = rng.sample(names, 2)
        path = f"images/VOC2007/Train/{i}.png"
        images[path] = png(COLORS[word], (28 + 28 * (i % 2), 28))
        row = {"qry": "<|image_1|>\nRepresent the given image for classification\n", "qry_image_path": path,
               "pos_text": word, "pos_image_path": "",
               "neg_text": other if i % 2 == 0 else "", "neg_image_path": ""}
        i2t.append(row)
        word = rng.choice(names)
        path = f"images/MSCOCO_t2i/Train/{i}.png"
        images[path] = png(COLORS[word])
        t2i.append({"qry": f"Find me an everyday image that matches the given caption: {word}\n",
                    "qry_image_path": "", "pos_text": "<|image_1|>\nRepresent the given image.\n",
                    "pos_image_path": path})
    return {"VOC2007": i2t, "MSCOCO_t2i": t2i}, images


@pytest.fixture(scope="session")
def tiny_qwen2vl(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-qwen2vl", tmp_path_factory.mktemp("tiny-qwen2vl"), vocab_words=list(COLORS))


@pytest.fixture(scope="session")
def train_layout(tmp_path_factory):
    subsets, images = generated_subsets()
    return write_train_layout(tmp_path_factory.mktemp("mmeb-train"), subsets, images)

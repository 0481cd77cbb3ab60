"""Engine test fixtures; helpers live in engine_testdata.py, toy models in toy_models.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # engine_testdata / toy_models importable (plug-in module form)

from engine_testdata import TIE_IMAGES, make_task, tie_rows  # noqa: E402


@pytest.fixture
def tie_task():
    return make_task("TieTask", tie_rows(), TIE_IMAGES)


@pytest.fixture(scope="module")
def tiny_qwen2vl_model(tmp_path_factory):
    from mmeb.models import load_model
    from mmeb.testing.models import build

    words = ["gold", "lead", "tin", "iron", "twin", "of", "copper", "zinc", "which", "metal", "Find", "Represent",
             "the", "given", "image."]
    path = build("tiny-qwen2vl", tmp_path_factory.mktemp("tiny-qwen2vl"), vocab_words=words)
    return load_model(str(path), device="cpu", dtype="float32")

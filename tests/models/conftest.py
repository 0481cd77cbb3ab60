"""Tiny random-weight models, each built once per test session (all offline, < 1 s each)."""

import warnings

import pytest
from model_helpers import image

from mmeb.models.protocol import ModelInput

warnings.filterwarnings("ignore", message=".*bos_token_id.*")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """tiny_dir(preset) -> saved checkpoint directory (cached per preset)."""
    from mmeb.testing.models import build

    built = {}

    def get(preset: str):
        if preset not in built:
            built[preset] = build(preset, tmp_path_factory.mktemp(preset) / preset)
        return built[preset]

    return get


@pytest.fixture(scope="session")
def tiny_model(tiny_dir):
    """tiny_model(preset) -> adapter loaded through load_model(dir) (cached per preset)."""
    from mmeb.models import load_model

    loaded = {}

    def get(preset: str):
        if preset not in loaded:
            loaded[preset] = load_model(str(tiny_dir(preset)), device="cpu")
        return loaded[preset]

    return get


@pytest.fixture
def mixed_inputs():
    """Inputs of every modality and different lengths (so batches get padded)."""
    return [
        ModelInput("Represent the given image.", "", image(60, 40, "red"), "<|image_1|>\nRepresent the given image.\n"),
        ModelInput("Find a caption for the image:", "a small red car on the left", None,
                   "Find a caption for the image: a small red car on the left\n"),
        ModelInput("Select the object:", "dog", image(20, 50, "blue"), "<|image_1|>\nSelect the object: dog\n"),
        ModelInput("", "cat", None, "cat"),
    ]

"""Plug-ins: ``file.py:Class`` and ``package.module:factory``, called with no arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmeb.errors import ConfigError, UnknownNameError
from mmeb.models.plugin import is_plugin_spec, load_plugin

TOY_FILE = Path(__file__).parent / "toy_models.py"


def test_file_and_module_forms():
    by_file = load_plugin(f"{TOY_FILE}:ContentModel")
    assert type(by_file).__name__ == "ContentModel" and by_file.settings["scale"] == 1.0
    by_module = load_plugin("toy_models:make_content_model")  # tests/evaluation is on sys.path (conftest)
    assert by_module.name == "toy/content-model"


def test_spec_recognition():
    assert is_plugin_spec("my_model.py:Model") and is_plugin_spec("pkg.mod:factory")
    assert not is_plugin_spec("st:sentence-transformers/clip-ViT-B-32")
    assert not is_plugin_spec("clip-vit-l-14") and not is_plugin_spec("https://example.com/x")


def test_errors_say_what_and_where(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_plugin(f"{tmp_path}/missing.py:Model")
    with pytest.raises(UnknownNameError, match="Did you mean: ContentModel"):
        load_plugin(f"{TOY_FILE}:ContentModle")
    with pytest.raises(ConfigError, match="module 'no_such_module_xyz' not found"):
        load_plugin("no_such_module_xyz:factory")
    (tmp_path / "noencode.py").write_text("class Model:\n    pass\n")
    with pytest.raises(ConfigError, match="without an encode"):
        load_plugin(f"{tmp_path}/noencode.py:Model")
    (tmp_path / "needsargs.py").write_text("class Model:\n    def __init__(self, size):\n        pass\n")
    with pytest.raises(ConfigError, match="no arguments"):
        load_plugin(f"{tmp_path}/needsargs.py:Model")

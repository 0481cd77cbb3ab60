"""Plug-ins with arguments: `--model file.py:Class --model-arg key=value` (YAML values) and
`load_model("file.py:Class", model_args={...})`, recorded in the model's settings and the result files."""

import json

import pytest

from mmeb.cli import main
from mmeb.errors import ConfigError
from mmeb.models import load_model
from mmeb.models.plugin import parse_model_args

PLUGIN = '''
import numpy as np

class Scaled:
    name = "scaled"

    def __init__(self, dim, scale=1.0, labels=()):
        self.dim, self.scale, self.labels = dim, scale, list(labels)
        self.settings = {"pooling": "mean"}

    def encode(self, inputs, **context):
        return np.stack([self.scale * np.eye(self.dim)[len(i.text) % self.dim] for i in inputs])


class ComputedSettings:
    def __init__(self, width=2):
        self.width = width

    @property
    def settings(self):
        return {"width": self.width}

    def encode(self, inputs, **context):
        return np.ones((len(inputs), self.width))
'''


@pytest.fixture
def plugin(tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PLUGIN)
    return path


def test_python_model_args_reach_the_class_and_are_recorded(plugin):
    model = load_model(f"{plugin}:Scaled", model_args={"dim": 3, "scale": 2.0})
    assert (model.dim, model.scale) == (3, 2.0)
    assert model.settings == {"pooling": "mean", "model_args": {"dim": 3, "scale": 2.0}}
    computed = load_model(f"{plugin}:ComputedSettings", model_args={"width": 5})
    assert computed.settings == {"width": 5, "model_args": {"width": 5}}
    assert computed.encode([None, None]).shape == (2, 5) and computed.name == "ComputedSettings"


def test_missing_arguments_point_at_model_arg(plugin):
    with pytest.raises(ConfigError, match=r"calling Scaled\(no arguments\) failed.*--model-arg key=value"):
        load_model(f"{plugin}:Scaled")
    with pytest.raises(ConfigError, match="model_args"):
        load_model(f"{plugin}:Scaled", dim=3)  # a plug-in has no named settings


def test_values_are_yaml():
    args = parse_model_args(["dim=3", "scale=0.5", "labels=[a, b]", "flag=true", "name=two words", "opt={k: 1}",
                             "empty="])
    assert args == {"dim": 3, "scale": 0.5, "labels": ["a", "b"], "flag": True, "name": "two words",
                    "opt": {"k": 1}, "empty": ""}


@pytest.mark.parametrize("pair,why", [("x=!!python/object/apply:os.system [ls]", "YAML tag"),
                                      ("x=!!str 3", "YAML tag"), ("x=[1, 2", "not valid YAML"),
                                      ("novalue", "expected key=value"), ("2x=1", "expected key=value")])
def test_tags_and_invalid_yaml_are_one_clear_line(pair, why):
    with pytest.raises(ConfigError, match=why) as err:
        parse_model_args([pair])
    assert "\n" not in str(err.value)


def test_cli_model_args_are_recorded_in_the_results(plugin, tmp_path, capsys):
    from mmeb.testing.mirror import write_mirror

    mirror = write_mirror(tmp_path / "mirror", ["ImageNet-1K"], n_queries=3, seed=0)
    code = main(["run", "--model", f"{plugin}:Scaled", "--model-arg", "dim=4", "--model-arg", "labels=[a, b]",
                 "--tasks", "ImageNet-1K", "--data-dir", str(mirror), "--output-dir", str(tmp_path / "out"),
                 "--num-workers", "0", "--no-progress"])
    assert code == 0
    [result] = (tmp_path / "out").rglob("ImageNet-1K.json")
    settings = json.loads(result.read_text())["model"]["settings"]
    assert settings["model_args"] == {"dim": 4, "labels": ["a", "b"]} and settings["pooling"] == "mean"


def test_cli_bad_model_arg_is_a_usage_error(plugin, tmp_path, capsys):
    code = main(["run", "--model", f"{plugin}:Scaled", "--model-arg", "dim=!!int 3", "--tasks", "ImageNet-1K",
                 "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "--model-arg dim" in err and "YAML tag" in err and len(err.strip().splitlines()) == 1

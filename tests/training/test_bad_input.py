"""Bad input fails with a clear message before any model weights are loaded; the CLI prints it."""

from __future__ import annotations

import json

import pytest

from mmeb.errors import ConfigError, DataError, UnknownNameError
from mmeb.training.trainer import check

from conftest import generated_subsets


def _cfg(model, layout, tmp_path, **kw):
    return dict(model=str(model), train_data=str(layout), subsets=["VOC2007"], output_dir=str(tmp_path / "o"),
                global_batch_size=8, query_chunk_size=4, target_chunk_size=4) | kw


@pytest.fixture(autouse=True)
def _no_model_loading(monkeypatch):
    """Any attempt to load weights fails the test: every check must come first."""
    import transformers

    def refuse(*a, **k):
        raise AssertionError("model weights loaded before the input was validated")

    monkeypatch.setattr(transformers.AutoModelForImageTextToText, "from_pretrained", refuse)


def test_valid_config_passes_the_check(tiny_qwen2vl, train_layout, tmp_path):
    assert "qwen2_vl, 24 rows" in check(_cfg(tiny_qwen2vl, train_layout, tmp_path))


@pytest.mark.parametrize("change, error, message", [
    ({"subsets": ["VOC2070"]}, UnknownNameError, "Did you mean: VOC2007"),
    ({"subsets": {"VOC2007": 1.0, "NIGHTS": 1.0}}, UnknownNameError, "NIGHTS"),
    ({"backbone": "qwen3_vl"}, ConfigError, "backbone"),
    ({"lora_rank": 8}, ConfigError, "did you mean 'lora_r'"),
    ({"global_batch_size": 10}, ConfigError, "not divisible by query_chunk_size 4"),
    ({"global_batch_size": 32}, DataError, "fewer than one global batch"),
    ({"dora": True, "lora": False}, ConfigError, "dora"),
    ({"hard_negatives": True, "subsets": ["MSCOCO_t2i"]}, DataError, "no neg_text"),
    ({"resume": "/nonexistent/checkpoint-3"}, ConfigError, "not an mmeb training checkpoint"),
    # values the Trainer or the image processor would only reject mid-run, with a traceback
    ({"lr_scheduler": "cosinee"}, ConfigError, "lr_scheduler: .*'cosinee'.*cosine"),
    ({"image_resize": [0, 448]}, ConfigError, "image_resize"),
    ({"min_pixels": -5}, ConfigError, "min_pixels"),
    ({"max_pixels": 0}, ConfigError, "max_pixels"),
    ({"min_pixels": 200_000, "max_pixels": 100_000}, ConfigError, "min_pixels 200000 .* max_pixels 100000"),
    ({"max_length": 0}, ConfigError, "max_length"),
])
def test_bad_inputs_are_refused_up_front(tiny_qwen2vl, train_layout, tmp_path, change, error, message):
    with pytest.raises(error, match=message):
        check(_cfg(tiny_qwen2vl, train_layout, tmp_path, **change))


def test_model_that_is_not_a_vlm2vec_backbone(tmp_path, train_layout):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ConfigError, match="model_type 'bert'.*not a VLM2Vec backbone"):
        check(_cfg(tmp_path / "m", train_layout, tmp_path))


def test_missing_image_in_selected_rows(tiny_qwen2vl, tmp_path):
    from mmeb.training.layout import write_train_layout

    subsets, images = generated_subsets(8)
    del images[subsets["VOC2007"][5]["qry_image_path"]]
    root = write_train_layout(tmp_path / "d", subsets, images, check_images=False)
    with pytest.raises(DataError, match="VOC2007.*row 5"):
        check(_cfg(tiny_qwen2vl, root, tmp_path))


def test_cli_reports_bad_config_in_one_line(tiny_qwen2vl, train_layout, tmp_path, capsys):
    from mmeb.cli import main

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in _cfg(tiny_qwen2vl, train_layout, tmp_path).items()))
    assert main(["train", "--config", str(cfg), "--check"]) == 0
    assert "ok: qwen2_vl" in capsys.readouterr().out
    assert main(["train", "--config", str(cfg), "--set", "temprature=0.05"]) == 2
    assert "did you mean 'temperature'" in capsys.readouterr().err


def test_cli_reports_unparsable_yaml_in_one_line_with_its_position(tmp_path, capsys):
    from mmeb.cli import main

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("model: m\nsubsets: [VOC2007\noutput_dir: o\n")
    assert main(["train", "--config", str(cfg), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(cfg) in err and "line 3" in err and "expected ',' or ']'" in err


def test_output_dir_that_is_a_file(tiny_qwen2vl, train_layout, tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(ConfigError, match="output_dir .*taken.* is a file"):
        check(_cfg(tiny_qwen2vl, train_layout, tmp_path, output_dir=str(tmp_path / "taken")))


@pytest.mark.parametrize("command", [["train", "--config", "cfg.yaml", "--check"], ["demo", "--out", "d"]])
@pytest.mark.parametrize("missing", ["peft", "sentence_transformers", "accelerate"])
def test_missing_train_extra_is_one_line(command, missing, monkeypatch, capsys, tmp_path):
    import sys

    from mmeb.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` now raises ImportError
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'mmeb[train]'" in err and missing in err, err


# deepspeed is refused outright without a GPU, before its file is looked at
@pytest.mark.parametrize("key", ["fsdp_config"] + (["deepspeed"] if __import__("torch").cuda.is_available() else []))
@pytest.mark.parametrize("content, message", [(None, "not found"), ("{not json", "not valid JSON")])
def test_sharding_config_file_missing_or_broken(tiny_qwen2vl, train_layout, tmp_path, key, content, message):
    path = tmp_path / "sharding.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=f"{key} .*sharding.json.*{message}"):
        check(_cfg(tiny_qwen2vl, train_layout, tmp_path, **{key: str(path)}))

"""Every bad input ends in one line on stderr (exit 2), never a traceback - and before anything loads."""

from __future__ import annotations

import pytest

from mmeb.cli import main


def _one_line_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("model,expected", [
    ("a\x00b", "control character"),
    ("x" * 5000, "too long"),
    ("models/" + "y" * 300, "too long"),
])
def test_unusable_model_names(capsys, tmp_path, model, expected):
    line = _one_line_error(capsys, "run", "--model", model, "--tasks", "ImageNet-1K", "--output-dir", str(tmp_path))
    assert expected in line


@pytest.mark.parametrize("option,value,expected", [
    ("--revision", "..", "not a revision"),
    ("--revision", "../../etc", "not a revision"),
    ("--revision", "main\x00", "control character"),
    ("--dataset-revision", "..", "not a revision"),
])
def test_unusable_revisions(capsys, tmp_path, option, value, expected):
    line = _one_line_error(capsys, "run", "--model", "vlm2vec-phi3", option, value, "--tasks", "ImageNet-1K",
                           "--output-dir", str(tmp_path))
    assert expected in line and option in line


@pytest.mark.parametrize("device,expected", [("tpu:7", "not a device"), ("cuda:99", "cuda")])
def test_unavailable_device(capsys, tmp_path, device, expected):
    line = _one_line_error(capsys, "run", "--model", "vlm2vec-phi3", "--device", device, "--tasks", "ImageNet-1K",
                           "--output-dir", str(tmp_path))
    assert expected in line and "--device" in line


def test_cuda_without_a_gpu(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    line = _one_line_error(capsys, "run", "--model", "vlm2vec-phi3", "--device", "cuda", "--tasks", "ImageNet-1K",
                           "--output-dir", str(tmp_path))
    assert "no CUDA GPU" in line


def test_cache_dir_that_is_a_file(capsys, tmp_path):
    (tmp_path / "c").write_text("x")
    line = _one_line_error(capsys, "run", "--model", "vlm2vec-phi3", "--cache-dir", str(tmp_path / "c"),
                           "--tasks", "ImageNet-1K", "--output-dir", str(tmp_path / "o"))
    assert "--cache-dir" in line and "not a folder" in line


def _train_config(tmp_path, model):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"model: {model}\ntrain_data: {tmp_path}\nsubsets: [VOC2007]\noutput_dir: {tmp_path / 'o'}\n")
    return cfg


def test_train_with_a_missing_model_path(capsys, tmp_path):
    line = _one_line_error(capsys, "train", "--config", str(_train_config(tmp_path, tmp_path / "no-model")),
                           "--check")
    assert "does not exist" in line and "no-model" in line


@pytest.mark.parametrize("value,expected", [
    ("[1, 2", "not valid YAML"),
    ("!!python/object/apply:os.system [echo hi]", "YAML tag"),
    ("!!binary aGk=", "YAML tag"),
])
def test_train_set_values_must_be_plain_yaml(capsys, tmp_path, value, expected):
    line = _one_line_error(capsys, "train", "--config", str(_train_config(tmp_path, tmp_path)), "--set",
                           f"subsets={value}", "--check")
    assert expected in line and "--set subsets" in line

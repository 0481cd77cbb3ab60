"""`mmeb run --model <tiny dir>` and `--model st:<tiny ST dir>` through the real engine on a generated mirror."""

import json

import pytest


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    from mmeb.testing.mirror import write_mirror

    return write_mirror(tmp_path_factory.mktemp("mirror") / "m", ["WebQA", "VisDial"], n_queries=4)


def _run(model_spec, mirror, out):
    from mmeb.cli import main

    return main(["run", "--model", model_spec, "--tasks", "WebQA", "VisDial", "--data-dir", str(mirror),
                 "--output-dir", str(out), "--num-workers", "0", "--device", "cpu", "--no-progress"])


def test_vlm2vec_style_dir_runs_end_to_end(tiny_dir, mirror, tmp_path):
    assert _run(str(tiny_dir("tiny-qwen2vl")), mirror, tmp_path) == 0
    results = sorted(tmp_path.glob("tiny-qwen2vl/local-*/*.json"))
    names = {p.name for p in results}
    assert {"WebQA.json", "VisDial.json"} <= names
    webqa = json.loads((results[0].parent / "WebQA.json").read_text())
    assert webqa["n_queries"] == 4
    settings = webqa["model"]["settings"]
    assert settings["adapter"] == "vlm2vec" and settings["recipe"] == "default" and settings["orphan_image_token"] == "swap"
    assert settings["image_token"] == "<|image_pad|>" and settings["dtype"] == "float32"


def test_st_dir_runs_end_to_end(tiny_dir, mirror, tmp_path):
    from sentence_transformers import SentenceTransformer

    st_dir = tmp_path / "tiny-st"
    SentenceTransformer(str(tiny_dir("tiny-clip")), device="cpu").save(str(st_dir))
    assert _run(f"st:{st_dir}", mirror, tmp_path / "out") == 0
    result = json.loads(next((tmp_path / "out").glob("st_tiny-st/*/VisDial.json")).read_text())  # no ":" in folders
    assert result["model"]["settings"]["chat_template_applied"] is False

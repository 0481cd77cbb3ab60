"""`mmeb models [--json]`: lists the registry with metadata; no torch import; unknown names suggest."""

import json
import subprocess
import sys

from mmeb.cli import main


def test_models_json_lists_every_entry_with_recipe(capsys):
    assert main(["models", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["vlm2vec-llava"]["hub_id"] == "TIGER-Lab/VLM2Vec-LLaVa-Next"
    assert entries["vlm2vec-llava"]["settings"]["image_resize"] == [1344, 1344]
    assert entries["gme-qwen2vl-2b"]["remote_code"] is False  # reproduced on core Qwen2-VL
    assert {"embedding_dim", "params", "license", "reference", "revision"} <= set(entries["clip-vit-l-14"])


def test_models_table_and_unknown_name(capsys):
    assert main(["models", "e5-v"]) == 0
    assert "e5-v  " in capsys.readouterr().out
    assert main(["models", "--wide", "e5-v"]) == 0
    assert "royokong/e5-v" in capsys.readouterr().out
    assert main(["models", "e5v"]) == 2
    assert "Did you mean: e5-v" in capsys.readouterr().err


def test_models_listing_does_not_import_torch():
    code = "import sys; from mmeb.cli import main; main(['models', '--json']); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_models_table_fits_80_columns_without_wrapping_names(capsys):
    from mmeb.models.registry import list_models

    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["name", "adapter", "dim", "params", "paper", "row"]
    starts = {line.split()[0] for line in lines[1:]}
    assert {e.name for e in list_models()} <= starts  # every name whole, on its own row
    assert not any("/" in line for line in lines)  # Hub ids only in --wide / --json


def test_models_wide_prints_every_field(capsys):
    assert main(["models", "--wide", "vlm2vec-llava"]) == 0
    out = capsys.readouterr().out
    for value in ("TIGER-Lab/VLM2Vec-LLaVa-Next", "VLM2Vec (LLaVA-1.6, LoRA, 1344x1344: 62.9)", "Apache-2.0",
                  "llava-hf/llava-v1.6-mistral-7b-hf", '"image_resize":[1344,1344]', "default"):
        assert value in out

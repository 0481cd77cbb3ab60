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
    assert entries["gme-qwen2vl-2b"]["remote_code"] is True
    assert {"embedding_dim", "params", "license", "reference", "revision"} <= set(entries["clip-vit-l-14"])


def test_models_table_and_unknown_name(capsys):
    assert main(["models", "e5-v"]) == 0
    assert "royokong/e5-v" in capsys.readouterr().out
    assert main(["models", "e5v"]) == 2
    assert "Did you mean: e5-v" in capsys.readouterr().err


def test_models_listing_does_not_import_torch():
    code = "import sys; from mmeb.cli import main; main(['models', '--json']); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)

"""`mmeb tasks`: the listing a user sees, its JSON form, and that it stays light (no torch)."""

import json
import subprocess
import sys

import pytest

from mmeb.cli import main
from mmeb.tasks import TASK_NAMES


def test_json_lists_the_selection_with_its_metadata(capsys):
    assert main(["tasks", "--json", "grounding", "OK-VQA"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["OK-VQA", "MSCOCO", "RefCOCO", "RefCOCO-Matching", "Visual7W-Pointing"]
    first = rows[0]
    assert {k: first[k] for k in ("meta_task", "split", "query_modality", "target_modality", "n_candidates",
                                  "benchmark")} == {"meta_task": "vqa", "split": "IND",
                                                    "query_modality": "image+text", "target_modality": "text",
                                                    "n_candidates": 1000, "benchmark": "MMEB-V1"}


def test_table_lists_all_36(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in TASK_NAMES) and "36 task(s)" in out


def test_unknown_selector_is_one_clear_line_and_exit_code_2(capsys):
    assert main(["tasks", "Imagenet1k"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown task 'Imagenet1k'.") and "ImageNet-1K" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["tasks"], ["tasks", "--json", "OOD"]])
def test_listing_does_not_import_torch(argv):
    code = ("import sys, io, contextlib\nfrom mmeb.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()): rc = main({argv!r})\n"
            "heavy = sorted(m for m in ('torch', 'transformers', 'torchvision', 'datasets') if m in sys.modules)\n"
            "print(rc, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0 []"

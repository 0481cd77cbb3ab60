"""`mmeb run` end to end on a generated mirror with a plug-in model given by file path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mmeb.cli import main

TOY_FILE = Path(__file__).parents[1] / "evaluation" / "toy_models.py"
TASKS = ["ImageNet-1K", "WebQA", "RefCOCO-Matching"]

FLAKY_MODEL = '''
import numpy as np

class Model:
    name = "flaky"

    def encode(self, inputs, **context):
        if context["task_name"] == "WebQA":
            raise RuntimeError("out of memory at batch 1")
        return np.ones((len(inputs), 4)) + np.arange(len(inputs))[:, None]
'''


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    from mmeb.testing.mirror import write_mirror

    return write_mirror(tmp_path_factory.mktemp("mirror"), TASKS, n_queries=6, seed=1)


def _run(*args: str) -> int:
    return main(["run", "--num-workers", "0", "--no-progress", *args])


def test_run_writes_results_and_rerun_skips(mirror, tmp_path, capsys):
    args = ("--model", f"{TOY_FILE}:ContentModel", "--tasks", *TASKS, "--data-dir", str(mirror),
            "--output-dir", str(tmp_path), "--limit", "4", "--ties", "v1")
    assert _run(*args) == 0
    out = capsys.readouterr().out
    assert all(task in out for task in TASKS) and "done" in out
    (folder,) = (tmp_path / "toy__content-model").glob("r1+*")  # not the default settings: a folder of its own
    result = json.loads((folder / "WebQA.json").read_text())
    assert result["n_queries"] == 4 and result["evaluation"]["limit"] == 4 and result["tie_rule"] == "v1"
    assert result["dataset"]["source"].startswith("local:") and result["harness"]["libraries"]["torch"]
    stamp = (folder / "WebQA.json").stat().st_mtime_ns
    assert _run(*args) == 0
    assert "skipped" in capsys.readouterr().out and (folder / "WebQA.json").stat().st_mtime_ns == stamp


def test_failing_task_is_isolated_and_exit_code_is_1(mirror, tmp_path, capsys):
    plugin = tmp_path / "flaky.py"
    plugin.write_text(FLAKY_MODEL)
    code = _run("--model", f"{plugin}:Model", "--tasks", *TASKS, "--data-dir", str(mirror),
                "--output-dir", str(tmp_path / "out"))
    assert code == 1
    out = capsys.readouterr().out
    assert "WebQA failed" in out and "out of memory at batch 1" in out
    folder = tmp_path / "out" / "flaky" / "no_revision"
    assert sorted(p.name for p in folder.iterdir()) == [
        "ImageNet-1K.json", "RefCOCO-Matching.json", "WebQA.error.json", "model_meta.json"]


def test_bad_plugin_spec_is_a_usage_error(tmp_path, capsys):
    assert _run("--model", f"{tmp_path}/nope.py:Model", "--tasks", "ImageNet-1K", "--output-dir",
                str(tmp_path)) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("terminal", [True, False])
def test_summary_never_cuts_task_names(monkeypatch, capsys, terminal):
    import sys

    from mmeb.cli.run import print_summary
    from mmeb.evaluation.engine import RunReport, TaskOutcome

    names = ["VisualNews_i2t", "RefCOCO-Matching", "Plugin-Benchmark-Task-With-A-Very-Long-Name-42"]
    report = RunReport("org/a-model-with-a-long-name", "0123456789abcdef",
                       outcomes=[TaskOutcome(n, "failed", error="out of memory", seconds=1.25) for n in names])
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    print_summary(report)
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # colours in a terminal
    assert all(name in out for name in names) and "…" not in out
    if terminal:
        assert max(len(line) for line in out.splitlines()) <= 80

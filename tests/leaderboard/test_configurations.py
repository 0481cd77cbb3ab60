"""Results whose scoring keys record different configurations (model settings, evaluation settings) are
separate leaderboard rows, never averaged together; the label names the configuration."""

import json

from mmeb.leaderboard import build_leaderboard
from mmeb.results.key import DEFAULT_EVALUATION, model_identity, scoring_key
from mmeb.results.schema import ScoringKey
from mmeb.tasks import TASK_NAMES

from lb_helpers import make_result, write_result


def _with_key(task: str, hit: float, settings: dict):
    r = make_result(task, "org/m", hit)
    r.model.settings = settings
    key = scoring_key(dataset={"id": "TIGER-Lab/MMEB-eval", "revision": "0123456789abcdef", "subset": task},
                      model=model_identity("org/m", "abc123", settings), evaluation=dict(DEFAULT_EVALUATION))
    r.scoring_key = ScoringKey(**key)
    return r


def test_two_configurations_of_one_model_are_two_rows(results_dir, tmp_path):
    for i, task in enumerate(TASK_NAMES[:3]):
        write_result(results_dir / "a", _with_key(task, 0.5, {"resolution": 336}))
        write_result(results_dir / "b", _with_key(task, 0.9, {"resolution": 1344}))
    build_leaderboard(results_dir, tmp_path, published=False)
    rows = json.loads((tmp_path / "leaderboard.json").read_text())["benchmarks"][0]["rows"]
    assert len(rows) == 2
    assert sorted(r["tasks"]["ImageNet-1K"]["value"] for r in rows) == [50.0, 90.0]  # never averaged (70.0)
    assert len({r["label"] for r in rows}) == 2 and all("settings " in r["label"] for r in rows)
    assert len({r["settings_digest"] for r in rows}) == 2


def test_one_configuration_keeps_a_plain_label(results_dir, tmp_path):
    for task in TASK_NAMES[:2]:
        write_result(results_dir, _with_key(task, 0.5, {"resolution": 336}))
    build_leaderboard(results_dir, tmp_path, published=False)
    rows = json.loads((tmp_path / "leaderboard.json").read_text())["benchmarks"][0]["rows"]
    assert len(rows) == 1 and rows[0]["label"] == "org/m (abc123)" and rows[0]["settings_digest"]


def test_export_refuses_to_mix_two_configurations(results_dir):
    import pytest

    from mmeb.errors import MMEBError
    from mmeb.leaderboard.export import export_mmeb_leaderboard

    for task in TASK_NAMES[:3]:
        write_result(results_dir / "a", _with_key(task, 0.5, {"resolution": 336}))
        write_result(results_dir / "b", _with_key(task, 0.9, {"resolution": 1344}))
    with pytest.raises(MMEBError) as err:  # never one file with a score of either row per task
        export_mmeb_leaderboard(results_dir, "org/m")
    message = str(err.value)
    assert "configurations" in message and str(results_dir / "a") in message and str(results_dir / "b") in message
    one = export_mmeb_leaderboard(results_dir / "b", "org/m")  # one configuration: exported as before
    assert one["metrics"]["image"]["ImageNet-1K"]["hit@1"] == 0.9

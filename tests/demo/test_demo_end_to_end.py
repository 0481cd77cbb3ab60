"""The demo's promise, end to end on the CPU: the real trainer makes the reference model clearly better than
its untrained self on the OOD tasks, the leaderboard shows the synthetic benchmark, and a rerun reuses
every finished step."""

import json

import pytest

from mmeb.demo import model as M
from mmeb.demo import tasks as T
from mmeb.demo.pipeline import DemoConfig, run_demo, trained_name

#: a shorter run than the command's default; still must clear the demo's +20 point bar
FAST_STEPS = 150


@pytest.mark.slow
def test_trained_beats_untrained_on_ood_and_rerun_reuses_everything(tmp_path):
    config = DemoConfig(out_dir=tmp_path / "demo", seed=1, steps=FAST_STEPS, progress=False)
    outcome = run_demo(config)

    trained = trained_name(FAST_STEPS)
    assert set(outcome.scores) == {trained, M.UNTRAINED, M.TWO_TOWER}
    assert all(set(s) == set(T.TASK_NAMES) for s in outcome.scores.values())
    assert outcome.ood_gain_points >= 20, outcome.ood_means

    board = json.loads((outcome.leaderboard_dir / "leaderboard.json").read_text())
    assert "synthetic" in json.dumps(board)
    assert outcome.page.is_file() and trained in outcome.page.read_text()
    result = json.loads(next((outcome.results_dir / trained).rglob("SynShapes-Unseen.json")).read_text())
    assert result["dataset"]["revision"].startswith("synthetic-seed1-")

    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file() and "leaderboard" not in p.parts}
    again = run_demo(config)
    assert again.scores == outcome.scores
    changed = [p for p, t in stamps.items() if p.exists() and p.stat().st_mtime_ns != t]
    assert not changed, changed[:5]

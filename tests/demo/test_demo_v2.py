"""The demo's MMEB-V2 part: a small synthetic mirror for one video and one document task, read by the real
MMEB-V2 tasks and scored by the real engine; its rows are unofficial on the demo's leaderboard."""

import json

import pytest

from mmeb.demo import model as M
from mmeb.demo import v2 as V2
from mmeb.evaluation import RunSettings, run_evaluation
from mmeb.leaderboard import build_leaderboard
from mmeb.tasks import get_tasks


def test_the_demo_v2_tasks_are_one_video_and_one_document_task():
    modalities = [t.metadata.modality for t in get_tasks(V2.v2_selectors())]
    assert sorted(modalities) == ["video", "visdoc"]


@pytest.mark.slow
def test_v2_tasks_run_end_to_end_and_show_as_unofficial_rows(tmp_path):
    data = V2.write_v2_data(tmp_path / "v2", seed=0)
    stamp = (data / V2.MARKER).stat().st_mtime_ns
    assert V2.write_v2_data(tmp_path / "v2", seed=0) == data and (data / V2.MARKER).stat().st_mtime_ns == stamp
    model = M.build_two_tower(tmp_path / "models" / M.TWO_TOWER, ["a", "video", "of"], 0)
    settings = RunSettings(data_dir=str(data), output_dir=str(tmp_path / "results"), device="cpu", num_workers=0,
                           progress=False)
    report = run_evaluation(str(model), V2.v2_selectors(), settings)
    # the two-tower baseline has no video recipe: the video task is refused in one line, the document task runs
    video, = (t for t in V2.V2_TASKS if t != "ViDoRe_arxivqa")
    assert set(report.failures) == {video} and "video inputs" in report.failures[video]
    assert "\n" not in report.failures[video]
    assert {o.task_name for o in report.outcomes if o.result} == {"ViDoRe_arxivqa"}
    assert all(o.result.n_queries == V2.V2_QUERIES for o in report.outcomes if o.result)
    build_leaderboard(tmp_path / "results", tmp_path / "lb", published=False, include_unofficial=True)
    board = next(b for b in json.loads((tmp_path / "lb" / "leaderboard.json").read_text())["benchmarks"]
                 if b["benchmark"] == "MMEB-V2")
    row, = board["rows"]
    assert row["official"] is False and set(row["tasks"]) == {"ViDoRe_arxivqa"}

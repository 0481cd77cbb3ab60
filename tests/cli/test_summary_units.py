"""The run summary prints scores in the unit of every other output: percent, one decimal, half up."""

from types import SimpleNamespace

from mmeb.cli.run import print_summary
from mmeb.results.schema import DatasetInfo, HarnessInfo, ModelInfo, Scores, TaskResult


def test_run_summary_prints_percent_half_up(capsys):
    scores = Scores(hit_at_1=0.4825, ci95_low=0.4425, ci95_high=0.5225)
    result = TaskResult(task_name="N24News", meta_task="classification", split="IND", main_score=0.4825,
                        n_queries=400, scores=scores, dataset=DatasetInfo(id="d", revision="r", subset="N24News"),
                        model=ModelInfo(name="m"), harness=HarnessInfo(mmeb_version="0", python="3"),
                        date="2026-01-01T00:00:00Z")
    outcome = SimpleNamespace(task_name="N24News", result=result, status="done", seconds=1.0)
    report = SimpleNamespace(model_name="m", model_revision=None, outcomes=[outcome], failures={}, output_dir=None)
    print_summary(report)
    out = capsys.readouterr().out
    assert "48.3" in out and "0.4825" not in out
    assert "44.3-52.3" in out

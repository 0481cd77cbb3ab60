"""A task failing at any stage, writing included, gets its error record and the run goes on; settings that
cannot be recorded are refused once, when the model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine_testdata import TIE_IMAGES, make_task, tie_rows
from mmeb.errors import ConfigError
from mmeb.evaluation import EvaluationFailed, RunSettings, evaluate, run_evaluation
from toy_models import ContentModel


class Unrecordable(ContentModel):
    name = "toy/unrecordable"

    def __init__(self, value):
        super().__init__()
        self.settings = {"scale": 1.0, "pooling": "none", "processor": value}


@pytest.mark.parametrize("value,expected", [
    (object(), "settings.processor = object"),
    (float("nan"), "not a finite number"),
    ({1: "a"}, "non-string key"),
    (Path("/x"), "PosixPath"),
])
def test_settings_that_cannot_be_recorded_are_refused_at_load(tie_task, tmp_path, value, expected):
    model = Unrecordable(value)
    with pytest.raises(ConfigError) as info:
        evaluate(model, [tie_task], output_dir=tmp_path, num_workers=0, progress=False)
    message = str(info.value)
    assert expected in message and "toy/unrecordable" in message and "\n" not in message
    assert model.calls == [] and not list(tmp_path.rglob("*.json"))


def test_a_task_whose_result_cannot_be_written_gets_an_error_record(tie_task, tmp_path):
    folder = tmp_path / "toy__content-model" / "r1"
    (folder / "TieTask.json").mkdir(parents=True)  # the result path is taken by a folder: the write fails
    other = make_task("Tie2", tie_rows(), TIE_IMAGES)
    with pytest.raises(EvaluationFailed) as info:
        evaluate(ContentModel(), [tie_task, other], output_dir=tmp_path, num_workers=0, progress=False)
    assert list(info.value.failures) == ["TieTask"] and [r.task_name for r in info.value.results] == ["Tie2"]
    error = json.loads((folder / "TieTask.error.json").read_text())
    assert error["task_name"] == "TieTask" and error["error_type"] in ("IsADirectoryError", "OSError")
    assert (folder / "Tie2.json").is_file()


def test_the_run_goes_on_when_even_the_error_record_cannot_be_written(tie_task, tmp_path):
    folder = tmp_path / "toy__content-model" / "r1"
    (folder / "TieTask.json").mkdir(parents=True)
    (folder / "TieTask.error.json").mkdir()
    other = make_task("Tie2", tie_rows(), TIE_IMAGES)
    report = run_evaluation(ContentModel(), [tie_task, other],
                            RunSettings(output_dir=str(tmp_path), num_workers=0, progress=False))
    assert [o.status for o in report.outcomes] == ["failed", "done"]
    assert "could not be written" in report.failures["TieTask"]

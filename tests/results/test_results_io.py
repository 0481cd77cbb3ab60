"""Result paths, atomic writes, completeness and loading."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mmeb.errors import DataError
from mmeb.results import io
from mmeb.results.schema import DatasetInfo, HarnessInfo, ModelInfo, Scores, TaskResult


def _result(task="ImageNet-1K", name="org/model", revision=None):
    return TaskResult(task_name=task, meta_task="classification", split="IND", main_score=0.5, n_queries=2,
                      scores=Scores(hit_at_1=0.5), dataset=DatasetInfo(id="d", revision="abc", subset=task),
                      model=ModelInfo(name=name, revision=revision), harness=HarnessInfo(mmeb_version="0", python="3"),
                      date=datetime.now(timezone.utc))


def test_layout_follows_model_name_and_revision(tmp_path):
    assert io.result_path(tmp_path, "org/model", None, "T") == tmp_path / "org__model" / "no_revision" / "T.json"
    assert io.result_path(tmp_path, "m", "abc123", "T") == tmp_path / "m" / "abc123" / "T.json"
    with pytest.raises(ValueError):
        io.model_dir(tmp_path, "..", None)


def test_write_load_roundtrip_and_error_record_cleared(tmp_path):
    io.write_error(tmp_path, "org/model", None, "ImageNet-1K", {"message": "boom"})
    path = io.write_result(_result(), tmp_path)
    assert io.load_result(path) == _result().model_copy(update={"date": io.load_result(path).date})
    assert not io.error_path(tmp_path, "org/model", None, "ImageNet-1K").exists()
    assert [p.name for p in path.parent.iterdir()] == ["ImageNet-1K.json"]  # no temporary file left behind


def test_incomplete_or_corrupt_files_are_not_complete(tmp_path):
    assert io.read_complete(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text('{"task_name": "x"}')
    assert io.read_complete(bad) is None
    with pytest.raises(DataError, match="bad.json"):
        io.load_result(bad)


def test_load_results_skips_meta_and_error_files(tmp_path):
    io.write_result(_result("A"), tmp_path)
    io.write_result(_result("B", revision="r2"), tmp_path)
    io.write_model_meta(tmp_path, "org/model", None, {"name": "org/model"})
    io.write_error(tmp_path, "org/model", None, "C", {"message": "x"})
    assert sorted(r.task_name for r in io.load_results(tmp_path)) == ["A", "B"]

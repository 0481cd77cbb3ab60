"""The results store: folder names, atomic writes with the usual permissions, completeness and reading."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone

import pytest

from mmeb.errors import ConfigError, DataError
from mmeb.results.io import atomic_write_json
from mmeb.results.schema import DatasetInfo, HarnessInfo, ModelInfo, Scores, TaskResult
from mmeb.results.store import ResultsStore, load_result, read_complete


def _result(task="ImageNet-1K", name="org/model", revision=None):
    return TaskResult(task_name=task, meta_task="classification", split="IND", main_score=0.5, n_queries=2,
                      scores=Scores(hit_at_1=0.5), dataset=DatasetInfo(id="d", revision="abc", subset=task),
                      model=ModelInfo(name=name, revision=revision), harness=HarnessInfo(mmeb_version="0", python="3"),
                      date=datetime.now(timezone.utc))


def test_layout_follows_model_name_revision_and_configuration(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.result_path("org/model", None, "T") == tmp_path / "org__model" / "no_revision" / "T.json"
    assert store.result_path("m", "abc123", "T") == tmp_path / "m" / "abc123" / "T.json"
    assert store.result_path("m", "abc", "T", "c0ffee") == tmp_path / "m" / "abc+c0ffee" / "T.json"


@pytest.mark.parametrize("name,folder", [
    ("st:sentence-transformers/clip-ViT-B-32", "st_sentence-transformers__clip-ViT-B-32"),
    ('my model <v2>?*|"', "my_model__v2_____"),
    ("C:\\models\\x", "C___models__x"),
])
def test_folder_names_carry_no_shell_or_windows_awkward_characters(tmp_path, name, folder):
    path = ResultsStore(tmp_path).result_path(name, "r", "T")
    assert path.parent.parent.name == folder
    assert not set(folder) & set(':*?"<>| \\/')


@pytest.mark.parametrize("name,revision,expected", [
    ("..", None, "only dots"),
    (".", None, "only dots"),
    ("m", "..", "only dots"),
    ("a\x00b", None, "control character"),
    ("m", "main\nx", "control character"),
    ("x" * 300, None, "at most 150"),
])
def test_names_that_cannot_be_folders_are_refused_in_one_line(tmp_path, name, revision, expected):
    with pytest.raises(ConfigError) as info:
        ResultsStore(tmp_path).location(name, revision)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_write_read_roundtrip_and_error_record_cleared(tmp_path):
    store = ResultsStore(tmp_path)
    location = store.location("org/model", None)
    store.write_error(location, "ImageNet-1K", {"message": "boom"})
    path = store.write_result(_result(), location)
    assert load_result(path) == _result().model_copy(update={"date": load_result(path).date})
    assert not location.error("ImageNet-1K").exists()


def test_result_files_are_created_with_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        store = ResultsStore(tmp_path)
        location = store.location("m", "r")
        paths = [store.write_result(_result(), location), store.write_error(location, "T", {"m": 1}),
                 store.write_model_meta(location, {"name": "m"}), atomic_write_json(tmp_path / "x.json", {})]
    finally:
        os.umask(old)
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o644}
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_non_finite_numbers_are_never_written(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", {"score": float("nan")})
    assert not (tmp_path / "x.json").exists() and not list(tmp_path.iterdir())


def test_incomplete_or_corrupt_files_are_not_complete(tmp_path):
    assert read_complete(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text('{"task_name": "x", "main_sc')
    assert read_complete(bad) is None
    with pytest.raises(DataError):
        load_result(bad)


def test_results_skips_meta_error_files_and_store_bookkeeping(tmp_path):
    store = ResultsStore(tmp_path)
    store.write_result(_result("A"), store.location("org/model", None))
    store.write_result(_result("B", revision="r2"), store.location("org/model", "r2"))
    store.write_model_meta(store.location("org/model", None), {"name": "org/model"})
    store.write_error(store.location("org/model", None), "C", {"message": "x"})
    store.write_load_record("abc", {"identity": {"name": "org/model"}})
    assert sorted(r.task_name for r in store.results()) == ["A", "B"]
    from mmeb.leaderboard.load import read_results

    tree = read_results(tmp_path)
    assert not tree.problems and tree.n_files == 3 and len(tree.model_meta) == 1
    assert store.read_load_record("abc") == {"identity": {"name": "org/model"}}


def test_an_unchanged_load_record_is_not_rewritten(tmp_path):
    """A rerun that loads the model again only to retry a failed task changes no bookkeeping file."""
    store = ResultsStore(tmp_path)
    record = {"spec": "org/model", "identity": {"name": "org/model", "revision": "r1"}}
    store.write_load_record("abc", record)
    path = store.load_record_path("abc")
    os.utime(path, ns=(1, 1))
    store.write_load_record("abc", json.loads(json.dumps(record)))
    assert path.stat().st_mtime_ns == 1
    store.write_load_record("abc", {**record, "identity": {"name": "org/model", "revision": "r2"}})
    assert path.stat().st_mtime_ns != 1 and store.read_load_record("abc")["identity"]["revision"] == "r2"

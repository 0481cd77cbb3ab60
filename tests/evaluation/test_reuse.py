"""Reuse only on a matching scoring key: a rerun after changing data, settings, plug-in code or weights
recomputes exactly what changed; configurations never overwrite each other; no load when all is done."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmeb.evaluation import RunSettings, engine, run_evaluation
from mmeb.results.store import ResultsStore
from toy_models import ContentModel

TASKS = ["HatefulMemes", "WebQA", "RefCOCO-Matching"]

PLUGIN = '''
import hashlib, os
import numpy as np
from pathlib import Path

WEIGHTS = Path(__file__).with_name("weights.bin")


class Model:
    """Like a real plug-in: its revision is the full hash of the weights it loads."""
    name = "toy/plugin"

    def __init__(self):
        self.weights = WEIGHTS.read_bytes()
        self.revision = "sha256-" + hashlib.sha256(self.weights).hexdigest()[:12]
        self.settings = {"pooling": "mean"}

    def encode(self, inputs, **context):
        out = []
        for x in inputs:
            seed = int.from_bytes(hashlib.sha256((x.text + str(x.image_path if hasattr(x, "image_path") else "")
                                                  ).encode() + self.weights).digest()[:8], "little")
            out.append(np.random.default_rng(seed).standard_normal(8))
        return np.stack(out)
'''


@pytest.fixture
def setup(tmp_path, monkeypatch):
    from mmeb.testing.mirror import write_mirror

    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    data = write_mirror(tmp_path / "data", TASKS, n_queries=4, seed=3)
    plugin = tmp_path / "plug" / "model.py"
    plugin.parent.mkdir()
    plugin.write_text(PLUGIN)
    (plugin.parent / "weights.bin").write_bytes(b"w1")
    return data, plugin, tmp_path / "out"


def _run(plugin, data, out, **extra):
    settings = RunSettings(data_dir=str(data), output_dir=str(out), num_workers=0, progress=False, **extra)
    report = run_evaluation(f"{plugin}:Model", TASKS, settings)
    assert not report.failures, report.failures
    return report


def _done(report):
    return sorted(o.task_name for o in report.outcomes if o.status == "done")


def _touch_bytes(path: Path, data: bytes) -> None:
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(data)
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))


def _change_one_text(data: Path, task: str) -> None:
    file = next((data / task).glob("test-*.parquet"))
    table = pq.read_table(file)
    texts = table.column("qry_text").to_pylist()
    texts[-1] = texts[-1] + " changed"
    table = table.set_column(0, "qry_text", pa.array(texts, pa.string()))
    stamp = file.stat().st_mtime_ns
    pq.write_table(table, file)
    os.utime(file, ns=(stamp + 10**9, stamp + 10**9))


def test_reruns_recompute_exactly_what_changed(setup, caplog):
    data, plugin, out = setup
    counts = {}
    counts["first run"] = _done(_run(plugin, data, out))
    counts["unchanged"] = _done(_run(plugin, data, out))
    _change_one_text(data, "WebQA")
    with caplog.at_level("WARNING", logger="mmeb"):
        report = _run(plugin, data, out)
    counts["data of WebQA"] = _done(report)
    assert "recomputing WebQA: changed: dataset.revision" in caplog.text
    assert [o.recomputed_because for o in report.outcomes if o.status == "done"][0].startswith("changed: dataset")
    counts["similarity dot"] = _done(_run(plugin, data, out, similarity="dot"))
    counts["similarity dot again"] = _done(_run(plugin, data, out, similarity="dot"))
    counts["default again"] = _done(_run(plugin, data, out))
    plugin.write_text(PLUGIN + "\n# a comment is a code change too\n")
    counts["plug-in code"] = _done(_run(plugin, data, out))
    _touch_bytes(plugin.parent / "weights.bin", b"w2")
    counts["weights"] = _done(_run(plugin, data, out))
    counts["weights again"] = _done(_run(plugin, data, out))
    assert counts == {
        "first run": sorted(TASKS), "unchanged": [], "data of WebQA": ["WebQA"],
        "similarity dot": sorted(TASKS), "similarity dot again": [], "default again": [],
        "plug-in code": sorted(TASKS), "weights": sorted(TASKS), "weights again": []}
    # every configuration kept its own files: default, dot, new code, new weights
    folders = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*") if p.is_dir())
    assert len(folders) == 4 and all((out / f / "WebQA.json").is_file() for f in folders)
    print(json.dumps({k: len(v) for k, v in counts.items()}))  # the measured counts (see the report)


def test_result_records_its_scoring_key(setup):
    data, plugin, out = setup
    result = _run(plugin, data, out, limit=2, ties="v1").outcomes[0].result
    key = result.scoring_key
    assert key.dataset["revision"] == result.dataset.revision and key.dataset["revision"].startswith("local-")
    assert key.model["code_sha256"] == hashlib.sha256(plugin.read_bytes()).hexdigest()
    assert key.model["revision"] == result.model.revision and key.model["settings"] == {"pooling": "mean"}
    assert key.evaluation == {"tie_rule": "v1", "similarity": "cosine", "limit": 2, "bootstrap_resamples": 1000,
                              "bootstrap_seed": 0, "score_dtype": "float32"}
    assert key.scoring_version


def test_a_model_setting_change_is_recomputed_and_kept_apart(tmp_path, tie_task):
    out = tmp_path / "out"
    settings = RunSettings(output_dir=str(out), num_workers=0, progress=False)
    run_evaluation(ContentModel(), [tie_task], settings)
    other = run_evaluation(ContentModel(scale=2.0), [tie_task], settings)
    assert other.outcomes[0].status == "done"  # a different setting is never "already done"
    again = run_evaluation(ContentModel(), [tie_task], settings)
    assert again.outcomes[0].status == "skipped"  # ... and did not overwrite the first configuration
    assert len(list(out.rglob("TieTask.json"))) == 2


def test_no_model_load_when_every_task_is_done(setup, monkeypatch):
    data, _, out = setup
    model_dir = data.parent / "my-model"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"v1")
    loads = []

    def fake_load(spec, *, device, **kwargs):  # stands in for load_model on a local checkpoint folder
        loads.append(spec)
        model = ContentModel()
        model.revision = "local-" + hashlib.sha256((Path(spec) / "weights.bin").read_bytes()).hexdigest()[:12]
        return model

    monkeypatch.setattr(engine, "resolve_model", fake_load)
    settings = RunSettings(data_dir=str(data), output_dir=str(out), num_workers=0, progress=False)
    first = run_evaluation(str(model_dir), TASKS, settings)
    assert len(loads) == 1 and first.model_loaded and not first.failures
    again = run_evaluation(str(model_dir), TASKS, settings)
    assert len(loads) == 1 and not again.model_loaded
    assert [o.status for o in again.outcomes] == ["skipped"] * 3 and again.model_name == "toy/content-model"
    subset = run_evaluation(str(model_dir), TASKS[:1], settings)
    assert len(loads) == 1 and [o.status for o in subset.outcomes] == ["skipped"]
    _touch_bytes(model_dir / "weights.bin", b"v2")  # new weights: load, and everything is new
    changed = run_evaluation(str(model_dir), TASKS, settings)
    assert len(loads) == 2 and [o.status for o in changed.outcomes] == ["done"] * 3
    _change_one_text(data, "WebQA")  # one task's data changed: load, recompute that task only
    partial = run_evaluation(str(model_dir), TASKS, settings)
    assert len(loads) == 3 and [o.status for o in partial.outcomes] == ["skipped", "done", "skipped"]


def test_two_configurations_are_two_leaderboard_rows(setup, tmp_path):
    from mmeb.leaderboard.build import build_leaderboard

    data, plugin, out = setup
    _run(plugin, data, out)
    _run(plugin, data, out, similarity="dot")
    build_leaderboard(out, tmp_path / "lb", published=False, include_unofficial=True)
    board = json.loads((tmp_path / "lb" / "leaderboard.json").read_text())
    (v1,) = [b for b in board["benchmarks"] if b["benchmark"] == "MMEB-V1"]
    rows = v1["rows"]
    assert len(rows) == 2 and {r["model"] for r in rows} == {"toy/plugin"}
    assert len({r["settings_digest"] for r in rows}) == 2 and all("settings " in r["label"] for r in rows)


def test_every_run_setting_is_classified_as_score_changing_or_not():
    from dataclasses import fields

    from mmeb.evaluation.engine import NOT_SCORE_CHANGING, SCORE_CHANGING

    names = {f.name for f in fields(RunSettings)}
    assert set(SCORE_CHANGING) | set(NOT_SCORE_CHANGING) == names
    assert not set(SCORE_CHANGING) & set(NOT_SCORE_CHANGING)
    changed = RunSettings(ties="v1", similarity="dot", limit=3, bootstrap_resamples=10, bootstrap_seed=1).evaluation_key()
    assert changed != RunSettings().evaluation_key()
    # nothing that does not change scores reaches the key
    fast = RunSettings(batch_size=7, num_workers=0, loader="processes", progress=False, max_batch_tokens=99)
    assert fast.evaluation_key() == RunSettings().evaluation_key()


def test_a_remembered_load_does_not_answer_a_run_with_another_preprocess(setup, monkeypatch):
    """--preprocess device changes the model's settings after loading: a run asking for it must not be
    answered from the identity a --preprocess reference load left behind."""
    data, _, out = setup
    model_dir = data.parent / "my-model"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"v1")
    loads = []

    class DeviceCapable(ContentModel):
        def set_preprocess(self, where):
            self.settings = {**self.settings, "preprocess": where}

    def fake_load(spec, *, device, **kwargs):
        loads.append(spec)
        return DeviceCapable()

    monkeypatch.setattr(engine, "resolve_model", fake_load)
    settings = dict(data_dir=str(data), output_dir=str(out), num_workers=0, progress=False)
    run_evaluation(str(model_dir), TASKS, RunSettings(**settings))
    device = run_evaluation(str(model_dir), TASKS, RunSettings(**settings, preprocess="device"))
    assert len(loads) == 2 and device.model_loaded
    assert [o.status for o in device.outcomes] == ["done"] * 3
    assert all(o.result.scoring_key.model["settings"]["preprocess"] == "device" for o in device.outcomes)
    again = run_evaluation(str(model_dir), TASKS, RunSettings(**settings, preprocess="device"))
    assert len(loads) == 2 and [o.status for o in again.outcomes] == ["skipped"] * 3
    reference = run_evaluation(str(model_dir), TASKS, RunSettings(**settings))
    assert len(loads) == 2 and [o.status for o in reference.outcomes] == ["skipped"] * 3
    assert all("preprocess" not in o.result.scoring_key.model["settings"] for o in reference.outcomes)


def test_a_result_without_predictions_is_not_reused_by_a_run_that_saves_them(tmp_path, tie_task):
    """--save-predictions after a plain run: the submission needs per-query predictions, so the stored
    result (same scores, no predictions) is recomputed, not silently kept."""
    settings = dict(output_dir=str(tmp_path / "out"), num_workers=0, progress=False)
    run_evaluation(ContentModel(), [tie_task], RunSettings(**settings))
    saved = run_evaluation(ContentModel(), [tie_task], RunSettings(**settings, save_predictions=True))
    assert saved.outcomes[0].status == "done" and saved.outcomes[0].result.predictions
    stored = json.loads(next((tmp_path / "out").rglob("TieTask.json")).read_text())
    assert len(stored["predictions"]) == stored["n_queries"]
    again = run_evaluation(ContentModel(), [tie_task], RunSettings(**settings, save_predictions=True))
    assert again.outcomes[0].status == "skipped" and again.outcomes[0].result.predictions
    plain = run_evaluation(ContentModel(), [tie_task], RunSettings(**settings))
    assert plain.outcomes[0].status == "skipped"  # results with predictions serve a plain run


PROPERTY_PLUGIN = '''
import numpy as np


class Model:
    """Reports its settings through a property: model arguments reach the results through mmeb's proxy."""
    name = "toy/property-plugin"
    revision = "r1"

    def __init__(self, scale=1.0):
        self.scale = scale

    @property
    def settings(self):
        return {"pooling": "mean"}

    def encode(self, inputs, **context):
        return np.stack([np.frombuffer((x.text + "    ").encode()[:4], dtype=np.uint8).astype(float) + 1
                         for x in inputs]) * self.scale
'''


def test_plugin_code_behind_the_model_args_proxy_is_part_of_the_key(setup):
    """--model-arg on a plug-in whose settings are a property wraps it in mmeb's proxy: the key must still
    carry the sha256 of the plug-in's own source file, so changing its code recomputes."""
    data, plugin, out = setup
    plugin.write_text(PROPERTY_PLUGIN)
    settings = RunSettings(data_dir=str(data), output_dir=str(out), num_workers=0, progress=False)
    first = run_evaluation(f"{plugin}:Model", TASKS, settings, model_args={"scale": 2.0})
    assert not first.failures and _done(first) == sorted(TASKS)
    assert first.outcomes[0].result.scoring_key.model["code_sha256"] == hashlib.sha256(plugin.read_bytes()).hexdigest()
    plugin.write_text(PROPERTY_PLUGIN.replace("+ 1\n", "+ 2\n"))
    changed = run_evaluation(f"{plugin}:Model", TASKS, settings, model_args={"scale": 2.0})
    assert _done(changed) == sorted(TASKS)


def test_a_non_default_ndcg_rule_never_owns_the_plain_revision_folder(tmp_path):
    """--ndcg official is a non-default evaluation setting: even as the first run of a model it goes to
    <revision>+<digest>/, leaving <revision>/ to the default settings."""
    from mmeb.evaluation.reuse import location_for

    store = ResultsStore(tmp_path)
    identity = {"name": "org/model", "revision": "r1", "settings": {}}
    official = RunSettings(ndcg="official").evaluation_key()
    location, config = location_for(store, identity, official)
    assert location.folder == tmp_path / "org__model" / f"r1+{config}"
    default, _ = location_for(store, identity, RunSettings().evaluation_key())
    assert default.folder == tmp_path / "org__model" / "r1"


def test_a_failed_recompute_sets_the_stale_result_aside(tmp_path):
    """The data changed and the recompute failed: the old score must not stay in place as this configuration's
    current result (the leaderboard would show it); it is kept in a hidden folder, next to the error record."""
    from engine_testdata import TIE_IMAGES, make_task, tie_rows
    from mmeb.results.store import result_files

    def task(revision, images):
        made = make_task("TieTask", tie_rows(), images)
        load = made.load
        made.load = lambda data_dir=None, **kw: dataclasses.replace(load(data_dir, **kw), revision=revision)
        return made

    out = tmp_path / "out"
    settings = RunSettings(output_dir=str(out), num_workers=0, progress=False)
    run_evaluation(ContentModel(), [task("rev-1", TIE_IMAGES)], settings)
    stored = next(out.rglob("TieTask.json"))
    old = stored.read_text()
    broken = {"a.png": TIE_IMAGES["a.png"]}  # the new data's other images are missing: encoding fails
    report = run_evaluation(ContentModel(), [task("rev-2", broken)], settings)
    assert report.outcomes[0].status == "failed" and report.outcomes[0].recomputed_because
    assert not stored.exists() and stored.with_name("TieTask.error.json").is_file()
    assert (stored.parent / ".superseded" / "TieTask.json").read_text() == old  # never lost
    assert list(result_files(out)) == []
    # a failed --overwrite of a result with the wanted key leaves that (still valid) result in place
    run_evaluation(ContentModel(), [task("rev-2", TIE_IMAGES)], settings)
    overwrite = RunSettings(output_dir=str(out), num_workers=0, progress=False, overwrite=True)
    assert run_evaluation(ContentModel(), [task("rev-2", broken)], overwrite).outcomes[0].status == "failed"
    assert stored.is_file()

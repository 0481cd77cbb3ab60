"""End to end through evaluate(): scores equal an independent computation; resume; failure isolation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine_testdata import TIE_IMAGES, MemoryImageStore, make_task, tie_rows
from mmeb.evaluation import EvaluationFailed, RunSettings, evaluate, run_evaluation
from mmeb.models.protocol import ModelInput
from mmeb.results.store import ResultsStore, load_result
from toy_models import ContentModel, FastPathModel

TOY_FILE = Path(__file__).parent / "toy_models.py"


def result_path(root, model_name, revision, task_name, configuration=None):
    return ResultsStore(root).result_path(model_name, revision, task_name, configuration)


def independent_scores(model, rows, images, ties="fractional"):
    """Per-query hit@1 and MRR by brute force: one item at a time, explicit tie enumeration."""
    def embed(item):
        image = images.open(item.image_path) if item.image_path else None
        vector = np.asarray(model.encode([ModelInput(item.instruction, item.text, image, item.raw_text)],
                                         task_name="x", role="x"), dtype=np.float64)[0]
        return vector / np.linalg.norm(vector)

    hits, rrs = [], []
    for row in rows:
        q = embed(row.query)
        distinct = {}
        for candidate in row.candidates:
            distinct.setdefault(candidate.key, float(q @ embed(candidate)))
        positive = distinct.pop(row.candidates[0].key)
        above = sum(s > positive + 1e-6 for s in distinct.values())
        tied = sum(abs(s - positive) <= 1e-6 for s in distinct.values())
        group = 1 if ties == "v1" else tied + 1
        positions = [above + 1 + i for i in range(group)]
        hits.append(np.mean([p == 1 for p in positions]))
        rrs.append(np.mean([1 / p for p in positions]))
    return hits, rrs


def test_plugin_by_file_path_matches_independent_computation(tie_task, tmp_path):
    results = evaluate(f"{TOY_FILE}:ContentModel", [tie_task], output_dir=tmp_path, num_workers=0,
                       save_predictions=True, progress=False)
    (result,) = results
    hits, rrs = independent_scores(ContentModel(), tie_rows(), MemoryImageStore(TIE_IMAGES))
    assert hits[0] == 1.0  # a copy of the positive in the list counts as the positive
    assert hits[1] == 0.5  # a distinct candidate with the identical embedding halves the hit
    assert result.main_score == pytest.approx(np.mean(hits), abs=1e-12)
    assert result.scores.mrr == pytest.approx(np.mean(rrs), abs=1e-12)
    assert result.scores.n_tied_queries == 1
    assert result.n_queries == 6 and result.tie_rule == "fractional"
    assert [p.tie_size for p in result.predictions][:2] == [1, 2]
    assert result.model.name == "toy/content-model" and result.model.revision == "r1"
    assert result.model.settings == {"scale": 1.0, "pooling": "none"}
    assert result.dataset.revision == "rev-test" and result.timings.total_s >= result.timings.rank_s
    assert result.evaluation.similarity == "cosine" and result.evaluation.bootstrap_seed == 0
    assert result.scores.ci95_low <= result.main_score <= result.scores.ci95_high
    on_disk = load_result(result_path(tmp_path, "toy/content-model", "r1", "TieTask"))
    assert on_disk == result
    assert (tmp_path / "toy__content-model" / "r1" / "model_meta.json").is_file()


def test_v1_rule_gives_ties_to_the_positive(tie_task):
    (fractional,) = evaluate(ContentModel(), [tie_task], num_workers=0, progress=False)
    (v1,) = evaluate(ContentModel(), [tie_task], num_workers=0, progress=False, ties="v1")
    hits, _ = independent_scores(ContentModel(), tie_rows(), MemoryImageStore(TIE_IMAGES), ties="v1")
    assert v1.tie_rule == "v1" and v1.main_score == pytest.approx(np.mean(hits))
    assert v1.main_score - fractional.main_score == pytest.approx(0.5 / 6)


def test_fast_path_runs_prepare_in_workers_and_matches_encode(tie_task):
    fast = FastPathModel()
    (with_workers,) = evaluate(fast, [tie_task], num_workers=2, batch_size=2, progress=False)
    assert fast.embed_calls > 0 and fast.calls == []  # encode() never called: prepare/embed were used
    (plain,) = evaluate(FastPathModel(), [tie_task], num_workers=0, fast_path=False, progress=False)
    assert with_workers.scores == plain.scores


def test_rerun_skips_complete_results_unless_overwrite(tie_task, tmp_path):
    model = ContentModel()
    evaluate(model, [tie_task], output_dir=tmp_path, num_workers=0, progress=False)
    path = result_path(tmp_path, model.name, model.revision, "TieTask")
    first = path.read_text()
    calls = len(model.calls)
    report = run_evaluation(model, [tie_task], RunSettings(output_dir=str(tmp_path), num_workers=0, progress=False))
    assert [o.status for o in report.outcomes] == ["skipped"] and len(model.calls) == calls
    assert path.read_text() == first
    # a stored result made with another --limit is not "the same run": computed, written beside it
    report = run_evaluation(model, [tie_task], RunSettings(output_dir=str(tmp_path), num_workers=0, progress=False,
                                                           limit=3))
    assert report.outcomes[0].status == "done" and report.outcomes[0].result.n_queries == 3
    assert path.read_text() == first
    report = run_evaluation(model, [tie_task], RunSettings(output_dir=str(tmp_path), num_workers=0, progress=False,
                                                           overwrite=True))
    assert report.outcomes[0].status == "done"


def test_partial_result_file_is_not_complete(tie_task, tmp_path):
    model = ContentModel()
    path = result_path(tmp_path, model.name, model.revision, "TieTask")
    path.parent.mkdir(parents=True)
    path.write_text('{"task_name": "TieTask", "main_sc')  # e.g. a crash of a non-atomic writer
    report = run_evaluation(model, [tie_task], RunSettings(output_dir=str(tmp_path), num_workers=0, progress=False))
    assert report.outcomes[0].status == "done" and load_result(path).n_queries == 6


def test_a_failing_task_is_recorded_and_the_run_goes_on(tie_task, tmp_path):
    from mmeb.errors import DataError

    broken = make_task("BrokenTask", [], fail=DataError("task BrokenTask: row 3 of x.parquet has no candidates"))
    model = ContentModel()
    with pytest.raises(EvaluationFailed) as info:
        evaluate(model, [broken, tie_task], output_dir=tmp_path, num_workers=0, progress=False)
    assert [r.task_name for r in info.value.results] == ["TieTask"]
    # second in line, the broken task's data loads in the background while TieTask encodes: its error
    # still lands on it, and the run goes on
    with pytest.raises(EvaluationFailed) as again:
        evaluate(model, [tie_task, broken, make_task("Tie2", tie_rows(), TIE_IMAGES)], num_workers=0,
                 progress=False)
    assert [r.task_name for r in again.value.results] == ["TieTask", "Tie2"]
    assert list(again.value.failures) == ["BrokenTask"] and "row 3" in again.value.failures["BrokenTask"]
    assert "row 3 of x.parquet" in info.value.failures["BrokenTask"]
    folder = tmp_path / "toy__content-model" / "r1"
    error = json.loads((folder / "BrokenTask.error.json").read_text())
    assert error["error_type"] == "DataError" and "row 3" in error["message"]
    assert not (folder / "BrokenTask.json").exists() and (folder / "TieTask.json").exists()


def test_missing_image_names_task_role_and_path(tmp_path):
    rows = tie_rows()
    task = make_task("NoImage", rows, {"a.png": TIE_IMAGES["a.png"]})  # b.png / c.png missing
    with pytest.raises(EvaluationFailed) as info:
        evaluate(ContentModel(), [task], num_workers=2, progress=False)
    message = info.value.failures["NoImage"]
    assert "task NoImage" in message and ("query image" in message or "candidate image" in message)
    assert "'b.png'" in message or "'c.png'" in message


@pytest.mark.parametrize("model_class", [ContentModel, FastPathModel])
def test_identical_results_with_and_without_workers_and_batch_sizes(tie_task, model_class):
    (a,) = evaluate(model_class(), [tie_task], num_workers=0, batch_size=1, progress=False)
    (b,) = evaluate(model_class(), [tie_task], num_workers=2, batch_size=5, progress=False)  # threads
    (c,) = evaluate(model_class(), [tie_task], num_workers=2, batch_size=2, loader="processes", progress=False)
    assert a.scores == b.scores == c.scores


def test_unknown_loader_is_refused(tie_task):
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="loader must be one of"):
        evaluate(ContentModel(), [tie_task], loader="fork", progress=False)


def test_dedup_encodes_each_unique_item_once(tie_task):
    model = ContentModel()
    evaluate(model, [tie_task], num_workers=0, batch_size=100, progress=False)
    encoded = {role: sum(n for _, r, n in model.calls if r == role) for role in ("query", "candidate")}
    unique_queries = len({row.query.key for row in tie_rows()})
    unique_candidates = len({c.key for row in tie_rows() for c in row.candidates})
    assert encoded == {"query": unique_queries, "candidate": unique_candidates}


def test_a_tokenizer_borrow_clash_in_a_prepare_thread_is_retried(tie_task):
    """Fast tokenizers raise "Already borrowed" when two threads meet while one sets its padding state."""
    class Clashing(FastPathModel):
        clashes = 0

        def prepare(self, inputs, **context):
            if Clashing.clashes < 2:
                Clashing.clashes += 1
                raise RuntimeError("Already borrowed")
            return super().prepare(inputs, **context)

    (a,) = evaluate(Clashing(), [tie_task], num_workers=2, batch_size=2, progress=False)
    (b,) = evaluate(FastPathModel(), [tie_task], num_workers=0, progress=False)
    assert Clashing.clashes == 2 and a.scores == b.scores

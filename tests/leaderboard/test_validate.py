"""`mmeb validate` accepts good submissions and rejects each kind of bad one with a specific message;
the leaderboard build refuses invalid input naming the file."""

import json

import pytest

from mmeb.cli import main
from mmeb.leaderboard import InvalidResultsError, build_leaderboard, validate_path
from mmeb.leaderboard.load import read_results
from mmeb.leaderboard.validate import validate_results
from mmeb.tasks import TASK_NAMES

from lb_helpers import edit_json, make_result, write_model, write_result


def problems_of(path) -> list[str]:
    return [str(p) for p in validate_path(path).problems]


def only_problem(path) -> str:
    found = problems_of(path)
    assert len(found) == 1, found
    return found[0]


def test_good_submission_passes(results_dir, capsys):
    write_model(results_dir, "org/good")
    preds = [(1, 1)] * 6 + [(1, 2)] * 2 + [(3, 1)] * 2  # 6 hits, 2 half-ties, 2 misses -> 0.7
    write_result(results_dir, make_result("ImageNet-1K", "org/with-preds", 0.7, predictions=preds,
                                          n_queries=None), )
    report = validate_path(results_dir)
    # the predictions file has 10 queries, not the task's 1000: that is the only complaint
    assert [p.what for p in report.problems] == [
        "n_queries is 10 but task ImageNet-1K has 1000 queries (data from hub:test)"]
    assert main(["validate", str(next((results_dir / "org__good").rglob("*.json")))]) == 0
    assert "OK: 1 file(s)" in capsys.readouterr().out


@pytest.fixture
def one_file(results_dir):
    return write_result(results_dir, make_result("VisDial", "org/m", 0.5, ci=(0.45, 0.55)))


def test_schema_violation_names_the_field(one_file):
    edit_json(one_file, main_score=1.5)
    msg = only_problem(one_file)
    assert str(one_file) in msg and "main_score" in msg and "less than or equal to 1" in msg


def test_extra_field_is_rejected(one_file):
    edit_json(one_file, my_note="hi")
    assert "my_note" in only_problem(one_file)


def test_unreadable_json(one_file):
    one_file.write_text("{not json")
    assert "not readable JSON" in only_problem(one_file)


def test_unknown_task_suggests_the_close_name(results_dir):
    path = write_result(results_dir, make_result("VisDial", "org/m", 0.5), name="Visdial2.json")
    edit_json(path, task_name="VisDail")
    msg = only_problem(path)
    assert "unknown MMEB-V1 task 'VisDail'" in msg and "Did you mean: VisDial" in msg


def test_file_name_must_match_task(results_dir):
    path = write_result(results_dir, make_result("VisDial", "org/m", 0.5), name="CIRR.json")
    assert "file name says 'CIRR' but task_name is 'VisDial'" in only_problem(path)


def test_meta_task_and_split_must_match_registry(one_file):
    edit_json(one_file, meta_task="vqa", split="OOD")
    found = problems_of(one_file)
    assert any("meta_task is 'vqa' but task VisDial is 'retrieval'" in p for p in found)
    assert any("split is 'OOD' but task VisDial is 'IND'" in p for p in found)


def test_query_count_must_match_task(one_file):
    edit_json(one_file, n_queries=100)
    assert "n_queries is 100 but task VisDial has 1000 queries" in only_problem(one_file)
    edit_json(one_file, evaluation={"limit": 100})
    assert "is a --limit 100 run (100 of 1000 queries). Fix: evaluate the full test set (no --limit)" in \
        only_problem(one_file)


def test_dataset_revision_must_be_resolved(one_file):
    data = json.loads(one_file.read_text())
    data["dataset"]["revision"] = "main"
    one_file.write_text(json.dumps(data))
    assert "branch name 'main'" in only_problem(one_file)
    data["dataset"]["revision"] = " "
    one_file.write_text(json.dumps(data))
    assert "dataset.revision is empty" in only_problem(one_file)


def test_ci_must_bracket_score(one_file):
    data = json.loads(one_file.read_text())
    data["scores"]["ci95_low"] = 0.6
    data["scores"]["ci95_high"] = 0.7
    one_file.write_text(json.dumps(data))
    assert "outside its CI" in only_problem(one_file)


@pytest.mark.parametrize("tie_rule, stated, ok", [
    ("fractional", 0.5, True),   # 0.4 + 2 * (1/2) / 10 = 0.5
    ("fractional", 0.6, False),
    ("v1", 0.6, True),           # ties count as hits: 6 / 10
    ("v1", 0.5, False),
])
def test_predictions_recompute_to_stated_score(results_dir, tie_rule, stated, ok):
    preds = [(1, 1)] * 4 + [(1, 2)] * 2 + [(2, 1)] * 4
    r = make_result("ImageNet-1K", "org/m", stated, predictions=preds, tie_rule=tie_rule)
    path = write_result(results_dir, r)
    found = [p for p in problems_of(path) if "n_queries is" not in p]  # 10 predictions, not 1000 queries
    if ok:
        assert found == []
    else:
        assert len(found) == 1 and "predictions give hit@1=" in found[0] and f"states {stated:.6f}" in found[0]


def test_tied_query_count_is_checked(results_dir):
    preds = [(1, 1)] * 8 + [(1, 2)] * 2
    r = make_result("ImageNet-1K", "org/m", 0.9, predictions=preds)
    path = write_result(results_dir, r)
    data = json.loads(path.read_text())
    data["scores"]["n_tied_queries"] = 5
    path.write_text(json.dumps(data))
    assert any("2 tied queries but scores.n_tied_queries=5" in p for p in problems_of(path))


def test_duplicate_and_conflict(results_dir):
    first = write_result(results_dir, make_result("CIRR", "org/m", 0.5))
    dup = write_result(results_dir / "copy", make_result("CIRR", "org/m", 0.5))
    msg = only_problem(results_dir)
    assert str(dup) in msg and str(first) in msg and "duplicates" in msg
    write_result(results_dir / "other", make_result("CIRR", "org/m", 0.6))
    found = problems_of(results_dir)
    assert any("conflicts with" in p and "hit@1 0.5 vs 0.6" in p for p in found)


def test_build_refuses_invalid_input_naming_file(results_dir, tmp_path, capsys):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:3])
    bad = write_result(results_dir, make_result("CIRR", "org/m", 0.5))
    edit_json(bad, meta_task="vqa")
    with pytest.raises(InvalidResultsError) as err:
        build_leaderboard(results_dir, tmp_path / "out")
    assert str(bad) in str(err.value) and "meta_task is 'vqa'" in str(err.value)
    assert not (tmp_path / "out").exists()
    assert main(["leaderboard", "--results-dir", str(results_dir), "--output-dir", str(tmp_path / "o")]) == 2
    assert main(["validate", str(results_dir)]) == 1
    err_text = capsys.readouterr().err
    assert str(bad) in err_text and "INVALID" in err_text


def test_missing_path_and_empty_folder(tmp_path):
    assert "does not exist" in only_problem(tmp_path / "nope")
    assert "holds no result files" in only_problem(tmp_path)


def test_error_records_of_failed_runs_are_not_results(results_dir):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])
    (results_dir / "org__m" / "abc123" / "CIRR.error.json").write_text('{"error": "boom"}')
    assert problems_of(results_dir) == []


def test_aggregate_only_row_cannot_shadow_a_model_with_task_results(results_dir):
    from mmeb.leaderboard.aggregate_only import AggregateOnlyResult

    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1], revision=None)
    agg = AggregateOnlyResult.model_validate({"model": {"name": "org/m"}, "scores": {"overall": 0.5},
                                             "tie_rule": "fractional", "benchmark": "MMEB-V1",
                                             "published": {"source": "s", "citation": "c"}})
    path = results_dir / "org__m" / "no_revision" / "aggregates.json"
    path.write_text(agg.model_dump_json())
    assert "is an aggregate-only row" in only_problem(results_dir)  # never in a submission
    edit_json(path, published=None)
    assert "is an aggregate-only row" in only_problem(results_dir)
    edit_json(path, published={"source": "s", "citation": "c"})

    def trusted_problems():  # as the shipped published rows are read
        return [str(p) for p in validate_results(read_results(results_dir, trusted=True))]
    assert any("has per-task results" in p for p in trusted_problems())
    edit_json(path, model={"name": "org/other"}, benchmark="MMEB-V9")
    assert any("benchmark 'MMEB-V9' is unknown" in p for p in trusted_problems())


def test_recomputation_agrees_with_the_engine_and_catches_each_metric(results_dir):
    """The validator's own formulas and the engine's (mmeb.evaluation.metrics) must agree on tied data."""
    from mmeb.evaluation import metrics
    from mmeb.results.schema import Prediction

    preds = [(1, 1), (1, 3), (2, 1), (4, 2), (9, 5), (1, 2), (12, 1), (3, 40)]
    for tie_rule in ("fractional", "v1"):
        engine = metrics.compute_scores([Prediction(top1=0 if r == 1 else 1, rank=r, tie_size=t) for r, t in preds], tie_rule)
        r = make_result("ImageNet-1K", "org/m", engine.hit_at_1, predictions=preds, tie_rule=tie_rule)
        r.scores = engine
        path = write_result(results_dir / tie_rule, r)
        assert [p for p in problems_of(path) if "n_queries is" not in p] == []
        data = json.loads(path.read_text())
        data["scores"]["mrr"] = round(data["scores"]["mrr"] + 0.01, 6)
        path.write_text(json.dumps(data))
        found = [p for p in problems_of(path) if "n_queries is" not in p]
        assert len(found) == 1 and "predictions give mrr=" in found[0]

"""MMEB-V2 tables: image / video / visdoc with their sub-categories, Overall = mean over the 78 tasks;
the shipped published rows (per benchmark version) reproduce the official aggregates; export to the
official V2 score-file format."""

import json
from datetime import datetime, timezone

import pytest

import mmeb.leaderboard.build
import mmeb.leaderboard.catalog
import mmeb.leaderboard.validate
from mmeb.cli import main
from mmeb.leaderboard import build_leaderboard
from mmeb.leaderboard.export import export_leaderboard
from mmeb.results.schema import DatasetInfo, HarnessInfo, ModelInfo, Scores, TaskResult
from mmeb.units import format_points

from lb_helpers import v2_catalog

# The paper's appendix Table 5 (= the v2.0.0 score files): Overall / Image / Video / VisDoc, percent.
TABLE5 = {
    "VLM2Vec-V2.0-Qwen2VL-2B": (58.0, 64.9, 34.6, 65.4),
    "gme-Qwen2-VL-2B-Instruct": (54.1, 51.9, 33.6, 72.7),
    "gme-Qwen2-VL-7B-Instruct": (57.8, 56.0, 38.4, 75.2),
    "colpali-v1.3": (44.4, 34.9, 28.2, 71.0),
    "LamRA-Ret": (40.4, 54.1, 35.0, 23.9),
    "LamRA-Ret-Qwen2.5VL-7b": (47.4, 52.4, 33.6, 50.2),
    "VLM2Vec-V1-Qwen2VL-2B": (47.0, 59.7, 28.6, 41.6),
    "VLM2Vec-V1-Qwen2VL-7B": (52.3, 65.5, 33.7, 46.4),
}
# Table 5's sub-categories of VLM2Vec-V2 (V-MRET as in Table 5 / the score files, not Table 2).
VLM2VEC_V2_SUBGROUPS = {"I-CLS": 62.9, "I-QA": 56.3, "I-RET": 69.5, "I-GD": 77.3, "V-CLS": 39.3, "V-QA": 34.3,
                        "V-RET": 28.8, "V-MRET": 36.8, "VDRv1": 75.5, "VDRv2": 44.9, "VR": 79.4, "OOD": 39.4}


@pytest.fixture
def v2(monkeypatch):
    catalog = v2_catalog()
    for module in (mmeb.leaderboard.build, mmeb.leaderboard.validate, mmeb.leaderboard.catalog):
        monkeypatch.setattr(module, "task_catalog", lambda: catalog)
    return catalog


def _board(out):
    data = json.loads((out / "leaderboard.json").read_text())
    return next(b for b in data["benchmarks"] if b["benchmark"] == "MMEB-V2")


def test_published_v2_rows_reproduce_the_official_aggregates(v2, tmp_path):
    build_leaderboard(None, tmp_path)
    board = _board(tmp_path)
    assert board["columns"] == ["image", "video", "visdoc", "overall"]
    rows = {(r["model"], r["version"]): r for r in board["rows"]}
    for model, (overall, image, video, visdoc) in TABLE5.items():
        groups = rows[(model, "v2.0.0")]["groups"]
        shown = [format_points(groups[k]["value"]) for k in ("overall", "image", "video", "visdoc")]
        assert shown == [f"{v:.1f}" for v in (overall, image, video, visdoc)], model
    v2_row = rows[("VLM2Vec-V2.0-Qwen2VL-2B", "v2.0.0")]
    assert {k: format_points(v2_row["groups"][k]["value"]) for k in VLM2VEC_V2_SUBGROUPS} == \
        {k: f"{v:.1f}" for k, v in VLM2VEC_V2_SUBGROUPS.items()}
    md = (tmp_path / "leaderboard.md").read_text()
    assert "| 64.9 | 34.6 | 65.4 | 58.0 |" in md  # image, video, visdoc, overall, one decimal


def test_overall_is_the_mean_over_78_tasks_not_of_the_modality_means(v2, tmp_path):
    build_leaderboard(None, tmp_path)
    row = next(r for r in _board(tmp_path)["rows"]
               if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B" and r["version"] == "v2.0.0")
    tasks = [t["value"] for t in row["tasks"].values()]
    assert len(tasks) == 78
    assert row["groups"]["overall"]["value"] == pytest.approx(sum(tasks) / 78, abs=1e-3)
    modality_mean = sum(row["groups"][m]["value"] for m in ("image", "video", "visdoc")) / 3
    assert format_points(modality_mean) == "54.9" and format_points(row["groups"]["overall"]["value"]) == "58.0"


def test_each_benchmark_version_is_its_own_published_row(v2, tmp_path):
    build_leaderboard(None, tmp_path)
    board = _board(tmp_path)
    versions = {r["version"] for r in board["rows"] if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B"}
    assert versions == {"v2.0.0", "v2.0.1", "v2.1-baselines-visdoc-page-fixed"}
    assert all(r["kind"] == "published" and r["published"]["version"] == r["version"] for r in board["rows"])
    assert all(r["version"] in r["label"] for r in board["rows"])
    fixed = next(r for r in board["rows"] if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B"
                 and r["version"] == "v2.1-baselines-visdoc-page-fixed")
    assert fixed["groups"]["overall"] == {"value": None, "n_done": 76, "n_total": 78, "ci95": None}  # no doc tasks
    assert format_points(fixed["tasks"]["ViDoSeek-page"]["value"]) == "80.3"  # the fixed labels
    groups = board["groups"]
    assert [len(groups[k]) for k in ("image", "video", "visdoc", "overall")] == [36, 18, 24, 78]
    assert {k: len(v) for k, v in groups.items() if k not in ("image", "video", "visdoc", "overall")} == {
        "I-CLS": 10, "I-QA": 10, "I-RET": 12, "I-GD": 4, "V-CLS": 5, "V-QA": 5, "V-RET": 5, "V-MRET": 3,
        "VDRv1": 10, "VDRv2": 4, "VR": 6, "OOD": 4}


def test_v1_tables_stay_as_they_are(v2, tmp_path):
    build_leaderboard(None, tmp_path)
    data = json.loads((tmp_path / "leaderboard.json").read_text())
    v1 = data["benchmarks"][0]
    assert v1["benchmark"] == "MMEB-V1" and v1["columns"] == ["overall", "IND", "OOD"]
    assert list(v1["groups"]) == ["overall", "IND", "OOD", "classification", "vqa", "retrieval", "grounding"]


def _v2_result(info, model="org/v2", score=0.5) -> TaskResult:
    field = "ndcg_at_5" if info.main_metric == "ndcg_linear@5" else "hit_at_1"
    return TaskResult(task_name=info.name, benchmark="MMEB-V2", main_metric=info.main_metric, main_score=score,
                      n_queries=info.n_queries, scores=Scores(**{field: score}),
                      dataset=DatasetInfo(id=info.dataset_id, revision="0123abcd", subset=info.name),
                      model=ModelInfo(name=model, revision="r1"), harness=HarnessInfo(mmeb_version="0", python="3"),
                      date=datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_export_writes_the_official_v2_score_file(v2, results_dir, tmp_path):
    folder = results_dir / "org__v2" / "r1"
    folder.mkdir(parents=True)
    for info in v2.tasks("MMEB-V2"):
        r = _v2_result(info)
        (folder / f"{info.name}.json").write_text(r.model_dump_json(exclude_none=True))
    data = export_leaderboard(results_dir, "org/v2", benchmark="MMEB-V2", url="https://example.org")
    assert list(data["metrics"]) == ["image", "video", "visdoc"]
    assert [len(v) for v in data["metrics"].values()] == [36, 18, 24]
    visdoc = data["metrics"]["visdoc"]
    assert "ViDoSeek-page-fixed" in visdoc and "MMLongBench-page-fixed" in visdoc and "ViDoSeek-page" not in visdoc
    assert visdoc["ViDoRe_arxivqa"]["ndcg_linear@5"] == 0.5 and "hit@1" not in visdoc["ViDoRe_arxivqa"]
    assert data["metrics"]["video"]["K700"]["hit@1"] == 0.5 and data["metrics"]["video"]["K700"]["num_data"] == 1000
    assert data["metadata"]["model_name"] == "org/v2"
    out = tmp_path / "v2.json"
    assert main(["export", "--format", "mmeb-v2-leaderboard", "--results-dir", str(results_dir), "--model", "org/v2",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["metrics"]["image"]["ImageNet-1K"]["hit@1"] == 0.5


def test_a_user_v2_run_is_tabled_beside_the_published_rows(v2, results_dir, tmp_path):
    folder = results_dir / "org__v2" / "r1"
    folder.mkdir(parents=True)
    for info in v2.tasks("MMEB-V2")[:40]:
        (folder / f"{info.name}.json").write_text(_v2_result(info).model_dump_json(exclude_none=True))
    build_leaderboard(results_dir, tmp_path)
    row = next(r for r in _board(tmp_path)["rows"] if r["model"] == "org/v2")
    assert row["kind"] == "run" and row["groups"]["image"]["value"] == 50.0
    assert row["groups"]["video"] == {"value": None, "n_done": 4, "n_total": 18, "ci95": None}
    assert row["verified"] is False  # no predictions it could recompute


def test_published_v2_rows_carry_model_sizes(v2, tmp_path):
    build_leaderboard(None, tmp_path)
    sizes = {r["model"]: r["size_b"] for r in _board(tmp_path)["rows"]}
    assert sizes["VLM2Vec-V2.0-Qwen2VL-2B"] == 2.0 and sizes["gme-Qwen2-VL-7B-Instruct"] == 7.0
    assert sizes["colpali-v1.3"] == 3.0


def test_a_full_v2_0_0_momentseeker_run_is_official(results_dir):
    """v2.0.0 (the paper's benchmark) reads the 1,800-query MomentSeeker; v2.0.1 and later the 1,602-query
    one (spec section 8): each count is the full task for its own data version."""
    from mmeb.leaderboard.validate import validate_results
    from mmeb.leaderboard.load import read_results

    info = next(t for t in v2_catalog().tasks("MMEB-V2") if t.name == "MomentSeeker")
    folder = results_dir / "org__v2" / "r1" / "MMEB-V2"
    folder.mkdir(parents=True)
    for version, n, ok in (("v2.0.0", 1800, True), ("v2.1", 1602, True), ("v2.1", 1800, False),
                           ("v2.0.0", 1602, False)):
        r = _v2_result(info).model_copy(update={"n_queries": n})
        r = r.model_copy(update={"dataset": r.dataset.model_copy(update={"version": version})})
        path = folder / "MomentSeeker.json"
        path.write_text(r.model_dump_json(exclude_none=True))
        problems = validate_results(read_results(path))
        assert (problems == []) is ok, (version, n, [str(p) for p in problems])
        if not ok:
            assert f"has {1800 if n == 1602 else 1602} queries" in problems[0].what and version in problems[0].what


def test_export_names_the_page_tasks_fixed_only_for_the_fixed_data(v2, results_dir):
    """report_score_v2.py writes ViDoSeek-page-fixed / MMLongBench-page-fixed for runs on the fixed repos
    (data version v2.1); a v2.0.0 or v2.0.1 run read the unfixed labels and keeps the plain keys."""
    for version in ("v2.0.0", "v2.1"):
        folder = results_dir / version / "org__v2" / "r1" / "MMEB-V2"
        folder.mkdir(parents=True)
        for info in v2.tasks("MMEB-V2"):
            r = _v2_result(info)
            r = r.model_copy(update={"n_queries": info.n_queries_for(version),
                                     "dataset": r.dataset.model_copy(update={"version": version})})
            (folder / f"{info.name}.json").write_text(r.model_dump_json(exclude_none=True))
        visdoc = export_leaderboard(results_dir / version, "org/v2", benchmark="MMEB-V2")["metrics"]["visdoc"]
        fixed = version == "v2.1"
        for task in ("ViDoSeek-page", "MMLongBench-page"):
            assert ((task + "-fixed") in visdoc) is fixed and (task in visdoc) is not fixed, (version, task)


def test_a_v2_run_gets_the_model_facts_of_its_model_meta(v2, results_dir, tmp_path):
    """`mmeb run` writes model_meta.json in the revision folder and the MMEB-V2 results one level down
    (<revision>/MMEB-V2/<Task>.json): the V2 row and export still carry the model's size and URL."""
    folder = results_dir / "org__v2" / "r1"
    (folder / "MMEB-V2").mkdir(parents=True)
    (folder / "model_meta.json").write_text(json.dumps(
        {"name": "org/v2", "revision": "r1", "metadata": {"size_b": 2.0, "url": "https://example.org/v2",
                                                          "embedding_dim": 1536}}))
    for info in v2.tasks("MMEB-V2"):
        (folder / "MMEB-V2" / f"{info.name}.json").write_text(_v2_result(info).model_dump_json(exclude_none=True))
    build_leaderboard(results_dir, tmp_path)
    row = next(r for r in _board(tmp_path)["rows"] if r["model"] == "org/v2")
    assert row["size_b"] == 2.0 and row["url"] == "https://example.org/v2"
    meta = export_leaderboard(results_dir, "org/v2", benchmark="MMEB-V2")["metadata"]
    assert meta["model_size"] == 2.0 and meta["embedding_dimension"] == 1536 and meta["url"] == "https://example.org/v2"


def test_an_unknown_v2_data_version_is_refused(results_dir):
    from mmeb.leaderboard.load import read_results
    from mmeb.leaderboard.validate import validate_results

    info = next(t for t in v2_catalog().tasks("MMEB-V2") if t.name == "K700")
    folder = results_dir / "org__v2" / "r1" / "MMEB-V2"
    folder.mkdir(parents=True)
    path = folder / "K700.json"
    for version, ok in (("v2.1", True), ("v2.0.0", True), ("v3", False), ("", False)):
        r = _v2_result(info)
        r = r.model_copy(update={"dataset": r.dataset.model_copy(update={"version": version})})
        path.write_text(r.model_dump_json(exclude_none=True))
        problems = validate_results(read_results(path))
        assert (problems == []) is ok, (version, [str(p) for p in problems])
        if not ok:
            assert "dataset.version" in problems[0].what and not problems[0].unofficial

"""The shipped reference rows: generated from the tables in mmeb.leaderboard.published, complete,
marked published with a source, and identical to what the generator writes now."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from mmeb.leaderboard.aggregate_only import AggregateOnlyResult
from mmeb.leaderboard.published.v1 import TABLE6, TABLE6_MODELS, model_folder, published_models, write_published
from mmeb.leaderboard.load import read_results
from mmeb.leaderboard.validate import validate_results
from mmeb.tasks import TASK_NAMES

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "mmeb" / "leaderboard" / "published" / "rows" / "MMEB-V1"
REGENERATE = ("python -m mmeb.leaderboard.published --write mmeb/leaderboard/published/rows "
              "--v2-scores published_scores.json --v2-tasks tasks.json")


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def test_shipped_files_are_exactly_the_generated_ones(tmp_path):
    if not SHIPPED.exists():
        pytest.fail(f"{SHIPPED} missing: run `{REGENERATE}`")
    write_published(tmp_path)
    assert _tree(SHIPPED) == _tree(tmp_path), f"the shipped V1 rows are stale or hand-edited: run `{REGENERATE}`"


def test_generated_rows_are_valid_complete_and_marked(tmp_path):
    write_published(tmp_path)
    results = read_results(tmp_path, trusted=True)
    problems = validate_results(results)
    assert not problems, problems
    per_task = [r for _, r in results.task_results]
    assert len(per_task) == 36 * len([m for m in published_models() if m.per_task])
    assert all(r.published and r.published.source and r.published.citation for r in per_task)
    assert all(r.harness is None and r.tie_rule == "v1" for r in per_task)
    aggregates = [a for _, a in results.aggregate_only]
    assert {a.model.name for a in aggregates} >= {"VLM2Vec (Phi-3.5-V, LoRA)", "VLM2Vec (Phi-3.5-V, full fine-tune)",
                                                   "UniIR (BLIP_FF)", "Qwen3-VL-Embedding-8B"}


def test_every_table6_figure_is_shipped_as_a_fraction(tmp_path):
    write_published(tmp_path)
    lines = TABLE6.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(TASK_NAMES)  # canonical order, as printed
    for line in lines:
        task, *values = line.split()
        for model, value in zip(TABLE6_MODELS, values):
            data = json.loads((tmp_path / model_folder(model) / "no_revision" / f"{task}.json").read_text())
            assert data["main_score"] == pytest.approx(float(value) / 100, abs=1e-9)
            assert data["published"]["source"].endswith("Table 6")


def test_paper_rows_and_rescores_are_separate_models():
    names = [m.name for m in published_models()]
    assert len(names) == len(set(names))
    assert "VLM2Vec (Qwen2-VL-7B LoRA, repo README)" in names and "VLM2Vec-Qwen2VL-7B (V2-code re-score)" in names


def test_aggregate_only_schema_is_strict():
    base = {"model": {"name": "x"}, "scores": {"overall": 0.5},
            "published": {"source": "s", "citation": "c"}}
    AggregateOnlyResult.model_validate(base)
    with pytest.raises(ValidationError, match="extra"):
        AggregateOnlyResult.model_validate({**base, "unexpected": 1})
    with pytest.raises(ValidationError, match="at least one group score"):
        AggregateOnlyResult.model_validate({**base, "scores": {}})
    with pytest.raises(ValidationError, match="published"):
        AggregateOnlyResult.model_validate({k: v for k, v in base.items() if k != "published"})
    with pytest.raises(ValidationError):
        AggregateOnlyResult.model_validate({**base, "scores": {"overall": 60.1}})  # percent, not fraction


def test_published_v2_rows_name_the_repo_their_version_read():
    """v2.0.0 read the 1,800-query MomentSeeker_1k8; v2.0.0 and v2.0.1 read the unfixed page repos (spec
    section 8): each shipped row records the repo its figures come from, as the task registry names it."""
    from mmeb.tasks import get_task

    root = SHIPPED.parent / "MMEB-V2"
    data_version = {"v2.0.0": "v2.0.0", "v2.0.1": "v2.0.1", "v2.1-baselines-visdoc-page-fixed": "v2.1"}
    seen = 0
    for file in root.rglob("*.json"):
        row = json.loads(file.read_text())
        meta = get_task(f"MMEB-V2:{row['task_name']}").metadata
        expected = meta.repo_for(data_version[row["published"]["version"]])
        assert row["dataset"]["id"] == expected, file
        seen += expected != meta.dataset_id
    assert seen == 8 * (1 + 2 + 2)  # MomentSeeker v2.0.0, two page tasks in v2.0.0 and v2.0.1, 8 models

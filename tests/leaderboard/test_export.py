"""`mmeb export --format mmeb-leaderboard`: the official leaderboard JSON of one model."""

import json

import pytest

from mmeb.cli import main
from mmeb.errors import MMEBError
from mmeb.leaderboard.export import export_mmeb_leaderboard, missing_tasks
from mmeb.leaderboard.published.v1 import write_published
from mmeb.results.schema import Scores
from mmeb.tasks import TASK_NAMES

from lb_helpers import make_result, write_model, write_result


def test_export_has_official_layout(results_dir):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:35], size_b=2.2, embedding_dim=1536)
    full = make_result(TASK_NAMES[35], "org/m", 0.8)
    full.scores = Scores(hit_at_1=0.8, hit_at_5=0.9, hit_at_10=0.95, ndcg_at_5=0.86, mrr=0.84)
    write_result(results_dir, full)
    data = export_mmeb_leaderboard(results_dir, "org/m", url="https://example.org/m")
    meta = data["metadata"]
    assert meta["model_name"] == "org/m" and meta["data_source"] == "Self-Reported"
    assert meta["model_size"] == 2.2 and meta["embedding_dimension"] == 1536 and meta["url"] == "https://example.org/m"
    assert "report_generated_date" in meta and "model_backbone" not in meta  # unknown -> omitted
    image = data["metrics"]["image"]
    assert list(image) == list(TASK_NAMES) and missing_tasks(data) == []
    last = image[TASK_NAMES[35]]
    assert last["hit@1"] == 0.8 and last["hit@5"] == 0.9 and last["recall@10"] == 0.95
    assert last["ndcg_linear@5"] == last["ndcg_exponential@5"] == 0.86
    assert last["num_pred"] == last["num_data"] == 1000
    assert "hit@5" not in image[TASK_NAMES[0]]  # not computed -> omitted, never invented
    assert all(0 <= v <= 1 for d in image.values() for k, v in d.items() if not k.startswith("num_"))


def test_export_cli_writes_file(results_dir, tmp_path, capsys):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:3])
    out = tmp_path / "scores" / "m.json"
    assert main(["export", "--format", "mmeb-leaderboard", "--results-dir", str(results_dir), "--model", "org/m",
                 "--out", str(out), "--model-size", "7"]) == 0
    data = json.loads(out.read_text())
    assert data["metadata"]["model_size"] == 7 and len(data["metrics"]["image"]) == 3
    assert "33 MMEB-V1 datasets missing" in capsys.readouterr().err


def test_export_refuses_unknown_model_and_published_rows(results_dir, tmp_path):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])
    with pytest.raises(MMEBError, match="no MMEB-V1 results for model 'org/x'.*org/m"):
        export_mmeb_leaderboard(results_dir, "org/x")
    write_published(tmp_path / "pub")
    with pytest.raises(MMEBError, match="marks itself `published`"):
        export_mmeb_leaderboard(tmp_path / "pub", "CLIP", tie_rule="v1")

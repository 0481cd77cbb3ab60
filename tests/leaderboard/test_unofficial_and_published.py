"""Development runs (a --limit run, a data sample) are viewable with --include-unofficial, marked and never
mixed into official rows; the published reference rows ship inside the package and show from any folder."""

import json
import os

from mmeb.cli import main
from mmeb.leaderboard import build_leaderboard
from mmeb.tasks import TASK_NAMES

from lb_helpers import edit_json, make_result, write_model, write_result


def _rows(out, benchmark="MMEB-V1"):
    data = json.loads((out / "leaderboard.json").read_text())
    return next(b for b in data["benchmarks"] if b["benchmark"] == benchmark)["rows"]


def _limit_run(results_dir, model="org/m", tasks=TASK_NAMES[:2]):
    for t in tasks:
        r = make_result(t, model, 0.9, n_queries=5)
        path = write_result(results_dir / "limit", r)
        edit_json(path, evaluation={"limit": 5})


def test_limit_and_sample_runs_are_hidden_by_default_and_said_so(results_dir, tmp_path, capsys):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:2])
    _limit_run(results_dir)
    assert main(["leaderboard", "--results-dir", str(results_dir), "--output-dir", str(tmp_path), "--no-published"]) == 0
    assert "2 unofficial result file(s) left out" in capsys.readouterr().out
    rows = _rows(tmp_path)
    assert len(rows) == 1 and rows[0]["official"] is True and rows[0]["tasks"]["ImageNet-1K"]["value"] == 40.0


def test_include_unofficial_shows_them_marked_in_their_own_row(results_dir, tmp_path):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:2])
    _limit_run(results_dir)
    write_result(results_dir / "sample", make_result("CIRR", "org/m", 0.7, n_queries=20))  # a data sample
    assert main(["leaderboard", "--results-dir", str(results_dir), "--output-dir", str(tmp_path),
                 "--no-published", "--include-unofficial"]) == 0
    rows = _rows(tmp_path)
    official = [r for r in rows if r["official"]]
    unofficial = [r for r in rows if not r["official"]]
    assert len(official) == 1 and set(official[0]["tasks"]) == set(TASK_NAMES[:2])
    assert official[0]["tasks"]["ImageNet-1K"]["value"] == 40.0  # never averaged with the limit run's 90.0
    assert len(unofficial) == 1 and rows.index(unofficial[0]) > rows.index(official[0])  # listed after
    assert unofficial[0]["tasks"]["ImageNet-1K"]["value"] == 90.0 and "CIRR" in unofficial[0]["tasks"]
    assert "unofficial" in unofficial[0]["label"] and unofficial[0]["unofficial_reason"]
    assert 'class="badge unofficial"' in (tmp_path / "index.html").read_text()
    assert "mmeb run, unofficial:" in (tmp_path / "leaderboard.md").read_text()


def test_published_rows_ship_in_the_package_and_show_from_any_folder(tmp_path, capsys):
    os.chdir(tmp_path)  # no results folder, not a clone
    assert main(["leaderboard", "--output-dir", "lb"]) == 0
    rows = _rows(tmp_path / "lb")
    assert {r["model"] for r in rows} >= {"CLIP", "VLM2Vec (LLaVA-1.6 LoRA, 1344x1344)"}
    assert all(r["kind"] != "run" and r["published"]["source"] for r in rows)


def test_published_rows_beside_own_rows_and_no_published_hides_them(results_dir, tmp_path):
    write_model(results_dir, "org/mine")
    build_leaderboard(results_dir, tmp_path / "with")
    names = {r["model"]: r for r in _rows(tmp_path / "with")}
    assert "org/mine" in names and "CLIP" in names and names["CLIP"]["kind"] == "published"
    build_leaderboard(results_dir, tmp_path / "without", published=False)
    assert [r["model"] for r in _rows(tmp_path / "without")] == ["org/mine"]


def test_the_clones_results_published_link_reads_as_the_shipped_rows(tmp_path):
    from pathlib import Path

    link = Path(__file__).resolve().parents[2] / "results" / "published"
    assert link.is_symlink() and (link / "MMEB-V1" / "CLIP").is_dir()
    build_leaderboard(link, tmp_path)
    rows = _rows(tmp_path)
    assert rows and all(r["kind"] in ("published", "aggregate-only") for r in rows)


def test_validate_accepts_the_shipped_rows(capsys):
    from mmeb.leaderboard.published import ROWS_DIR

    assert main(["validate", str(ROWS_DIR / "MMEB-V1")]) == 0
    assert "OK:" in capsys.readouterr().out

"""Outputs: all four files, the same numbers in each, and every submitted string escaped."""

import csv
import io
import json
from pathlib import Path

import pytest

from mmeb.cli import main
from mmeb.leaderboard import build_leaderboard
from mmeb.leaderboard.format import pct
from mmeb.leaderboard.render_md import md_escape
from mmeb.tasks import TASK_NAMES

from lb_helpers import write_model

EVIL = '<script>window.__pwned = 1; document.title = "pwned"</script>'
EVIL_URL = "javascript:window.__pwned=1"


def test_outputs_agree(results_dir, tmp_path):
    write_model(results_dir, "org/full", base=0.5, ci=(0.3, 0.8))
    write_model(results_dir, "org/half", tasks=TASK_NAMES[:18], base=0.3)
    out = tmp_path / "lb"
    assert main(["leaderboard", "--results-dir", str(results_dir), "--output-dir", str(out), "--no-published"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "leaderboard.csv", "leaderboard.json",
                                                     "leaderboard.md"]
    data = json.loads((out / "leaderboard.json").read_text())
    rows = data["benchmarks"][0]["rows"]
    assert [r["model"] for r in rows] == ["org/full", "org/half"]
    overall = rows[0]["groups"]["overall"]["value"]
    assert rows[1]["groups"]["overall"] == {"value": None, "n_done": 18, "n_total": 36, "ci95": None}
    md = (out / "leaderboard.md").read_text()
    assert f"| {pct(overall)} [" in md and "partial (18/36)" in md
    table = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert float(table[0]["overall"]) == overall and table[1]["overall"] == "" and table[1]["tasks_done"] == "18/36"
    html = (out / "index.html").read_text()
    assert "partial (18/36)" in html and "<svg" in html
    low, high = rows[0]["groups"]["overall"]["ci95"]
    assert low < overall < high
    assert f'{pct(overall)}<span class="ci">[{low:.1f}, {high:.1f}]</span>' in html
    assert f"{pct(overall)} [{low:.1f}, {high:.1f}]" in md


def test_committed_leaderboard_is_current(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    build_leaderboard(repo / "results", tmp_path)
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html"):
        assert (repo / "leaderboard" / name).read_text() == (tmp_path / name).read_text(), (
            f"leaderboard/{name} is stale: run `mmeb leaderboard --output-dir leaderboard` in the repository")


def test_rebuild_is_byte_identical(results_dir, tmp_path):
    write_model(results_dir, "org/full")
    build_leaderboard(results_dir, tmp_path / "a")  # with the published rows
    build_leaderboard(results_dir, tmp_path / "b")
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_page_is_self_contained(results_dir, tmp_path):
    write_model(results_dir, "org/full")
    html = (build_leaderboard(results_dir, tmp_path, published=False).files[-1]).read_text()
    assert "<style>" in html and "<script>" in html
    for external in ("http://", "https://", "<link", " src="):
        assert external not in html


def test_submitted_strings_are_escaped_everywhere(results_dir, tmp_path):
    write_model(results_dir, EVIL, tasks=TASK_NAMES[:2], url=EVIL_URL)
    write_model(results_dir, "=HYPERLINK(\"http://x\")", tasks=TASK_NAMES[:1])
    lb = build_leaderboard(results_dir, tmp_path, published=False)
    html = (tmp_path / "index.html").read_text()
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned" in html
    assert "javascript:" not in html  # unsafe URL dropped, name kept as text
    md = (tmp_path / "leaderboard.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md and "javascript:" not in md
    rows = list(csv.reader(io.StringIO((tmp_path / "leaderboard.csv").read_text())))
    assert all(not cell.startswith("=") for row in rows for cell in row)
    assert {r.name for b in lb.boards for r in b.rows} == {EVIL, "=HYPERLINK(\"http://x\")"}


def test_markdown_escape():
    assert md_escape("a|b *c* [d](e) `f` <g>") == r"a\|b \*c\* \[d\](e) \`f\` &lt;g&gt;"
    assert md_escape("line\nbreak") == "line break"


def test_published_rows_are_visibly_marked(tmp_path):
    build_leaderboard(None, tmp_path / "lb")  # the shipped rows alone
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "published: VLM2Vec paper (arXiv 2410.05160), Table 6" in md
    assert "published, aggregates only: VLM2Vec paper (arXiv 2410.05160), Table 2" in md
    assert "## Sources of published rows" in md
    html = (tmp_path / "lb" / "index.html").read_text()
    assert html.count('class="badge published"') >= 10


@pytest.mark.parametrize("command", ["leaderboard", "export"])
def test_an_unwritable_output_is_one_clear_line(results_dir, tmp_path, capsys, command):
    write_model(results_dir, "org/m", tasks=["ImageNet-1K"])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = (["leaderboard", "--results-dir", str(results_dir), "--output-dir", str(blocker), "--no-published"]
            if command == "leaderboard" else
            ["export", "--format", "mmeb-leaderboard", "--results-dir", str(results_dir), "--model", "org/m",
             "--out", str(blocker / "m.json")])
    assert main(args) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(blocker) in errors[0] and "Traceback" not in err, err

"""Forged or sloppy submissions: each case is refused with one clear line, or shown but marked."""

import csv
import io
import json

import pytest

from mmeb.cli import main
from mmeb.errors import MMEBError
from mmeb.leaderboard import build_leaderboard, validate_path
from mmeb.leaderboard.export import export_mmeb_leaderboard
from mmeb.leaderboard.load import read_results
from mmeb.tasks import TASK_NAMES

from lb_helpers import edit_json, make_result, write_model, write_result


def problems_of(path) -> list[str]:
    return [str(p) for p in validate_path(path).problems]


def _json_rows(out):
    return json.loads((out / "leaderboard.json").read_text())["benchmarks"][0]["rows"]


def test_require_predictions_rejects_results_without_them(results_dir, capsys):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])
    assert main(["validate", str(results_dir)]) == 0
    assert main(["validate", "--require-predictions", str(results_dir)]) == 1
    assert "has no per-query predictions" in capsys.readouterr().err


def test_rows_without_predictions_are_marked_unverified(results_dir, tmp_path):
    write_model(results_dir, "org/plain", tasks=TASK_NAMES[:1])
    preds = [(1, 1)] * 3 + [(2, 1)]
    write_result(results_dir, make_result("ImageNet-1K", "org/checked", 0.75, predictions=preds))
    build_leaderboard(results_dir, tmp_path, published=False, include_unofficial=True)
    rows = {r["model"]: r for r in _json_rows(tmp_path)}
    assert rows["org/plain"]["verified"] is False
    assert rows["org/checked"]["verified"] is True
    html = (tmp_path / "index.html").read_text()
    assert html.count('class="badge unverified"') == 2 + 1  # org/plain in both tables, and the legend


def test_model_meta_is_validated(results_dir):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])
    meta = results_dir / "org__m" / "abc123" / "model_meta.json"
    meta.write_text(json.dumps({"name": "org/m", "metadata": {"url": "javascript:alert(1)"}}))
    assert any("model_meta.json" in p and "http(s)" in p for p in problems_of(results_dir))
    meta.write_text(json.dumps({"name": "org/m", "metadata": {"size_b": "huge"}}))
    assert any("metadata.size_b must be a positive number" in p for p in problems_of(results_dir))
    meta.write_text(json.dumps({"name": "org/m", "surprise": 1}))
    assert any("surprise" in p for p in problems_of(results_dir))
    meta.write_text(json.dumps({"name": "org/m", "metadata": {"size_b": 2.2}, "load_s": 1.5}))
    assert problems_of(results_dir) == []


def test_oversized_result_file_is_refused(results_dir, monkeypatch):
    import mmeb.leaderboard.load as load

    path = write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])[0]
    monkeypatch.setattr(load, "MAX_RESULT_BYTES", path.stat().st_size - 1)
    found = problems_of(results_dir)
    assert len(found) == 1 and "over the" in found[0] and "limit of a result file" in found[0]


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_is_refused_without_traceback(results_dir, depth, capsys):
    path = write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])[0]
    path.write_text("[" * depth + "]" * depth)
    found = problems_of(results_dir)
    assert len(found) == 1 and "nests JSON deeper than" in found[0]
    assert main(["validate", str(results_dir)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_dates_are_normalised_to_utc(results_dir):
    path = write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])[0]
    edit_json(path, date="2026-01-02T01:30:00+02:00")
    (_, r), = read_results(results_dir).task_results
    assert r.date.isoformat() == "2026-01-01T23:30:00+00:00"
    edit_json(path, date="2026-01-02T01:30:00")  # no zone: taken as UTC
    (_, r), = read_results(results_dir).task_results
    assert r.date.utcoffset().total_seconds() == 0 and r.date.hour == 1


def test_submission_cannot_mark_itself_published(results_dir, tmp_path):
    path = write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])[0]
    edit_json(path, published={"source": "trust me", "citation": "me"})
    assert any("marks itself `published`" in p for p in problems_of(results_dir))
    with pytest.raises(MMEBError, match="marks itself"):
        build_leaderboard(results_dir, tmp_path)


def test_submission_cannot_add_aggregate_only_rows(results_dir):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:1])
    (results_dir / "org__x").mkdir()
    (results_dir / "org__x" / "aggregates.json").write_text(json.dumps({
        "model": {"name": "org/x"}, "scores": {"overall": 0.99}, "published": {"source": "s", "citation": "c"}}))
    assert any("is an aggregate-only row" in p for p in problems_of(results_dir))


def test_export_refuses_non_http_urls_and_non_finite_numbers(results_dir):
    write_model(results_dir, "org/m", tasks=TASK_NAMES[:2])
    for url in ("javascript:alert(1)", "file:///etc/passwd", "ftp://x.org/m"):
        with pytest.raises(MMEBError, match="only http"):
            export_mmeb_leaderboard(results_dir, "org/m", url=url)
    with pytest.raises(MMEBError, match="non-finite"):
        export_mmeb_leaderboard(results_dir, "org/m", model_size=float("nan"))
    assert export_mmeb_leaderboard(results_dir, "org/m", url="https://example.org/m")["metadata"]["url"]


def test_predictions_must_be_self_consistent(results_dir):
    write_result(results_dir, make_result("ImageNet-1K", "org/m", 0.5, predictions=[(1, 1), (2, 1)]))
    path = results_dir / "org__m" / "abc123" / "ImageNet-1K.json"
    assert [p for p in problems_of(results_dir) if "n_queries" not in p] == []
    data = json.loads(path.read_text())
    data["predictions"][1]["top1"] = 0  # ranked first, yet another content scores above it
    path.write_text(json.dumps(data))
    assert any("prediction 1 is inconsistent: top1=0 contradicts rank=2" in p for p in problems_of(results_dir))
    data["predictions"][1] = {"top1": 3, "rank": 999, "tie_size": 5}  # ImageNet-1K has 1000 candidates
    path.write_text(json.dumps(data))
    assert any("do not fit 1000 candidates" in p for p in problems_of(results_dir))


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+cmd", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
                                  "evil\nname", "evil\r\nname", "evil\rname", "evil\u2028name"])
def test_csv_and_markdown_cells_are_inert(results_dir, tmp_path, name):
    write_model(results_dir, name, tasks=TASK_NAMES[:1])
    write_model(results_dir, "org/next", tasks=TASK_NAMES[:1])
    build_leaderboard(results_dir, tmp_path, published=False)
    text = (tmp_path / "leaderboard.csv").read_text()
    assert len(text.splitlines()) == 3  # header + two models: no line break survives in a cell
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    md = (tmp_path / "leaderboard.md").read_text()
    for line in md.splitlines():  # a table row that a line break split would leave a line not starting with |
        assert not line.startswith("name") and not line.endswith("evil")
        assert "|" not in line or (line.startswith("|") and line.endswith("|"))
        for cell in line.strip("|").split("|"):
            assert cell.strip()[:1] not in ("=", "+", "@") or cell.strip().startswith("\\")

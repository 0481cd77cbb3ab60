"""Build the leaderboard: read and validate a results tree (plus the shipped published rows), aggregate per
benchmark, write the outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mmeb.errors import MMEBError
from mmeb.leaderboard.aggregate import BenchmarkBoard, build_boards
from mmeb.leaderboard.catalog import task_catalog
from mmeb.leaderboard.render_data import render_csv, render_json
from mmeb.leaderboard.render_html import render_html
from mmeb.leaderboard.render_md import render_markdown
from mmeb.leaderboard.validate import load_valid


@dataclass
class Leaderboard:
    boards: list[BenchmarkBoard]
    files: list[Path]
    n_unofficial_hidden: int = 0  # unofficial results left out (shown with include_unofficial)
    notes: list[str] = field(default_factory=list)

    def board(self, benchmark: str) -> BenchmarkBoard:
        for b in self.boards:
            if b.benchmark.lower() == benchmark.lower():
                return b
        raise KeyError(f"no results for benchmark {benchmark!r} (have: {[b.benchmark for b in self.boards]})")


def _results_path(results_dir: str | Path | None) -> Path | None:
    """The user's results folder; a missing default folder just means "no runs yet"."""
    if results_dir is None:
        return None
    path = Path(results_dir)
    return path if path.exists() or str(results_dir) != "results" else None


def compute_leaderboard(results_dir: str | Path | None = "results", *, published: bool = True,
                        include_unofficial: bool = False) -> list[BenchmarkBoard]:
    """Validated, aggregated boards (MMEB-V1 first). Raises InvalidResultsError naming each bad file."""
    catalog = task_catalog()
    results = load_valid(_results_path(results_dir), published=published, include_unofficial=include_unofficial,
                         catalog=catalog)
    return build_boards(results, catalog)


def build_leaderboard(results_dir: str | Path | None = "results", output_dir: str | Path = "leaderboard", *,
                      published: bool = True, include_unofficial: bool = False) -> Leaderboard:
    """Write leaderboard.md/.csv/.json and index.html into ``output_dir``: the user's rows beside the shipped
    published rows (``published=False`` hides them). Output is a pure function of the results (no build
    timestamp), so rebuilding unchanged results changes no file."""
    catalog = task_catalog()
    results = load_valid(_results_path(results_dir), published=published, include_unofficial=include_unofficial,
                         catalog=catalog)
    boards = build_boards(results, catalog)
    out = Path(output_dir)
    contents = {
        "leaderboard.md": render_markdown(boards),
        "leaderboard.csv": render_csv(boards),
        "leaderboard.json": json.dumps(render_json(boards), indent=2, ensure_ascii=False) + "\n",
        "index.html": render_html(boards),
    }
    files = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = out / name
            path.write_text(text, encoding="utf-8")
            files.append(path)
    except OSError as exc:
        raise MMEBError(f"cannot write the leaderboard into {out}: {exc.strerror or exc}; pass --output-dir a "
                        "folder you can write") from exc
    return Leaderboard(boards, files, results.n_unofficial_hidden)

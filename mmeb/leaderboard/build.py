"""Build the leaderboard: read and validate a results tree, aggregate per benchmark, write the outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mmeb.leaderboard.aggregate import BenchmarkBoard, build_boards
from mmeb.leaderboard.render_data import render_csv, render_json
from mmeb.leaderboard.render_html import render_html
from mmeb.leaderboard.render_md import render_markdown
from mmeb.leaderboard.validate import load_valid, task_catalog

OUTPUT_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")


@dataclass
class Leaderboard:
    boards: list[BenchmarkBoard]
    files: list[Path]

    def board(self, benchmark: str) -> BenchmarkBoard:
        for b in self.boards:
            if b.benchmark.lower() == benchmark.lower():
                return b
        raise KeyError(f"no results for benchmark {benchmark!r} (have: {[b.benchmark for b in self.boards]})")


def compute_leaderboard(results_dir: str | Path = "results") -> list[BenchmarkBoard]:
    """Validated, aggregated boards (MMEB-V1 first). Raises InvalidResultsError naming each bad file."""
    results = load_valid(results_dir)
    return build_boards(results, task_catalog())


def build_leaderboard(results_dir: str | Path = "results", output_dir: str | Path = "leaderboard") -> Leaderboard:
    """Write leaderboard.md/.csv/.json and index.html into ``output_dir``. Output is a pure function of
    the results (no build timestamp), so rebuilding unchanged results changes no file."""
    catalog = task_catalog()
    boards = build_boards(load_valid(results_dir), catalog)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    contents = {
        "leaderboard.md": render_markdown(boards),
        "leaderboard.csv": render_csv(boards),
        "leaderboard.json": json.dumps(render_json(boards, catalog), indent=2, ensure_ascii=False) + "\n",
        "index.html": render_html(boards, catalog),
    }
    files = []
    for name, text in contents.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return Leaderboard(boards, files)

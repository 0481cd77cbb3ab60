"""The README's demo block is generated from the same cells as the terminal table of `mmeb demo`."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mmeb.demo.report import README_BEGIN, README_END, overview_cells, readme_block, readme_table, replace_block

ROOT = Path(__file__).parents[2]


def fake_board():
    group = lambda value: SimpleNamespace(value=value)  # noqa: E731
    rows = [SimpleNamespace(name="trained", groups={"overall": group(51.849), "IND": group(48.25), "OOD": group(None)}),
            SimpleNamespace(name="untrained", groups={"overall": group(13.2), "IND": group(0.05), "OOD": group(9.0)})]
    return SimpleNamespace(benchmark="synthetic", rows=rows,
                           task_groups={"overall": ["a", "b", "c"], "IND": ["a", "b"], "OOD": ["c"]})


def test_cells_are_percent_one_decimal_half_up_with_a_dash_when_missing():
    header, rows = overview_cells(fake_board())
    assert header == ["Model", "Overall (3)", "IND (2)", "OOD (1)"]
    assert rows == [["trained", "51.8", "48.3", "-"], ["untrained", "13.2", "0.1", "9.0"]]


def test_the_block_replaces_only_the_marked_section_and_reads_back():
    block = readme_block(board=fake_board(), seed=0, steps=400, n_ind=2, n_ood=1, ood_gain_points=29.84,
                         seconds={"1/5 data": 9.2, "3/5 train (400 steps)": 186.0, "total": 204.6},
                         rerun_seconds=4.4, machine="2 CPU cores")
    readme = f"# title\n\nbefore\n{README_BEGIN}\nold table\n{README_END}\nafter\n"
    new = replace_block(readme, block)
    assert new.startswith("# title\n\nbefore\n") and new.endswith("\nafter\n") and "old table" not in new
    assert readme_table(new) == overview_cells(fake_board())
    assert "+29.8 points" in new and "205 s (data 9 s, train (400 steps) 186 s)" in new and "rerun" in new
    with pytest.raises(ValueError, match="demo:begin"):
        replace_block("# no markers\n", block)


def test_the_readme_has_the_generated_block_and_no_ci_promise():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header, rows = readme_table(readme)
    assert header[0] == "Model" and header[1].startswith("Overall") and len(rows) == 3
    demo_section = readme.split("## The demo", 1)[1].split("\n## ", 1)[0]
    assert "CI" not in demo_section  # the terminal table shows no confidence intervals

"""`mmeb data synth` / `mmeb data models`, and the README's three commands from a fresh folder."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from mmeb.cli import main

ROOT = Path(__file__).parents[2]


def readme_newcomer_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own model on local data, in three commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.startswith("mmeb ")]


def test_the_readme_path_synth_run_leaderboard_works_in_a_fresh_folder(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    commands = readme_newcomer_commands()
    assert [c.split()[1] for c in commands] == ["data", "run", "leaderboard"]
    for command in commands:
        args = shlex.split(command)[1:]
        if args[0] == "run":
            args += ["--num-workers", "0", "--quiet"]
        assert main(args) == 0, command
    board = (tmp_path / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    row = next(line for line in board.splitlines() if "my-org/bag-of-words" in line)
    assert "unofficial" in row and "partial" not in row  # all 36 tasks, marked as not official
    assert len(list((tmp_path / "mmeb-data").glob("*/test-*.parquet"))) == 36


def test_synth_selects_tasks_and_is_reproducible(tmp_path, capsys):
    assert main(["data", "synth", "--out", str(tmp_path / "a"), "--tasks", "OOD", "--seed", "3", "--queries", "5"]) == 0
    assert main(["data", "synth", "--out", str(tmp_path / "b"), "--tasks", "OOD", "--seed", "3", "--queries", "5"]) == 0
    out = capsys.readouterr().out
    assert "wrote 16 MMEB-V1 task(s)" in out and "--data-dir" in out
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".parquet"]) == 16
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)

    from mmeb.tasks import get_task

    data = get_task("VizWiz").load(data_dir=str(tmp_path / "a"))
    assert len(data.rows) == 5


@pytest.mark.parametrize("args, message", [
    (["--benchmark", "MMEB-V9"], "unknown benchmark 'MMEB-V9'. Did you mean: MMEB-V"),
    (["--tasks", "NoSuchTask"], "unknown task 'NoSuchTask'"),
    (["--benchmark", "synthetic", "--tasks", "SynShapes"], "--tasks does not apply"),
    (["--queries", "0"], "--queries must be >= 1"),
])
def test_synth_bad_input_is_one_line(tmp_path, capsys, args, message):
    assert main(["data", "synth", "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_models_writes_loadable_random_weight_models(tmp_path, capsys):
    assert main(["data", "models", "--out", str(tmp_path / "models"), "--presets", "tiny-clip"]) == 0
    assert (tmp_path / "models" / "tiny-clip" / "config.json").is_file()
    assert main(["data", "synth", "--out", str(tmp_path / "data"), "--tasks", "MSCOCO_i2t", "--queries", "4"]) == 0
    assert main(["run", "--model", str(tmp_path / "models" / "tiny-clip"), "--data-dir", str(tmp_path / "data"),
                 "--tasks", "MSCOCO_i2t", "--output-dir", str(tmp_path / "results"), "--num-workers", "0",
                 "--quiet"]) == 0
    assert list((tmp_path / "results").rglob("MSCOCO_i2t.json"))
    assert main(["data", "models", "--out", str(tmp_path / "m2"), "--presets", "tiny-clipp"]) == 2
    assert "Did you mean: tiny-clip" in capsys.readouterr().err


def test_download_help_does_not_promise_a_pinned_revision(capsys):
    with pytest.raises(SystemExit):
        main(["download", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "pinned revision" not in help_text and "which is not pinned" in help_text


def test_synth_mmeb_v2_writes_what_mmeb_run_reads(tmp_path, capsys):
    out = tmp_path / "v2"
    assert main(["data", "synth", "--out", str(out), "--benchmark", "MMEB-V2", "--tasks", "ImageNet-1K", "MSR-VTT",
                 "--queries", "4"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 MMEB-V2 task(s)" in printed and "--tasks MMEB-V2:ImageNet-1K MMEB-V2:MSR-VTT" in printed
    assert main(["run", "--model", f"{ROOT / 'examples' / 'my_model.py'}:MyModel", "--data-dir", str(out),
                 "--tasks", "MMEB-V2:ImageNet-1K", "MMEB-V2:MSR-VTT", "--output-dir", str(tmp_path / "results"),
                 "--num-workers", "0", "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "ImageNet-1K" in summary and "MSR-VTT" in summary and "failed" not in summary


@pytest.mark.parametrize("args", [
    ["synth", "--tasks", "ImageNet-1K", "--queries", "2"],
    ["synth", "--benchmark", "MMEB-V2", "--tasks", "K700", "--queries", "2"],
    ["synth", "--benchmark", "synthetic"],
])
def test_an_out_that_is_a_file_is_one_line(tmp_path, capsys, args):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["data", args[0], "--out", str(blocker), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and str(blocker) in err, err

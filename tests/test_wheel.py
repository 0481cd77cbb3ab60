"""pip-installed, not cloned: the built wheel holds everything the commands need, and they work from an empty
folder with only the installed package (no clone, no editable install, no results/ of the repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _source_files() -> list[str]:
    """The files a fresh clone has (tracked, plus new files not ignored) - not build outputs or caches."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, install target): the wheel built from a copy of the source tree, installed with --target."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to list the source files")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for name in _source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source)],
                   check=True, capture_output=True, text=True)
    wheel = next((work / "dist").glob("mmeb-*.whl"))
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-compile", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    return wheel, target


def _mmeb(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MMEB_DATA_DIR")}
    env.update(PYTHONPATH=str(target), MMEB_CACHE_HOME=str(cwd / ".mmeb-cache"), COLUMNS="200")
    return subprocess.run([str(target / "bin" / "mmeb"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_the_wheel_holds_every_package_file(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f for f in _source_files() if f.startswith("mmeb/") and "__pycache__" not in f}
    missing = sorted(expected - names)
    assert not missing, f"{len(missing)} package file(s) not in the wheel (pyproject package-data?): {missing[:5]}"
    assert any(n.startswith("mmeb/leaderboard/published/rows/MMEB-V1/") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mmeb = mmeb.cli:main" in text and "synthetic = mmeb.demo.tasks:TASK_CLASSES" in text


@pytest.mark.slow
def test_commands_work_from_an_empty_folder_with_the_installed_wheel(installed, tmp_path):
    _, target = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([sys.executable, "-c", "import mmeb; print(mmeb.__file__)"], cwd=empty,
                           env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(target)), where.stdout  # the wheel, not the clone

    tasks = _mmeb(target, empty, "tasks")
    assert tasks.returncode == 0 and "ImageNet-1K" in tasks.stdout and "Visual7W-Pointing" in tasks.stdout
    demo_tasks = _mmeb(target, empty, "tasks", "synthetic:all")  # found through the wheel's entry point
    assert demo_tasks.returncode == 0 and "SynShapes" in demo_tasks.stdout, demo_tasks.stderr
    models = _mmeb(target, empty, "models")
    assert models.returncode == 0 and "vlm2vec" in models.stdout.lower(), models.stderr

    board = _mmeb(target, empty, "leaderboard")
    assert board.returncode == 0, board.stderr
    markdown = (empty / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert "published" in markdown and "VLM2Vec" in markdown  # the reference rows ship inside the package
    assert (empty / "leaderboard" / "index.html").is_file()
    assert sorted(p.name for p in empty.iterdir()) in (["leaderboard"], [".mmeb-cache", "leaderboard"])

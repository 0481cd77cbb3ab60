"""Progress for logs: plain lines at a steady interval when stdout is not a terminal, bars only in one."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmeb.errors import ConfigError
from mmeb.evaluation import progress as P

SLOW_MODEL = '''
import time
import numpy as np

class Model:
    name, revision = "slow-toy", "r1"

    def encode(self, inputs, **context):
        time.sleep(0.1)  # a slow model: several progress intervals per task
        return np.stack([np.frombuffer(x.raw_text.encode()[:8].ljust(8), dtype=np.uint8) for x in inputs]) + 1.0
'''
LINE = re.compile(r"^\[mmeb \d\d:\d\d:\d\d\] (?P<task>\S+) (?P<role>queries|candidates) (?P<done>\d+)/(?P<total>\d+) "
                  r"\d+% (?P<rate>[\d.]+) items/s ETA \d+:\d\d:\d\d$")


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_carries_task_role_done_total_rate_and_eta():
    assert P.progress_line("ImageNet-1K queries", 250, 1000, 10.0) == \
        "ImageNet-1K queries 250/1000 25% 25.0 items/s ETA 0:00:30"
    assert P.progress_line("ImageNet-1K queries", 0, 1000, 3.0) == "ImageNet-1K queries 0/1000 0%"
    assert P.format_duration(3725) == "1:02:05"
    assert (P.role_noun("query"), P.role_noun("candidate")) == ("queries", "candidates")


def test_ticks_report_running_bars_and_say_what_is_still_busy():
    clock, out = FakeClock(), io.StringIO()
    display = P.LineProgress(stream=out, interval=10, clock=clock)
    display.note("loading model big-model")
    clock.now += 40
    display.tick()
    bar = display.add_task("OK-VQA queries", total=200)
    clock.now += 10
    display.advance(bar, 50)
    display.tick()
    clock.now += 10
    display.advance(bar, 150)
    display.remove_task(bar)  # lived >= one interval: its end gets a line
    short = display.add_task("OK-VQA candidates", total=5)
    display.advance(short, 5)
    display.remove_task(short)  # ended within one interval: no line
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == ["loading model big-model", "still loading model big-model (0:00:40)",
                     "OK-VQA queries 50/200 25% 5.0 items/s ETA 0:00:30",
                     "OK-VQA queries 200/200 100% 10.0 items/s ETA 0:00:00 done"]


def test_mode_follows_the_terminal_and_the_environment(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv(P.MODE_ENV, raising=False)
    assert P.progress_mode(stream=Tty()) == "bars" and P.progress_mode(stream=io.StringIO()) == "lines"
    assert P.progress_mode(enabled=False, stream=Tty()) == "off"
    monkeypatch.setenv(P.MODE_ENV, "lines")
    assert P.progress_mode(stream=Tty()) == "lines"
    monkeypatch.setenv(P.MODE_ENV, "loud")
    with pytest.raises(ConfigError, match="MMEB_PROGRESS"):
        P.progress_mode()


def test_nested_displays_share_one_ticker(monkeypatch):
    monkeypatch.setenv(P.MODE_ENV, "lines")
    with P.make_progress(interval=60) as outer, P.make_progress() as inner:
        assert inner is outer and P.active_progress() is outer
    assert P.active_progress() is None


def _cli_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != P.MODE_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    env["MMEB_CACHE_HOME"] = str(tmp_path / "cache-home")
    return env


def test_run_with_stdout_to_a_pipe_prints_progress_lines_at_the_interval(tmp_path):
    from mmeb.testing.mirror import write_mirror

    mirror = write_mirror(tmp_path / "mirror", ["OK-VQA"], n_queries=12, seed=3)
    plugin = tmp_path / "slow.py"
    plugin.write_text(SLOW_MODEL)
    proc = subprocess.run(
        [sys.executable, "-m", "mmeb", "run", "--model", f"{plugin}:Model", "--tasks", "OK-VQA",
         "--data-dir", str(mirror), "--output-dir", str(tmp_path / "results"), "--batch-size", "2",
         "--num-workers", "0", "--progress-interval", "0.2"],
        capture_output=True, text=True, env=_cli_env(tmp_path), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [m for m in map(LINE.match, proc.stdout.splitlines()) if m]
    assert ("OK-VQA", "queries") in {(m["task"], m["role"]) for m in lines}
    assert all(0 < int(m["done"]) <= int(m["total"]) and float(m["rate"]) > 0 for m in lines if int(m["done"]))
    assert "querys" not in proc.stdout + proc.stderr
    assert re.search(r"OK-VQA: hit@1 [\d.]+% \(12 queries", proc.stdout)
    assert "\r" not in proc.stdout and "━" not in proc.stderr  # no bars outside a terminal



def test_quiet_prints_the_summary_and_no_progress(tmp_path, capsys, monkeypatch):
    from mmeb.cli import main
    from mmeb.testing.mirror import write_mirror

    monkeypatch.delenv(P.MODE_ENV, raising=False)
    mirror = write_mirror(tmp_path / "mirror", ["OK-VQA"], n_queries=6, seed=3)
    plugin = tmp_path / "slow.py"
    plugin.write_text(SLOW_MODEL)
    assert main(["run", "--model", f"{plugin}:Model", "--tasks", "OK-VQA", "--data-dir", str(mirror),
                 "--output-dir", str(tmp_path / "results"), "--num-workers", "0", "--progress-interval", "0.05",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[mmeb " not in out and "OK-VQA" in out  # the summary table is the result, not progress

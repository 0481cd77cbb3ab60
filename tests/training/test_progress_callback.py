"""Training progress in logs: the Trainer's tqdm bar and printed log dicts give way to plain lines."""

from __future__ import annotations

import io
from contextlib import ExitStack
from types import SimpleNamespace

from transformers.trainer_callback import PrinterCallback, ProgressCallback

from mmeb.evaluation.progress import MODE_ENV, LineProgress
from mmeb.training.progress import LineProgressCallback, attach_progress


class FakeClock:
    now = 0.0

    def __call__(self):
        return self.now


def test_steps_become_progress_lines_with_the_last_loss():
    clock, out = FakeClock(), io.StringIO()
    display = LineProgress(stream=out, interval=5, clock=clock)
    callback = LineProgressCallback(display)
    state = SimpleNamespace(is_world_process_zero=True, global_step=0, max_steps=400)
    callback.on_train_begin(None, state, None)
    for step in range(1, 101):
        state.global_step = step
        callback.on_step_end(None, state, None)
    callback.on_log(None, state, None, logs={"loss": 1.2345678})
    clock.now = 50.0
    display.tick()
    callback.on_train_end(None, state, None)
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == "train steps (loss 1.235) 100/400 25% 2.0 steps/s ETA 0:02:30"
    assert lines[-1] == "training done: 100 steps"


class FakeTrainer:
    def __init__(self):
        self.callbacks = [ProgressCallback]
        self.args = SimpleNamespace(max_steps=10)

    def remove_callback(self, cls):
        self.callbacks = [c for c in self.callbacks if c is not cls]

    def add_callback(self, callback):
        self.callbacks.append(callback)


def test_lines_replace_the_trainer_bar_outside_a_terminal_and_quiet_removes_both(monkeypatch):
    monkeypatch.setenv(MODE_ENV, "lines")
    trainer = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(trainer, stack, interval=60)
        assert [type(c).__name__ for c in trainer.callbacks] == ["_HubBarsStayOff", "LineProgressCallback"]
    quiet = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(quiet, stack, enabled=False)
    assert [type(c).__name__ for c in quiet.callbacks] == ["_HubBarsStayOff"]
    monkeypatch.setenv(MODE_ENV, "bars")
    terminal = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(terminal, stack)
    assert terminal.callbacks == [ProgressCallback] and PrinterCallback not in terminal.callbacks


def test_mmeb_train_in_a_log_prints_step_lines_not_bars_or_dicts(tiny_qwen2vl, train_layout, tmp_path):
    import json
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(dict(
        model=str(tiny_qwen2vl), train_data=str(train_layout), subsets=["VOC2007"], output_dir=str(tmp_path / "run"),
        global_batch_size=8, query_chunk_size=4, target_chunk_size=4, max_steps=3, save_steps=100, bf16=False,
        logging_steps=1, seed=0)))
    env = {k: v for k, v in os.environ.items() if k not in (MODE_ENV, "TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "mmeb", "train", "--config", str(config), "--progress-interval",
                           "0.2"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"^\[mmeb \d\d:\d\d:\d\d\] training 3 steps$", proc.stdout, re.M), proc.stdout
    assert "training done: 3 steps" in proc.stdout
    everything = proc.stdout + proc.stderr
    for noise in ("train_runtime", "it/s]", "%|", "Warning"):
        assert noise not in everything, everything

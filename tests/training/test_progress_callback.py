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

    def remove_callback(self, cls):
        self.callbacks = [c for c in self.callbacks if c is not cls]

    def add_callback(self, callback):
        self.callbacks.append(callback)


def test_lines_replace_the_trainer_bar_outside_a_terminal_and_quiet_removes_both(monkeypatch):
    monkeypatch.setenv(MODE_ENV, "lines")
    trainer = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(trainer, stack, interval=60)
        assert [type(c) for c in trainer.callbacks] == [LineProgressCallback]
    quiet = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(quiet, stack, enabled=False)
    assert quiet.callbacks == []
    monkeypatch.setenv(MODE_ENV, "bars")
    terminal = FakeTrainer()
    with ExitStack() as stack:
        attach_progress(terminal, stack)
    assert terminal.callbacks == [ProgressCallback] and PrinterCallback not in terminal.callbacks

"""Training progress for logs: outside a terminal the HF Trainer's tqdm bar and its printed log dicts give way
to mmeb's plain progress lines (step/total, steps/s, ETA, last loss) at the same steady interval as
``mmeb run`` (:mod:`mmeb.evaluation.progress`). In a terminal the Trainer's own bar stays."""

from __future__ import annotations

import os

from transformers import TrainerCallback


class LineProgressCallback(TrainerCallback):
    """Feeds the Trainer's steps into a :class:`~mmeb.evaluation.progress.LineProgress` display."""

    def __init__(self, display):
        self.display = display
        self.bar: int | None = None
        self.done = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.done = state.global_step  # resumed runs start part-way
            self.bar = self.display.add_task("train steps", total=state.max_steps, unit="steps")
            self.display.advance(self.bar, self.done)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.display.advance(self.bar, state.global_step - self.done)
            self.done = state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs and "loss" in logs:
            self.display.describe(self.bar, f"train steps (loss {float(logs['loss']):.4g})")

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.display.remove_task(self.bar)
            self.display.note(f"training done: {state.global_step} steps")
            self.bar = None


class _HubBarsStayOff(TrainerCallback):
    """The Trainer re-enables huggingface_hub's bars after loading (``suppress_progress_bars``); outside a
    terminal they stay off, or saving the final model prints a "Writing model shards" bar."""

    def on_train_begin(self, args, state, control, **kwargs):
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()

    on_train_end = on_train_begin


def attach_progress(trainer, stack, *, enabled: bool = True, interval: float | None = None) -> None:
    """Progress lines instead of tqdm when stdout is not a terminal; nothing when progress is off."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from mmeb.evaluation.progress import make_progress, progress_mode

    mode = progress_mode(enabled=enabled and int(os.environ.get("RANK", "0")) == 0)  # one process reports
    if mode == "bars":
        return
    trainer.remove_callback(ProgressCallback)  # its tqdm bar and the log dicts it prints
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_HubBarsStayOff())
    if mode == "lines":
        display = stack.enter_context(make_progress(interval=interval))
        display.note(f"training {trainer.args.max_steps} steps")
        trainer.add_callback(LineProgressCallback(display))

"""Progress for people and for log files.

In a terminal (stdout is a TTY): rich progress bars on stderr. Otherwise (a pipe, a file, a cluster job's log):
plain lines on stdout, one per running task every ``interval`` seconds (default 15, ``MMEB_PROGRESS_INTERVAL``
or ``--progress-interval``), a line when a task finishes, and a "still busy" line when a long step (loading a
model, reading data) shows no progress - so a log never goes silent for longer than the interval. A line reads::

    [mmeb 12:03:41] ImageNet-1K queries 320/1000 32% 45.1 items/s ETA 0:00:15

``MMEB_PROGRESS`` = ``auto`` (default) | ``bars`` | ``lines`` | ``off`` overrides the choice (``--quiet`` = off).
Both kinds share one interface (``add_task``, ``advance``, ``remove_task``, ``note``), so callers do not care.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TextIO

MODE_ENV = "MMEB_PROGRESS"
INTERVAL_ENV = "MMEB_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 15.0
MODES = ("auto", "bars", "lines", "off")
#: the noun of each encoding role as a person reads it ("3/10 queries")
ROLE_NOUNS = {"query": "queries", "candidate": "candidates"}


def role_noun(role: str) -> str:
    return ROLE_NOUNS.get(role, role + "s")


def progress_mode(enabled: bool = True, stream: TextIO | None = None) -> str:
    """``bars``, ``lines`` or ``off``: the environment's choice, else bars in a terminal and lines elsewhere."""
    if not enabled:
        return "off"
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        from mmeb.errors import ConfigError

        raise ConfigError(f"{MODE_ENV}={mode!r} is not one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    stream = stream or sys.stdout
    return "bars" if getattr(stream, "isatty", lambda: False)() else "lines"


def progress_interval(interval: float | None = None) -> float:
    """Seconds between progress lines: the argument, else ``MMEB_PROGRESS_INTERVAL``, else 15."""
    if interval is None:
        raw = os.environ.get(INTERVAL_ENV)
        try:
            interval = float(raw) if raw else DEFAULT_INTERVAL
        except ValueError:
            from mmeb.errors import ConfigError

            raise ConfigError(f"{INTERVAL_ENV}={raw!r} is not a number of seconds") from None
    if interval <= 0:
        from mmeb.errors import ConfigError

        raise ConfigError(f"the progress interval must be > 0 seconds, got {interval}")
    return interval


def format_duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def progress_line(description: str, done: int, total: int | None, elapsed: float, unit: str = "items") -> str:
    """``<description> done/total pct rate unit/s ETA h:mm:ss`` (rate and ETA once something is done)."""
    parts = [description, f"{done}/{total}" if total else str(done)]
    if total:
        parts.append(f"{100 * done / total:.0f}%")
    if done and elapsed > 0:
        rate = done / elapsed
        parts.append(f"{rate:.1f} {unit}/s")
        if total:
            parts.append(f"ETA {format_duration((total - done) / rate)}")
    return " ".join(parts)


@dataclass
class _Bar:
    description: str
    total: int | None
    started: float
    unit: str = "items"
    done: int = 0


class LineProgress:
    """Plain progress lines at a steady interval, written by a background thread (a slow batch or a long
    model load still gets its line on time)."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream or sys.stdout
        self.interval = progress_interval(interval)
        self.clock = clock
        self._bars: dict[int, _Bar] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._activity, self._activity_started = "working", clock()

    # -- the interface shared with the bars
    def add_task(self, description: str, total: int | None = None, unit: str = "items") -> int:
        with self._lock:
            self._next_id += 1
            self._bars[self._next_id] = _Bar(description, total, self.clock(), unit)
            return self._next_id

    def advance(self, task_id: int, amount: int = 1) -> None:
        with self._lock:
            self._bars[task_id].done += amount

    def remove_task(self, task_id: int) -> None:
        with self._lock:
            bar = self._bars.pop(task_id)
        elapsed = self.clock() - bar.started
        if elapsed >= self.interval:  # a short bar's end says nothing the next note does not
            self._write(progress_line(bar.description, bar.done, bar.total, elapsed, bar.unit) + " done")

    def describe(self, task_id: int, description: str) -> None:
        with self._lock:
            self._bars[task_id].description = description

    def note(self, message: str) -> None:
        """A one-off event (a task starts, a model loads); also what the "still busy" line names."""
        self._activity, self._activity_started = message, self.clock()
        self._write(message)

    # -- the ticker
    def tick(self) -> None:
        """Write the current state of every running bar, or a "still busy" line when none runs."""
        now = self.clock()
        with self._lock:
            lines = [progress_line(b.description, b.done, b.total, now - b.started, b.unit)
                     for b in self._bars.values()]
        if not lines:
            lines = [f"still {self._activity} ({format_duration(now - self._activity_started)})"]
        for line in lines:
            self._write(line)

    def _write(self, line: str) -> None:
        self.stream.write(f"[mmeb {time.strftime('%H:%M:%S')}] {line}\n")
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def __enter__(self) -> "LineProgress":
        self._thread = threading.Thread(target=self._run, name="mmeb-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class BarProgress:
    """Rich bars with items/s on stderr (transient: finished bars vanish, notes stay)."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  _items_per_second_column(), TimeElapsedColumn(), console=Console(stderr=True),
                                  transient=True)

    def add_task(self, description: str, total: int | None = None, unit: str = "items") -> int:
        return self._progress.add_task(description, total=total)

    def advance(self, task_id: int, amount: int = 1) -> None:
        self._progress.advance(task_id, amount)

    def remove_task(self, task_id: int) -> None:
        self._progress.remove_task(task_id)

    def note(self, message: str) -> None:
        from rich.markup import escape

        self._progress.console.print(f"[dim]{escape(message)}[/dim]", highlight=False)

    def __enter__(self) -> "BarProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)


def _items_per_second_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class ItemsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.1f} items/s", style="progress.data.speed")

    return ItemsPerSecond()


_active: list[LineProgress | BarProgress] = []  # the display in use: nested callers share it


def active_progress() -> LineProgress | BarProgress | None:
    return _active[-1] if _active else None


@contextmanager
def make_progress(enabled: bool = True, interval: float | None = None) -> Iterator[LineProgress | BarProgress | None]:
    """The progress display for this process (None when off: callers skip reporting). Inside another
    ``make_progress`` (the demo around its evaluations) the outer display is shared, so one ticker runs."""
    mode = progress_mode(enabled)
    if mode == "off":
        yield None
        return
    if _active:
        yield _active[-1]
        return
    with (BarProgress() if mode == "bars" else LineProgress(interval=interval)) as progress:
        _active.append(progress)
        try:
            yield progress
        finally:
            _active.remove(progress)


#: third-party warnings known to be harmless in mmeb's use (message regexes, matched at the start)
HARMLESS_WARNINGS = (
    r".*'pin_memory' argument is set as true but no accelerator is found",  # torch DataLoader on CPU
    r".*`resume_download` is deprecated",  # huggingface_hub
    r".*TypedStorage is deprecated",  # torch internals
    r".*Using a slow image processor as `use_fast` is unset",  # transformers processors
    r".*The `use_fast` parameter is deprecated",
    r".*`gradient_checkpointing` is deprecated and will be removed in v6",  # transformers' renames, same switch
    r".*`is_gradient_checkpointing` is deprecated and will be removed in v6",
)


def quiet_third_party(bars: bool | None = None) -> None:
    """No nested progress bars from HF datasets / transformers / hub (their bars are one per file or map call:
    noise around mmeb's own progress) and no known-harmless warnings. Outside a terminal (``bars`` False, by
    default decided as for mmeb's own progress) no tqdm bar at all: the Trainer's and sentence-transformers'
    bars become carriage-return noise in a log. Called by the CLI before heavy imports."""
    import warnings

    if not (progress_mode() == "bars" if bars is None else bars):
        os.environ.setdefault("TQDM_DISABLE", "1")

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' weight-loading bars follow it
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # else a fork warning per DataLoader worker
    for pattern in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)

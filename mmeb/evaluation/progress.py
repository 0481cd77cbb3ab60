"""Rich progress bars with items/s for encoding (on stderr; silent when disabled or on ranks > 0)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text


class _ItemsPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} items/s", style="progress.data.speed")


@contextmanager
def make_progress(enabled: bool = True) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _ItemsPerSecond(),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with progress:
        yield progress

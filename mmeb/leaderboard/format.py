"""Cell texts shared by the Markdown, CSV and HTML outputs, so all three say the same thing."""

from __future__ import annotations

from mmeb.leaderboard.aggregate import GroupScore, ModelRow, TaskScore
from mmeb.units import format_points

NOT_REPORTED = "—"


def pct(value: float) -> str:
    """A percent value as every output prints it (mmeb.units: one decimal, half up)."""
    return format_points(value)


def group_text(g: GroupScore) -> str:
    """"62.9", "partial (20/36)" for an incomplete model, "—" when nothing is there / not reported."""
    if g.value is not None:
        return pct(g.value)
    if g.partial:
        return f"partial ({g.n_done}/{g.n_total})"
    return NOT_REPORTED


def ci_text(ci: tuple[float, float] | None) -> str:
    return f"[{pct(ci[0])}, {pct(ci[1])}]" if ci else ""


def task_text(t: TaskScore | None) -> str:
    return pct(t.value) if t is not None else NOT_REPORTED


def size_text(row: ModelRow) -> str:
    return f"{row.size_b:.2g}B" if row.size_b else ""


def date_text(row: ModelRow) -> str:
    return row.date.date().isoformat() if row.date else ""


def source_text(row: ModelRow) -> str:
    """What kind of row this is, in words: users must never mistake a copied figure for our own run."""
    if row.kind == "run":
        return f"mmeb run, unofficial: {row.unofficial}" if row.unofficial else "mmeb run"
    label = "published, aggregates only" if row.kind == "aggregate-only" else "published"
    if row.published is not None and row.published.version:
        label += f" ({row.published.version})"
    return f"{label}: {row.published.source}" if row.published else label


def status_text(row: ModelRow) -> str:
    """The badge of a row: published / verified / unverified (scores not recomputed) / unofficial."""
    if row.unofficial:
        return "unofficial"
    if row.kind != "run":
        return "published"
    return "verified" if row.verified else "unverified"


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered; a submitted ``javascript:`` URL becomes plain text."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None

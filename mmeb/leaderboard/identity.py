"""What makes two task results belong to one leaderboard row: the same benchmark, model, revision, tie
rule, benchmark version (published rows) and scoring configuration. Results that differ in any of these
are separate rows, never averaged together."""

from __future__ import annotations

from mmeb.results.schema import TaskResult


def scoring_config(r: TaskResult) -> str | None:
    """The digest of the score-changing settings when the result records one (None: the defaults)."""
    key = getattr(r, "scoring_key", None)
    return None if key is None else str(getattr(key, "digest", key))


def row_identity(r: TaskResult) -> tuple:
    version = r.published.version if r.published is not None else None
    return (r.benchmark, r.model.name, r.model.revision or "", r.tie_rule, version, scoring_config(r))


def recomputable(r: TaskResult) -> bool:
    """Whether the stored predictions determine the scores (recomputed by ``mmeb validate``): one positive
    per query, ranked within the query's own list (every MMEB-V1-style task). Other rows stay unverified."""
    return bool(r.predictions) and r.main_metric == "hit@1" and r.benchmark != "MMEB-V2"

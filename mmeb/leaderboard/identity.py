"""What makes two task results belong to one leaderboard row: the same benchmark, model, revision, tie
rule, benchmark version (published rows) and scoring configuration. Results that differ in any of these
are separate rows, never averaged together."""

from __future__ import annotations

from mmeb.results.schema import TaskResult


def benchmark_of(r: TaskResult) -> str:
    """The benchmark of a result (files written before MMEB-V2 carry none: MMEB-V1)."""
    return getattr(r, "benchmark", None) or "MMEB-V1"


def scoring_config(r: TaskResult) -> str | None:
    """The digest of what the user chose (model settings and code, evaluation settings) when the result
    records a scoring key; None for published rows and results of older versions."""
    if getattr(r, "scoring_key", None) is None:
        return None
    from mmeb.results.key import result_configuration

    return result_configuration(r)


def benchmark_version(r: TaskResult) -> str | None:
    """The benchmark (data) version a result belongs to: a published row's version, or the data version a
    run recorded (MMEB-V2 v2.0.0 / v2.0.1 / v2.1 read different repos for some tasks)."""
    if r.published is not None:
        return r.published.version
    return getattr(r.dataset, "version", None)


def row_identity(r: TaskResult) -> tuple:
    version = benchmark_version(r)
    return (benchmark_of(r), r.model.name, r.model.revision or "", r.tie_rule, version, scoring_config(r))


def recomputable(r: TaskResult) -> bool:
    """Whether the stored predictions determine the scores (recomputed by ``mmeb validate``): one positive
    per query, ranked within the query's own list (every MMEB-V1-style task). Other rows stay unverified."""
    return bool(r.predictions) and r.main_metric == "hit@1" and benchmark_of(r) != "MMEB-V2"

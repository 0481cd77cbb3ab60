"""Ranking metrics with several positives and graded relevance, from per-positive counts.

For each query the ranking step reports, per positive j (grade g_j > 0): ``above_j`` = candidates scored
strictly higher and ``tied_j`` = candidates with exactly its score (itself included). That is enough for every
metric without sorting the corpus:

* tie rule ``fractional`` (default): exactly tied candidates are in random order, every metric is its
  expectation over that order (exact, no sampling). A positive in a tie group occupying 0-based positions
  ``above .. above + tied - 1`` is at each of them with probability ``1 / tied``;
* tie rule ``v1``: ties go to the positives (inside a tie group the positives come first, higher grades first).

Metrics (k in 1, 5, 10; the official names of VLM2Vec's ``RankingMetrics``):
``hit@k`` any positive in the top k; ``recall@k`` |top k ∩ positives| / |positives|; ``precision@k`` the same
over k; ``ndcg_linear@k`` DCG / IDCG with DCG = sum over the top k of ``gain / log2(position + 2)``, gain = the
grade (1 for binary tasks), IDCG = the DCG of the grades sorted in decreasing order (0 when IDCG is 0);
``mrr`` 1 / (1 + position of the first positive), ``mrr@k`` the same, 0 when it is not in the top k.

NDCG gain pairing (``ndcg``): ``correct`` (default) gives every document its own grade; ``official`` reproduces
the official scorer, which pairs the grades (in qrels order) with the label list after a round trip through a
Python ``set`` (``list(set(labels))``), so grades can land on the wrong documents where the two orders differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

KS = (1, 5, 10)
NdcgRule = Literal["correct", "official"]
NDCG_RULES = ("correct", "official")


@dataclass
class QueryCounts:
    """One query's positives: grade, candidates strictly above, candidates tied (itself included)."""

    grades: np.ndarray  # float [R]
    above: np.ndarray  # int [R]
    tied: np.ndarray  # int [R]


def official_gains(label_ids: Sequence, grades: Sequence[float]) -> list[float]:
    """The grade each label gets in the official scorer: position i of ``list(set(label_ids))`` receives the
    i-th grade in qrels order. Returned in ``label_ids`` order."""
    reordered = list(set(label_ids))
    gain_of = dict(zip(reordered, grades))
    return [gain_of[label] for label in label_ids]


def _discount(positions: np.ndarray) -> np.ndarray:
    return 1.0 / np.log2(positions + 2.0)


def _ideal_dcg(grades: np.ndarray, k: int) -> float:
    top = np.sort(grades)[::-1][:k]
    return float((top * _discount(np.arange(len(top)))).sum())


def _optimistic(counts: QueryCounts) -> QueryCounts:
    """Positions when ties go to the positives: inside each tie group, positives first by decreasing grade."""
    above = counts.above.copy()
    for start in np.unique(counts.above):
        members = np.flatnonzero(counts.above == start)
        order = members[np.argsort(-counts.grades[members], kind="stable")]
        above[order] = start + np.arange(len(order))
    return QueryCounts(counts.grades, above, np.ones_like(counts.tied))


def _share_in_top(above: np.ndarray, tied: np.ndarray, k: int) -> np.ndarray:
    """Probability that each positive lands in the top k (uniform over its tie group's positions)."""
    return np.clip(np.minimum(k, above + tied) - above, 0, None) / tied


def _expected_dcg(counts: QueryCounts, gains: np.ndarray, k: int) -> float:
    total = 0.0
    for gain, start, size in zip(gains, counts.above, counts.tied):
        stop = min(k, start + size)
        if stop > start:
            total += gain * _discount(np.arange(start, stop)).sum() / size
    return float(total)


def _hit(counts: QueryCounts, k: int) -> float:
    if np.any(counts.above + counts.tied <= k):
        return 1.0
    miss = 1.0
    for start in np.unique(counts.above[counts.above < k]):  # the tie group straddling position k
        size = int(counts.tied[counts.above == start][0])
        relevant = int((counts.above == start).sum())
        draws = k - int(start)  # positions of the group inside the top k
        for i in range(draws):
            miss *= max(0, size - relevant - i) / (size - i)
    return 1.0 - miss


def _mrr(counts: QueryCounts, k: int | None = None) -> float:
    """Expected 1 / (1 + position of the first positive); 0 past position k (``mrr@k``)."""
    start = int(counts.above.min())
    members = counts.above == start
    size, relevant = int(counts.tied[members][0]), int(members.sum())
    t = np.arange(size - relevant + 1)
    # P(first positive at offset t) = (relevant / (size - t)) * prod_{i < t} (size - relevant - i) / (size - i)
    none_before = np.concatenate([[1.0], np.cumprod((size - relevant - t[:-1]) / (size - t[:-1]))])
    reciprocal = 1.0 / (start + t + 1)
    if k is not None:
        reciprocal = np.where(start + t < k, reciprocal, 0.0)
    return float((none_before * relevant / (size - t) * reciprocal).sum())


def query_metrics(counts: QueryCounts, ties: str = "fractional", gains: np.ndarray | None = None) -> dict[str, float]:
    """Every metric of one query. ``gains`` overrides the NDCG gains (the official pairing); default the grades."""
    if counts.grades.size == 0:
        raise ValueError("a query needs at least one positive")
    if ties == "v1":
        counts = _optimistic(counts)
    gains = counts.grades if gains is None else np.asarray(gains, dtype=np.float64)
    n_pos = len(counts.grades)
    out: dict[str, float] = {}
    for k in KS:
        share = _share_in_top(counts.above, counts.tied, k).sum()
        ideal = _ideal_dcg(counts.grades, k)
        out[f"hit@{k}"] = _hit(counts, k)
        out[f"recall@{k}"] = float(share / n_pos)
        out[f"precision@{k}"] = float(share / k)
        out[f"ndcg_linear@{k}"] = _expected_dcg(counts, gains, k) / ideal if ideal > 0 else 0.0
        out[f"mrr@{k}"] = _mrr(counts, k)
    out["mrr"] = _mrr(counts)
    return {name: min(1.0, max(0.0, value)) for name, value in out.items()}


def metric_names() -> list[str]:
    return [f"{m}@{k}" for m in ("hit", "recall", "precision", "ndcg_linear", "mrr") for k in KS] + ["mrr"]


def mean_metrics(per_query: list[dict[str, float]]) -> dict[str, float]:
    names = metric_names()
    return {name: float(math.fsum(q[name] for q in per_query) / len(per_query)) if per_query else 0.0
            for name in names}

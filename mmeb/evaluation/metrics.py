"""Task metrics from per-query (rank, tie_size).

``rank`` is 1 + the number of distinct candidate contents scored strictly above the positive and
``tie_size`` the number of distinct contents (the positive included) sharing its score. Under the
"fractional" rule the positive's position is uniform over ``rank .. rank + tie_size - 1`` and every
metric is the expectation over that position: a positive tied with one other content scores
hit@1 = 1/2. Under "v1" (the official VLM2Vec scorer, ``argmax == 0``) every tie goes to the positive,
i.e. the position is ``rank``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mmeb.results.schema import Prediction, Scores, TieRule

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def per_query_metrics(ranks: np.ndarray, tie_sizes: np.ndarray, ties: TieRule) -> dict[str, np.ndarray]:
    """Per-query expected hit@1/5/10, NDCG@5 (linear gain, one relevant item) and reciprocal rank."""
    ranks = np.asarray(ranks, dtype=np.int64)
    tie_sizes = np.ones_like(ranks) if ties == "v1" else np.asarray(tie_sizes, dtype=np.int64)
    if ranks.size and (ranks.min() < 1 or tie_sizes.min() < 1):
        raise ValueError("ranks and tie sizes must be >= 1")
    n = len(ranks)
    hits = {k: np.zeros(n) for k in (1, 5, 10)}
    ndcg5 = np.zeros(n)
    rr = np.zeros(n)
    # Tie groups are small in practice; group queries by tie size to vectorise over positions.
    for t in np.unique(tie_sizes):
        rows = np.flatnonzero(tie_sizes == t)
        positions = ranks[rows, None] + np.arange(t)[None, :]  # [rows, t], each equally likely
        for k in hits:
            hits[k][rows] = (positions <= k).mean(axis=1)
        gain = np.where(positions <= 5, 1.0 / np.log2(positions + 1.0), 0.0)
        ndcg5[rows] = gain.mean(axis=1)
        rr[rows] = (1.0 / positions).mean(axis=1)
    return {"hit_at_1": hits[1], "hit_at_5": hits[5], "hit_at_10": hits[10], "ndcg_at_5": ndcg5, "mrr": rr}


def bootstrap_ci(values: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, resampling queries with replacement (seeded: reproducible)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // values.size)  # bound memory for big tasks
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1))


def compute_scores(predictions: Sequence[Prediction], ties: TieRule, *, resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> Scores:
    if resamples < 1:
        raise ValueError(f"bootstrap resamples must be >= 1, got {resamples}")
    ranks = np.array([p.rank for p in predictions], dtype=np.int64)
    tie_sizes = np.array([p.tie_size for p in predictions], dtype=np.int64)
    per_query = per_query_metrics(ranks, tie_sizes, ties)
    means = {name: float(values.mean()) if values.size else 0.0 for name, values in per_query.items()}
    if not all(np.isfinite(list(means.values()))):
        raise ValueError(f"non-finite metric values {means}")
    low, high = bootstrap_ci(per_query["hit_at_1"], resamples, seed)
    # float noise must not push a mean outside the schema's [0, 1]
    means = {name: min(1.0, max(0.0, value)) for name, value in means.items()}
    return Scores(**means, ci95_low=low, ci95_high=high, n_tied_queries=int((tie_sizes > 1).sum()))

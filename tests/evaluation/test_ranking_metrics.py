"""Ranking with content identity and honest ties; metrics as expectations over the tie group."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmeb.evaluation.metrics import bootstrap_ci, compute_scores, per_query_metrics
from mmeb.evaluation.ranking import rank_candidates
from mmeb.results.schema import Prediction


def _unit(*rows):
    m = torch.tensor(rows, dtype=torch.float32)
    return m / m.norm(dim=1, keepdim=True)


def test_content_identity_and_ties():
    queries = _unit([1.0, 0.1])
    # content ids: 0 = positive, 1 = a distinct content with the same vector, 2 = better, 3 = worse
    candidates = _unit([1.0, 0.0], [1.0, 0.0], [1.0, 0.1], [0.0, 1.0])
    out = rank_candidates(queries, candidates, [0, 0, 0, 0],
                          [[0, 3, 0], [0, 1, 3], [0, 2, 2, 1], [3, 0]])
    # copy of the positive: not a rival; identical distinct vector: tie of 2; a repeated better content counts once
    assert out.rank.tolist() == [1, 1, 2, 2]  # last row: the positive is the worse content 3
    assert out.tie_size.tolist() == [1, 2, 2, 1]
    assert out.top1.tolist() == [0, 0, 1, 1]  # first index among the highest scores


def test_chunking_does_not_change_outcomes():
    g = torch.Generator().manual_seed(0)
    queries, candidates = torch.randn(50, 8, generator=g), torch.randn(40, 8, generator=g)
    lists = [torch.randint(0, 40, (int(n),), generator=g).tolist() for n in torch.randint(1, 30, (50,), generator=g)]
    whole = rank_candidates(queries, candidates, list(range(50)), lists)
    chunked = rank_candidates(queries, candidates, list(range(50)), lists, chunk_bytes=1)  # one query per chunk
    for field in ("top1", "rank", "tie_size"):
        assert np.array_equal(getattr(whole, field), getattr(chunked, field))


def test_metrics_are_expectations_over_the_tie_group():
    m = per_query_metrics(np.array([1, 1, 6, 4]), np.array([1, 2, 1, 3]), "fractional")
    assert m["hit_at_1"].tolist() == [1.0, 0.5, 0.0, 0.0]
    assert m["hit_at_5"].tolist() == [1.0, 1.0, 0.0, pytest.approx(2 / 3)]  # positions 4, 5, 6
    assert m["hit_at_10"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert m["mrr"][1] == pytest.approx((1 + 1 / 2) / 2)
    assert m["ndcg_at_5"][1] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert m["ndcg_at_5"][3] == pytest.approx((1 / math.log2(5) + 1 / math.log2(6)) / 3)
    v1 = per_query_metrics(np.array([1, 1, 6]), np.array([1, 2, 1]), "v1")
    assert v1["hit_at_1"].tolist() == [1.0, 1.0, 0.0]  # ties go to the positive


def test_scores_and_seeded_bootstrap():
    predictions = [Prediction(top1=0, rank=1, tie_size=1)] * 30 + [Prediction(top1=2, rank=3, tie_size=1)] * 10
    scores = compute_scores(predictions, "fractional")
    assert scores.hit_at_1 == 0.75 and scores.n_tied_queries == 0
    assert scores.ci95_low < 0.75 < scores.ci95_high
    assert bootstrap_ci(np.r_[np.ones(30), np.zeros(10)], seed=0) == (scores.ci95_low, scores.ci95_high)
    assert bootstrap_ci(np.r_[np.ones(30), np.zeros(10)], seed=1) != (scores.ci95_low, scores.ci95_high)

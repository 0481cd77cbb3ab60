"""Pool / corpus ranking and the multi-positive, graded metrics against brute force from the definitions:
every tie order enumerated (fractional = the mean over them; v1 = positives first inside ties)."""

import itertools
import math
import random

import numpy as np
import pytest
import torch

from mmeb.evaluation import graded
from mmeb.evaluation.corpus import rank_pool


def _metrics_of_ranking(order, grades, gains):
    """The definitions, for one complete ranking (list of candidate ids)."""
    out = {}
    ideal_sorted = sorted(grades.values(), reverse=True)
    for k in (1, 5, 10):
        top = order[:k]
        hits = [c for c in top if c in grades]
        out[f"hit@{k}"] = 1.0 if hits else 0.0
        out[f"recall@{k}"] = len(hits) / len(grades)
        out[f"precision@{k}"] = len(hits) / k
        dcg = sum(gains.get(c, 0.0) / math.log2(i + 2) for i, c in enumerate(top))
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_sorted[:k]))
        out[f"ndcg_linear@{k}"] = dcg / idcg if idcg > 0 else 0.0
    first = next(i for i, c in enumerate(order) if c in grades)
    out["mrr"] = 1.0 / (first + 1)
    for k in (1, 5, 10):
        out[f"mrr@{k}"] = 1.0 / (first + 1) if first < k else 0.0
    return out


def _brute_force(scores, grades, ties, gains=None):
    gains = gains or grades
    levels = sorted(set(scores.values()), reverse=True)
    groups = [[c for c in scores if scores[c] == s] for s in levels]
    if ties == "v1":
        orders = [[c for g in groups for c in sorted(g, key=lambda c: (c not in grades, -grades.get(c, 0)))]]
    else:
        orders = [[c for part in combo for c in part]
                  for combo in itertools.product(*[list(itertools.permutations(g)) for g in groups])]
    per = [_metrics_of_ranking(o, grades, gains) for o in orders]
    return {name: sum(p[name] for p in per) / len(per) for name in per[0]}


def _engine(scores_by_query, relevance, candidates, ties, chunk_bytes=1 << 28):
    """rank_pool with 1-d embeddings: query 1.0, candidate = its score (so dot = score)."""
    n_pool = max(max(s) for s in scores_by_query) + 1
    out = []
    for scores, rel, cands in zip(scores_by_query, relevance, candidates):
        pool = torch.zeros((n_pool, 1))
        for c, s in scores.items():
            pool[c, 0] = s
        ranking = rank_pool(torch.ones((1, 1)), pool, [0], [rel], [cands], chunk_bytes=chunk_bytes)
        out.append(graded.query_metrics(ranking.counts[0], ties))
    return out


@pytest.mark.parametrize("ties", ["fractional", "v1"])
@pytest.mark.parametrize("seed", range(12))
def test_local_lists_match_brute_force(ties, seed):
    rng = random.Random(seed)
    n = rng.randint(2, 7)
    ids = rng.sample(range(20), n)
    scores = {c: float(rng.choice([0.0, 0.5, 1.0, 1.5])) for c in ids}  # many ties
    positives = rng.sample(ids, rng.randint(1, min(3, n)))
    grades = {c: float(rng.choice([1, 2, 3])) for c in positives}
    got = _engine([scores], [grades], [ids], ties)[0]
    want = _brute_force(scores, grades, ties)
    for name in want:
        assert got[name] == pytest.approx(want[name], abs=1e-9), name


@pytest.mark.parametrize("ties", ["fractional", "v1"])
def test_global_pool_matches_brute_force_in_small_chunks(ties):
    rng = np.random.default_rng(0)
    n_pool, n_queries, dim = 9, 7, 3
    pool = torch.from_numpy(rng.integers(-2, 3, (n_pool, dim)).astype(np.float32))  # integer dots: ties
    queries = torch.from_numpy(rng.integers(-2, 3, (n_queries, dim)).astype(np.float32))
    relevance = [{int(c): float(rng.integers(1, 4)) for c in rng.choice(n_pool, rng.integers(1, 4), replace=False)}
                 for _ in range(n_queries)]
    ranking = rank_pool(queries, pool, list(range(n_queries)), relevance, [None] * n_queries, chunk_bytes=64)
    scores_all = (queries @ pool.T).numpy()
    for q in range(n_queries):
        scores = {c: float(scores_all[q, c]) for c in range(n_pool)}
        want = _brute_force(scores, relevance[q], ties)
        got = graded.query_metrics(ranking.counts[q], ties)
        for name in want:
            assert got[name] == pytest.approx(want[name], abs=1e-9), (q, name)
        assert scores[int(ranking.top1[q])] == max(scores.values())


def test_binary_ndcg_counts_min_of_positives_and_k():
    # two positives at ranks 1 and 3 of 4: DCG = 1 + 1/2, IDCG@5 = 1 + 1/log2(3)
    scores = {0: 4.0, 1: 3.0, 2: 2.0, 3: 1.0}
    got = _engine([scores], [{0: 1.0, 2: 1.0}], [[0, 1, 2, 3]], "fractional")[0]
    assert got["ndcg_linear@5"] == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert got["ndcg_linear@1"] == 1.0 and got["hit@1"] == 1.0 and got["recall@1"] == 0.5


def test_official_gain_pairing_differs_only_where_set_order_differs():
    # CPython iterates a small int set in order of id mod 8: {1030, 1020} -> 1020 (mod 4) before 1030 (mod 6)
    assert graded.official_gains([1030, 1020], [3.0, 1.0]) == [1.0, 3.0]
    assert graded.official_gains([1020, 1030], [3.0, 1.0]) == [3.0, 1.0]  # already in set order
    counts = graded.QueryCounts(grades=np.array([3.0, 1.0]), above=np.array([0, 1]), tied=np.array([1, 1]))
    correct = graded.query_metrics(counts, "fractional")
    official = graded.query_metrics(counts, "fractional", gains=graded.official_gains([1030, 1020], [3.0, 1.0]))
    assert correct["ndcg_linear@1"] == 1.0
    assert official["ndcg_linear@1"] == pytest.approx(1 / 3)  # the top document got the other's grade
    assert official["hit@1"] == correct["hit@1"] and official["recall@5"] == correct["recall@5"]


def test_non_finite_scores_fail_clearly():
    from mmeb.errors import ModelOutputError

    pool = torch.tensor([[1.0], [float("nan")]])
    with pytest.raises(ModelOutputError, match="task T: similarity scores are NaN"):
        rank_pool(torch.ones((1, 1)), pool, [0], [{0: 1.0}], [None], task_name="T")

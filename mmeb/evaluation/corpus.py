"""Rank and score an MMEB-V2 task (a deduplicated candidate pool; queries ranking their own list or the whole
pool / corpus; several positives with grades) in bounded memory.

Each unique query and each pool entry is encoded once. Scores are computed in fp32 in chunks of queries whose
score block stays under ``chunk_bytes`` (a corpus of tens of thousands of pages never needs a full query x
corpus matrix); per chunk the scores are sorted once and each positive's rank counts (strictly above, tied) are
read with ``searchsorted``. Metrics come from those counts (:mod:`mmeb.evaluation.graded`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import torch

from mmeb.errors import MMEBError, ModelOutputError
from mmeb.evaluation import graded
from mmeb.evaluation.metrics import bootstrap_ci
from mmeb.evaluation.ranking import _full_fp32_matmul, normalise_rows

DEFAULT_CHUNK_BYTES = 256 * 2**20


@dataclass
class PoolRanking:
    counts: list[graded.QueryCounts]
    top1: np.ndarray  # pool index ranked first per query (first index among exact ties)


def _query_chunk(n_queries: int, width: int, dim: int, chunk_bytes: int) -> int:
    # the block: scores [B, width] + sorted copy + gathered candidates [B, width, dim] for local lists
    per_query = width * 4 * 3 + width * dim * 4
    return max(1, min(n_queries, chunk_bytes // max(1, per_query)))


@torch.inference_mode()
def rank_pool(query_emb: torch.Tensor, pool_emb: torch.Tensor, query_ids: list[int],
              relevance: list[dict[int, float]], candidates: list[list[int] | None], *,
              device: str | torch.device = "cpu", chunk_bytes: int = DEFAULT_CHUNK_BYTES,
              task_name: str = "") -> PoolRanking:
    """Rank ``query_emb[query_ids[i]]`` against the pool (``candidates[i] is None``) or against
    ``pool_emb[candidates[i]]``; return each positive's counts. Embeddings are used as given."""
    device = torch.device(device)
    queries = query_emb.to(device=device, dtype=torch.float32)
    pool = pool_emb.to(device=device, dtype=torch.float32)
    n = len(query_ids)
    counts: list[graded.QueryCounts | None] = [None] * n
    top1 = np.empty(n, dtype=np.int64)
    global_rows = [i for i in range(n) if candidates[i] is None]
    local_rows = [i for i in range(n) if candidates[i] is not None]
    with _full_fp32_matmul():
        if global_rows:
            step = _query_chunk(len(global_rows), pool.shape[0], 0, chunk_bytes)
            for s in range(0, len(global_rows), step):
                rows = global_rows[s:s + step]
                q = queries[torch.as_tensor([query_ids[i] for i in rows], device=device)]
                scores = q @ pool.T  # [B, N]
                ids = torch.arange(pool.shape[0], device=device).expand(len(rows), -1)
                _count(scores, ids, rows, relevance, counts, top1, task_name)
        if local_rows:
            width = max(len(candidates[i]) for i in local_rows)
            step = _query_chunk(len(local_rows), width, pool.shape[1], chunk_bytes)
            for s in range(0, len(local_rows), step):
                rows = local_rows[s:s + step]
                ids = torch.full((len(rows), width), -1, dtype=torch.long)
                for r, i in enumerate(rows):
                    ids[r, : len(candidates[i])] = torch.as_tensor(candidates[i])
                ids = ids.to(device)
                valid = ids >= 0
                q = queries[torch.as_tensor([query_ids[i] for i in rows], device=device)]
                block = pool[ids.clamp(min=0)]  # [B, C, D]
                scores = torch.bmm(block, q.unsqueeze(2)).squeeze(2).masked_fill(~valid, float("-inf"))
                _count(scores, ids, rows, relevance, counts, top1, task_name, valid=valid)
    return PoolRanking(counts=counts, top1=top1)


def _count(scores: torch.Tensor, ids: torch.Tensor, rows: list[int], relevance: list[dict[int, float]],
           counts: list, top1: np.ndarray, task_name: str, valid: torch.Tensor | None = None) -> None:
    finite = torch.isfinite(scores) if valid is None else torch.isfinite(scores) | ~valid
    if not bool(finite.all()):
        raise ModelOutputError(f"task {task_name}: similarity scores are NaN or infinite (the embeddings overflow "
                               "in fp32); scale the model's outputs down or use --similarity cosine")
    best = scores.argmax(dim=1)
    top1[rows] = ids.gather(1, best.unsqueeze(1)).squeeze(1).cpu().numpy()
    ordered = scores.sort(dim=1).values  # ascending; padding (-inf) first
    width = scores.shape[1]
    # positive scores [B, R] (padded with the first positive; the padding is dropped below)
    r_max = max(len(relevance[i]) for i in rows)
    column = torch.zeros((len(rows), r_max), dtype=torch.long)
    position = {}
    for r, i in enumerate(rows):
        pids = list(relevance[i])
        lookup = ids[r].tolist() if valid is not None else None
        if lookup is not None:
            where = {pid: c for c, pid in enumerate(lookup) if pid >= 0}
            cols = [where[p] for p in pids]
        else:
            cols = pids
        column[r, : len(cols)] = torch.as_tensor(cols)
        column[r, len(cols):] = cols[0]
        position[i] = len(cols)
    positive = scores.gather(1, column.to(scores.device))
    right = torch.searchsorted(ordered, positive, right=True)
    left = torch.searchsorted(ordered, positive, right=False)
    above = (width - right).cpu().numpy()
    tied = (right - left).cpu().numpy()
    for r, i in enumerate(rows):
        m = position[i]
        counts[i] = graded.QueryCounts(grades=np.asarray(list(relevance[i].values()), dtype=np.float64),
                                       above=above[r, :m].astype(np.int64), tied=tied[r, :m].astype(np.int64))


def score_queries(ranking: PoolRanking, data, ties: str, ndcg: str) -> list[dict[str, float]]:
    """Per-query metrics; ``ndcg="official"`` pairs the grades the way the official scorer does."""
    out = []
    for query, counts in zip(data.queries, ranking.counts):
        gains = None
        if ndcg == "official" and query.label_ids and len(query.label_ids) == len(query.relevance):
            gains = graded.official_gains(list(query.label_ids), list(query.relevance.values()))
        out.append(graded.query_metrics(counts, ties, gains))
    return out


@dataclass
class LoadedPoolTask:
    """A loaded pool task with its two roles submitted to the encoder (unique queries, the pool)."""

    data: Any
    queries: list
    query_ids: list[int]
    jobs: tuple


def submit_pool_task(task: Any, data, encoder, limit: int | None) -> LoadedPoolTask:
    queries = data.queries[:limit] if limit else data.queries
    if not queries:
        raise MMEBError(f"task {task.name}: no queries in {data.source}")
    unique: dict = {}
    query_ids = [unique.setdefault(q.query.key, len(unique)) for q in queries]
    query_items = [None] * len(unique)
    for q, qid in zip(queries, query_ids):
        query_items[qid] = q.query
    jobs = (encoder.submit(query_items, data.images, task_name=task.name, role="query", group=data),
            encoder.submit(data.pool, data.images, task_name=task.name, role="candidate", group=data))
    return LoadedPoolTask(data, queries, query_ids, jobs)


def evaluate_pool_task(task: Any, loaded: LoadedPoolTask, encoder, info, settings, device: torch.device,
                       t0: float, *, harness, device_name: str):
    """The engine's path for :class:`~mmeb.data.v2.items.PoolTaskData` tasks: returns a TaskResult
    (``harness`` and ``device_name`` as the engine records them)."""
    from mmeb.evaluation import distributed
    from mmeb.results.schema import DatasetInfo, EvaluationInfo, Prediction, Scores, TaskResult, Timings

    name, meta = task.name, task.metadata
    data, queries, query_ids = loaded.data, loaded.queries, loaded.query_ids
    t1 = time.perf_counter()
    try:
        query_emb = encoder.result(loaded.jobs[0]).matrix
        pool_emb = encoder.result(loaded.jobs[1]).matrix
    finally:
        for job in loaded.jobs:
            encoder.discard(job)
    if query_emb.shape[1] != pool_emb.shape[1]:
        raise ModelOutputError(f"task {name}: query embeddings have dim {query_emb.shape[1]} but candidate "
                               f"embeddings have dim {pool_emb.shape[1]}; both roles must share one space")
    if settings.similarity == "cosine":
        query_emb, pool_emb = normalise_rows(query_emb), normalise_rows(pool_emb)  # cannot overflow
    t2 = time.perf_counter()
    ranking = rank_pool(query_emb, pool_emb, query_ids, [q.relevance for q in queries],
                        [q.candidates for q in queries], device=device, task_name=name)
    per_query = score_queries(ranking, _Limited(queries), settings.ties, settings.ndcg)
    means = graded.mean_metrics(per_query)
    main = meta.main_metric
    low, high = bootstrap_ci(np.array([q[main] for q in per_query]), settings.bootstrap_resamples,
                             settings.bootstrap_seed)
    n_tied = sum(int((c.tied > 1).any()) for c in ranking.counts)
    scores = Scores(hit_at_1=means["hit@1"], hit_at_5=means["hit@5"], hit_at_10=means["hit@10"],
                    ndcg_at_5=means["ndcg_linear@5"], mrr=means["mrr"], ci95_low=low, ci95_high=high,
                    n_tied_queries=n_tied, metrics=means)
    predictions = None
    if settings.save_predictions:
        predictions = []
        for counts, best in zip(ranking.counts, ranking.top1):
            first = int(np.argmin(counts.above))
            predictions.append(Prediction(top1=int(best), rank=int(counts.above[first]) + 1,
                                          tie_size=int(counts.tied[first])))
    t3 = time.perf_counter()
    return TaskResult(
        task_name=name, benchmark=meta.benchmark, modality=meta.modality, group=meta.group,
        meta_task=meta.meta_task, split=meta.split, main_metric=main, main_score=means[main],
        n_queries=len(queries), scores=scores, tie_rule=settings.ties,
        dataset=DatasetInfo(id=data.dataset_id, revision=data.revision, subset=_subset(meta),
                            source=data.source, version=data.data_version),
        model=info, harness=harness, device=device_name,
        timings=Timings(load_s=t1 - t0, encode_s=t2 - t1, rank_s=t3 - t2, total_s=t3 - t0),
        evaluation=EvaluationInfo(similarity=settings.similarity, limit=settings.limit,
                                  bootstrap_resamples=settings.bootstrap_resamples,
                                  bootstrap_seed=settings.bootstrap_seed, batch_size=settings.batch_size,
                                  world_size=distributed.world_size(), ndcg=settings.ndcg),
        date=datetime.now(timezone.utc), predictions=predictions)


def _subset(meta) -> str:
    """The config(s) read, as ``load_dataset`` names them ("default" for the unnamed one)."""
    from mmeb.data.v2.layout import configs_of

    return ",".join(c or "default" for c in configs_of(meta))


class _Limited:
    def __init__(self, queries):
        self.queries = queries

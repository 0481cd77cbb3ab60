"""Rank each query's own candidate list on the device, in fp32, in bounded-memory chunks of queries.

Identity of a candidate is its content (``Item.key``: text and image), so callers pass candidate
*content ids*: copies of the positive's content are the positive (never counted against it), and
repeated distinct contents count once. The outcome per query is enough to recompute every metric:
``top1`` (first index with the highest score), ``rank`` (1 + distinct contents strictly above the
positive) and ``tie_size`` (distinct contents, positive included, with exactly the positive's score).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from mmeb.errors import ModelOutputError

#: upper bound on the gathered candidate block [chunk, max_candidates, dim] in bytes
DEFAULT_CHUNK_BYTES = 256 * 2**20


@dataclass
class RankingOutcome:
    top1: np.ndarray  # [n_queries] int64
    rank: np.ndarray  # [n_queries] int64 (>= 1)
    tie_size: np.ndarray  # [n_queries] int64 (>= 1)


def candidate_masks(candidate_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad the per-query lists: ids [Q, C] (0-padded), valid [Q, C], and ``rival``: the first occurrence of
    each distinct content other than the positive's - the only entries that can outrank or tie it."""
    n_rows = len(candidate_ids)
    width = max((len(ids) for ids in candidate_ids), default=0)
    ids = np.zeros((n_rows, width), dtype=np.int64)
    valid = np.zeros((n_rows, width), dtype=bool)
    rival = np.zeros((n_rows, width), dtype=bool)
    for row, row_ids in enumerate(candidate_ids):
        ids[row, : len(row_ids)] = row_ids
        valid[row, : len(row_ids)] = True
        seen = {row_ids[0]}
        for col, content in enumerate(row_ids):
            if content not in seen:
                seen.add(content)
                rival[row, col] = True
    return ids, valid, rival


def normalise_rows(emb: torch.Tensor) -> torch.Tensor:
    """Unit-length rows in float32, for any finite input: each row is first divided by its largest absolute
    entry, so the norm cannot overflow (entries of 1e20 would square to inf and turn every score into 0) or
    underflow. All-zero rows stay zero."""
    emb = emb.to(torch.float32)
    scale = emb.abs().amax(dim=1, keepdim=True)
    scaled = emb / torch.where(scale > 0, scale, torch.ones_like(scale))
    norm = scaled.norm(dim=1, keepdim=True)
    return scaled / torch.where(norm > 0, norm, torch.ones_like(norm))


@contextmanager
def _full_fp32_matmul():
    """TF32 or bf16 matmul shortcuts would blur scores and invent or hide ties."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


@torch.inference_mode()
def rank_candidates(query_emb: torch.Tensor, candidate_emb: torch.Tensor, query_ids: list[int],
                    candidate_ids: list[list[int]], *, device: str | torch.device = "cpu",
                    chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> RankingOutcome:
    """Score ``query_emb[query_ids[i]]`` against ``candidate_emb[candidate_ids[i]]`` for every query i.

    Candidate 0 of each list is the positive. Embeddings are used as given (normalise before for cosine).
    """
    if len(query_ids) != len(candidate_ids):
        raise ValueError(f"{len(query_ids)} query ids for {len(candidate_ids)} candidate lists")
    if any(len(ids) == 0 for ids in candidate_ids):
        raise ValueError("every query needs at least one candidate (the positive)")
    device = torch.device(device)
    ids, valid, rival = candidate_masks(candidate_ids)
    n_rows, width = ids.shape
    dim = query_emb.shape[1]
    chunk = max(1, chunk_bytes // max(1, width * dim * 4))

    queries = query_emb.to(device=device, dtype=torch.float32)
    candidates = candidate_emb.to(device=device, dtype=torch.float32)
    qids = torch.as_tensor(np.asarray(query_ids, dtype=np.int64))
    top1, rank, tie = (np.empty(n_rows, dtype=np.int64) for _ in range(3))
    with _full_fp32_matmul():
        for start in range(0, n_rows, chunk):
            stop = min(n_rows, start + chunk)
            block_ids = torch.from_numpy(ids[start:stop]).to(device)
            block_valid = torch.from_numpy(valid[start:stop]).to(device)
            block_rival = torch.from_numpy(rival[start:stop]).to(device)
            q = queries[qids[start:stop].to(device)]  # [B, D]
            c = candidates[block_ids]  # [B, C, D]
            scores = torch.bmm(c, q.unsqueeze(2)).squeeze(2)  # [B, C]
            finite = torch.isfinite(scores) | ~block_valid
            if not bool(finite.all()):  # inf == inf would count as a tie and nan as nothing: refuse both
                row = start + int((~finite).any(dim=1).nonzero()[0, 0])
                raise ModelOutputError(
                    f"similarity scores are not finite (inf or nan), first at query row {row}: the embeddings "
                    "overflow float32 under this similarity; normalise them in the model or use cosine")
            positive = scores[:, :1]
            top1[start:stop] = scores.masked_fill(~block_valid, float("-inf")).argmax(dim=1).cpu().numpy()
            rank[start:stop] = (1 + ((scores > positive) & block_rival).sum(dim=1)).cpu().numpy()
            tie[start:stop] = (1 + ((scores == positive) & block_rival).sum(dim=1)).cpu().numpy()
    return RankingOutcome(top1=top1, rank=rank, tie_size=tie)

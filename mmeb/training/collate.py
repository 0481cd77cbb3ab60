"""The training collator: turns dataset rows (indices into TrainData.pairs) into one batch of raw
inputs per column - query, positive[, negative]. It reads image *bytes* (cheap I/O, in DataLoader
workers) but decodes nothing and runs no processor: that happens per GradCache chunk in the encoder,
which may keep each processed chunk in host memory between the two GradCache passes of the step, up to
``chunk_cache_gib`` per batch (one budget shared by the batch's columns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmeb.training.data import TrainData, TrainPair
from mmeb.training.encoder import DEFAULT_CHUNK_CACHE_GIB, ByteBudget, ChunkMemo, RawInput, raw_features

COLUMNS = ("query", "positive", "negative")  # column order = what the loss treats as anchor / positive / negative


@dataclass
class VLM2VecCollator:
    data: TrainData
    hard_negatives: bool = False
    chunk_cache_gib: float = DEFAULT_CHUNK_CACHE_GIB  # TrainConfig.chunk_cache_gib
    valid_label_columns: list[str] = field(default_factory=list)  # the ST batch sampler asks; there are none

    def _raw(self, pair: TrainPair, text: str, image: str) -> RawInput:
        return RawInput(text, self.data.read_image(pair.subset, image) if image else None)

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        pairs = [self.data.pairs[row["pair"]] for row in rows]
        columns = {
            "query": [self._raw(p, p.qry, p.qry_image) for p in pairs],
            "positive": [self._raw(p, p.pos_text, p.pos_image) for p in pairs],
        }
        if self.hard_negatives:
            # a row without a hard negative gets None: an all-zero embedding the loss masks out (-inf)
            columns["negative"] = [self._raw(p, p.neg_text, p.neg_image) if p.has_negative else None for p in pairs]
        budget = ByteBudget(int(self.chunk_cache_gib * 2**30))
        batch: dict[str, Any] = {}
        for name, raws in columns.items():
            for key, value in raw_features(raws, ChunkMemo(budget)).items():
                batch[f"{name}_{key}"] = value
        return batch

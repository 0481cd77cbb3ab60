"""The result-file schema: one JSON per (model, task), written by ``mmeb run`` and read by the
leaderboard, the validator and the exporters.

Scores are fractions in [0, 1]. ``main_score`` is the score of ``main_metric``: hit@1 (= Precision@1
with one positive) for MMEB-V1 and the image / video tasks of MMEB-V2, ndcg_linear@5 for visual documents.
``task_name`` is the official key of the task within ``benchmark`` (MMEB-V2 reuses the V1 image names).
Published reference rows (figures copied from papers, not run by mmeb) use the same schema with
``published`` set; their run-only fields (harness, timings, device) are then absent.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

TieRule = Literal["fractional", "v1"]
"""fractional (default): candidates with the positive's content count as the positive; if the
positive shares the top score with k other distinct contents the query scores 1/(k+1).
v1: the official VLM2Vec v1 rule, argmax == 0, so every tie goes to the positive."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MainMetric = Literal["hit@1", "ndcg_linear@5"]
#: the Scores field that holds each main metric
MAIN_METRIC_FIELDS = {"hit@1": "hit_at_1", "ndcg_linear@5": "ndcg_at_5"}


class Scores(_Strict):
    hit_at_1: float | None = Field(default=None, ge=0, le=1)  # required unless the main metric is another
    hit_at_5: float | None = Field(default=None, ge=0, le=1)
    hit_at_10: float | None = Field(default=None, ge=0, le=1)
    ndcg_at_5: float | None = Field(default=None, ge=0, le=1)  # ndcg_linear@5 (linear gain, graded if qrels are)
    mrr: float | None = Field(default=None, ge=0, le=1)
    ci95_low: float | None = Field(default=None, ge=0, le=1)  # bootstrap CI of hit@1
    ci95_high: float | None = Field(default=None, ge=0, le=1)
    n_tied_queries: int | None = Field(default=None, ge=0)  # queries whose positive shares its score
    #: MMEB-V2: every metric under its official name (hit@k, recall@k, precision@k, ndcg_linear@k for k in
    #: 1/5/10, mrr), means over queries; several positives and graded relevance (ndcg_at_5 = ndcg_linear@5)
    metrics: dict[str, float] | None = None

    @model_validator(mode="after")
    def _fractions(self) -> "Scores":
        for name, value in (self.metrics or {}).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"metric {name} = {value} is not a fraction in [0, 1]")
        return self


class DatasetInfo(_Strict):
    id: str  # e.g. "TIGER-Lab/MMEB-eval"
    revision: str  # resolved revision (commit hash when from the Hub)
    subset: str  # the Hub config name
    source: str | None = None  # "hub:..." / "local:..." / "synthetic:..."
    version: str | None = None  # MMEB-V2 data version (v2.0.0, v2.0.1, v2.1): picks repos where they differ
    null_texts: int | None = Field(default=None, ge=0)  # query / candidate texts that were null in the data


class ModelInfo(_Strict):
    name: str
    revision: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)  # every score-changing setting
    metadata: dict[str, Any] = Field(default_factory=dict)  # size, dim, license, url, backbone, ...


class HarnessInfo(_Strict):
    mmeb_version: str
    python: str
    libraries: dict[str, str] = Field(default_factory=dict)  # torch, transformers, ...


class Timings(_Strict):
    """Seconds of the task's wall time. ``load_s`` is the wait for the task's data: the engine loads the
    next task's data while the current one encodes, so after the first task it is mostly hidden."""

    load_s: float = 0.0
    encode_s: float = 0.0
    rank_s: float = 0.0
    total_s: float = 0.0


class EvaluationInfo(_Strict):
    """Engine settings that change scores or their confidence interval (recorded so runs compare)."""

    similarity: Literal["cosine", "dot"] = "cosine"
    score_dtype: Literal["float32"] = "float32"
    limit: int | None = Field(default=None, ge=1)  # first N queries only (smoke tests); None = all
    bootstrap_resamples: int = Field(default=1000, ge=1)
    bootstrap_seed: int = 0
    batch_size: int | None = Field(default=None, ge=1)
    world_size: int = Field(default=1, ge=1)  # processes that shared the encoding (torchrun)
    #: NDCG gain pairing (MMEB-V2): "correct" each document its own grade; "official" the official scorer's
    #: pairing of qrels-order grades with set-ordered labels (changes graded tasks only)
    ndcg: Literal["correct", "official"] | None = None


class Published(_Strict):
    source: str  # e.g. "VLM2Vec paper (arXiv 2410.05160), Table 6"
    citation: str
    url: str | None = None
    note: str | None = None
    version: str | None = None  # benchmark version the figures belong to, e.g. "v2.0.0" (MMEB-V2)


class Prediction(_Strict):
    """Per-query outcome, enough to recompute every metric.

    top1:     candidate index ranked first (ties broken by index)
    rank:     1 + number of distinct candidate contents scored strictly above the positive
    tie_size: number of distinct contents (the positive's own content counted once) whose score
              equals the positive's score (>= 1)
    """

    top1: int = Field(ge=0)
    rank: int = Field(ge=1)
    tie_size: int = Field(ge=1)


def to_utc(value: datetime | None) -> datetime | None:
    """Every stored date is UTC: an aware date is converted, a naive one is taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class ModelMeta(BaseModel):
    """``model_meta.json`` next to a model's result files (written by ``mmeb run``): the model's identity
    and facts the leaderboard shows (size, url, ...). Unknown top-level keys are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    revision: str | None = Field(default=None, max_length=300)
    settings: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    mmeb_version: str | None = None
    load_s: float | None = Field(default=None, ge=0)
    device: str | None = None
    date: datetime | None = None
    identity: dict[str, Any] | None = None  # the model part of the scoring key (mmeb.results.key)
    configuration: str | None = None  # digest of model settings/code + evaluation settings of this folder
    evaluation: dict[str, Any] | None = None  # the evaluation settings of this folder's results

    @field_validator("metadata")
    @classmethod
    def _known_facts_typed(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in ("size_b", "model_size", "n_parameters", "num_parameters", "embedding_dim"):
            fact = value.get(key)
            if fact is not None and (isinstance(fact, bool) or not isinstance(fact, (int, float))
                                     or not math.isfinite(fact) or fact <= 0):
                raise ValueError(f"metadata.{key} must be a positive number, got {fact!r}")
        url = value.get("url")
        if url is not None and not (isinstance(url, str) and url.strip().lower().startswith(("https://", "http://"))):
            raise ValueError(f"metadata.url must be an http(s) URL, got {url!r}")
        return value

    @field_validator("date")
    @classmethod
    def _date_utc(cls, value: datetime | None) -> datetime | None:
        return to_utc(value)


class ScoringKey(_Strict):
    """Everything that determines the score (see :mod:`mmeb.results.key`): reuse needs an equal key."""

    dataset: dict[str, Any]
    model: dict[str, Any]
    evaluation: dict[str, Any]
    scoring_version: str


class TaskResult(_Strict):
    schema_version: int = SCHEMA_VERSION
    task_name: str
    benchmark: str = "MMEB-V1"
    modality: Literal["image", "video", "visdoc"] | None = None  # MMEB-V2 tasks
    group: str | None = None  # MMEB-V2 sub-category (I-CLS, V-RET, VDRv1, ...)
    meta_task: Literal["classification", "vqa", "retrieval", "grounding", "video_classification", "video_qa",
                       "video_retrieval", "moment_retrieval", "visdoc_retrieval"] | None = None
    split: Literal["IND", "OOD"] | None = None  # MMEB-V1 tasks (and MMEB-V2's image tasks)
    main_metric: MainMetric = "hit@1"
    main_score: float = Field(ge=0, le=1)
    n_queries: int = Field(ge=0)
    scores: Scores
    tie_rule: TieRule = "fractional"
    dataset: DatasetInfo
    model: ModelInfo
    harness: HarnessInfo | None = None
    device: str | None = None
    timings: Timings | None = None
    evaluation: EvaluationInfo | None = None
    date: datetime
    published: Published | None = None
    predictions: list[Prediction] | None = None
    scoring_key: ScoringKey | None = None  # absent in published rows and results of older versions

    @field_validator("date")
    @classmethod
    def _date_utc(cls, value: datetime) -> datetime:
        return to_utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> TaskResult:
        field = MAIN_METRIC_FIELDS[self.main_metric]
        stated = getattr(self.scores, field)
        if stated is None or abs(self.main_score - stated) > 1e-9:
            raise ValueError(f"main_score must equal scores.{field} (the main metric {self.main_metric})")
        if self.predictions is not None and len(self.predictions) != self.n_queries:
            raise ValueError(
                f"{len(self.predictions)} predictions for n_queries={self.n_queries}"
            )
        if self.published is None and self.harness is None:
            raise ValueError("a result produced by a run must record `harness` (or set `published`)")
        return self

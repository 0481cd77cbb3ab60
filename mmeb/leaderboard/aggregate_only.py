"""Rows published only as aggregates (e.g. the paper's Phi-3.5-V variants): no per-dataset figures
exist, so they cannot be result files. They live in ``aggregates.json`` inside a model folder of the
results tree and are always ``published`` (an mmeb run always has per-task results)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mmeb.results.store import AGGREGATES_FILE  # noqa: F401  (re-exported; the store owns the file names)
from mmeb.results.schema import ModelInfo, Published, to_utc

#: Aggregate columns in display order. Meta-task keys equal TaskMetadata.meta_task values.
GROUP_KEYS = ("overall", "IND", "OOD", "classification", "vqa", "retrieval", "grounding")
GroupKey = Literal["overall", "IND", "OOD", "classification", "vqa", "retrieval", "grounding"]


class GroupScores(BaseModel):
    """hit@1 as fractions in [0, 1]; a group the source did not report stays None."""

    model_config = ConfigDict(extra="forbid")

    overall: float | None = Field(default=None, ge=0, le=1)
    IND: float | None = Field(default=None, ge=0, le=1)
    OOD: float | None = Field(default=None, ge=0, le=1)
    classification: float | None = Field(default=None, ge=0, le=1)
    vqa: float | None = Field(default=None, ge=0, le=1)
    retrieval: float | None = Field(default=None, ge=0, le=1)
    grounding: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _not_empty(self) -> "GroupScores":
        if all(getattr(self, k) is None for k in GROUP_KEYS):
            raise ValueError("an aggregate-only row needs at least one group score")
        return self


class AggregateOnlyResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    kind: Literal["aggregate-only"] = "aggregate-only"
    benchmark: str = "MMEB-V1"
    main_metric: Literal["hit@1"] = "hit@1"
    tie_rule: Literal["fractional", "v1"] = "v1"
    model: ModelInfo
    scores: GroupScores
    date: datetime | None = None  # of the source; None when it gives none
    published: Published  # required: only published figures come without per-task results

    @field_validator("date")
    @classmethod
    def _date_utc(cls, value: datetime | None) -> datetime | None:
        return to_utc(value)

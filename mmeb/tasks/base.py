"""Declarative task definitions: a task is metadata plus (rarely) a hook; the one loader and the one
evaluation engine do the work. Unknown metadata fields are rejected at import time."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.data.items import TaskData

MetaTask = Literal["classification", "vqa", "retrieval", "grounding"]
Split = Literal["IND", "OOD"]
Modality = Literal["image", "text", "image+text"]

MMEB_EVAL_ID = "TIGER-Lab/MMEB-eval"
#: Default revision of TIGER-Lab/MMEB-eval. The resolved commit hash is recorded in every result;
#: pass an explicit commit (``--dataset-revision``) to pin a run to one snapshot.
MMEB_EVAL_REVISION = "main"
VLM2VEC_REFERENCE = "Jiang et al., VLM2Vec: Training Vision-Language Models for Massive Multimodal Embedding Tasks, ICLR 2025 (arXiv 2410.05160)"


class TaskMetadata(BaseModel):
    """Everything that identifies a task and how its strings are formed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # exact Hub config (subset) name, e.g. "ImageNet-1K"; unique across benchmarks
    benchmark: str = "MMEB-V1"  # task collection; group selectors (all/IND/OOD/meta-task) default to MMEB-V1
    meta_task: MetaTask
    split: Split  # IND = has an MMEB-train subset; OOD = evaluation only
    query_modality: Modality
    target_modality: Modality
    query_instruction: str  # instruction prefix of the query string (payload follows)
    target_instruction: str  # instruction prefix of candidate strings ("" for bare labels/answers)
    n_candidates: int = Field(gt=0)  # per query, as in the paper's Table 1
    n_queries: int = Field(default=1000, gt=0)
    dataset_id: str = MMEB_EVAL_ID
    dataset_revision: str = MMEB_EVAL_REVISION
    train_subset: str | None = None  # MMEB-train config name (IND only)
    n_train: int | None = None  # MMEB-train rows (paper Table 1)
    description: str
    reference: str = VLM2VEC_REFERENCE
    main_metric: Literal["hit@1"] = "hit@1"


class Task:
    """Base class of every task. Subclasses only declare ``metadata``."""

    metadata: ClassVar[TaskMetadata]

    @property
    def name(self) -> str:
        return self.metadata.name

    def load(self, data_dir: str | None = None, **kwargs) -> "TaskData":
        """Load the test split: from ``data_dir`` (a local mirror in the Hub layout), else from the
        Hub at ``metadata.dataset_revision`` via the user cache. See :mod:`mmeb.data.loader`."""
        from mmeb.data.loader import load_task_data

        return load_task_data(self.metadata, data_dir=data_dir, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.metadata.name} ({self.metadata.meta_task}, {self.metadata.split})>"

"""What identifies a task (its metadata) and the literals shared across layers. A leaf module: it imports
nothing from mmeb, so the data, evaluation and leaderboard layers can depend on it without cycles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MetaTask = Literal["classification", "vqa", "retrieval", "grounding"]
Split = Literal["IND", "OOD"]
Modality = Literal["image", "text", "image+text"]

MMEB_EVAL_ID = "TIGER-Lab/MMEB-eval"
#: the training set of the VLM2Vec paper (IND tasks only), read by ``mmeb train``
MMEB_TRAIN_ID = "TIGER-Lab/MMEB-train"
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

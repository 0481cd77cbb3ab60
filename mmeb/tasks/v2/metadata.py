"""What identifies an MMEB-V2 task: its official key, modality, sub-category, source repos, how its queries and
candidates are formed (``parser``), how it is ranked and scored. Facts from ``shared/spec/mmeb-v2.md`` (the
VLM2Vec repository's ``report_score_v2.py``, ``eval/{image,video,visdoc}.yaml``, ``dataset_hf_path.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BENCHMARK = "MMEB-V2"
V2_REFERENCE = ("Meng et al., VLM2Vec-V2: Advancing Multimodal Embedding for Videos, Images, and Visual Documents "
                "(arXiv 2507.04590)")
MEDIA_REPO = "TIGER-Lab/MMEB-V2"

Modality = Literal["image", "video", "visdoc"]
Group = Literal["I-CLS", "I-QA", "I-RET", "I-GD", "V-CLS", "V-QA", "V-RET", "V-MRET", "VDRv1", "VDRv2", "VR",
                "OOD"]
Parser = Literal["image_cls", "image_qa", "image_i2t", "image_t2i", "image_i2i_vg",
                 "video_classification", "ssv2", "mvbench", "videomme", "nextqa", "egoschema", "activitynetqa",
                 "didemo", "msrvtt", "msvd", "vatex", "youcook2", "moment_retrieval", "momentseeker",
                 "vidore", "visrag"]
MainMetric = Literal["hit@1", "ndcg_linear@5"]
#: benchmark data versions (spec section 8); the default reads the current Hub data
DataVersion = Literal["v2.0.0", "v2.0.1", "v2.1"]
DATA_VERSIONS: tuple[str, ...] = ("v2.0.0", "v2.0.1", "v2.1")
DEFAULT_DATA_VERSION = "v2.1"


class V2TaskMetadata(BaseModel):
    """One MMEB-V2 task. ``dataset_id`` / ``dataset_config`` / ``dataset_split`` name the annotation repo
    (``datasets.load_dataset(dataset_id, dataset_config, split=dataset_split)``); ``frame_dirs`` the frame
    folder spellings under ``video-tasks/frames/`` of :data:`MEDIA_REPO`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # the official key (task_name in results), e.g. "K700", "ViDoRe_arxivqa"
    benchmark: Literal["MMEB-V2"] = BENCHMARK
    modality: Modality
    group: Group
    meta_task: str  # classification | vqa | retrieval | grounding | video_* | moment_retrieval | visdoc_retrieval
    parser: Parser
    ranking: Literal["local", "global"]  # local: own candidate list; global: the task's whole pool / corpus
    main_metric: MainMetric
    query_modality: str
    target_modality: str
    query_instruction: str  # "" when it comes from the data (image tasks: qry_inst)
    #: MomentSeeker: the query instruction per query media ("text", "image", "video")
    query_instructions: dict[str, str] = Field(default_factory=dict)
    target_instruction: str
    n_queries: int = Field(gt=0)  # current Hub data (v2.0.1 and later)
    #: data version -> query count where an older version differs (MomentSeeker v2.0.0: 1800)
    version_n_queries: dict[str, int] = Field(default_factory=dict)
    n_candidates: int | None = None  # per query (local) or pool size (global) where known
    dataset_id: str
    dataset_config: str | None = None  # None = the default config (data/ in the repo)
    dataset_configs: tuple[str, ...] = ()  # several configs concatenated in this order (MVBench)
    dataset_split: str = "test"
    dataset_revision: str = "main"  # the resolved commit is recorded in every result
    #: data version -> another annotation repo (MomentSeeker before de-duplication, page tasks before the fix)
    version_repos: dict[str, str] = Field(default_factory=dict)
    row_limit: int | None = None  # the official runs read only the first N rows (SmthSmthV2: 1000)
    frame_dirs: tuple[str, ...] = ()  # spellings of the task's frame folder, relative to video-tasks/frames/
    num_frames: int | None = None  # frames sampled per video (linspace); None = every stored frame
    relevance: Literal["binary", "graded"] | None = None  # visdoc qrels
    split: Literal["IND", "OOD"] | None = None  # the MMEB-V1 split of an image task
    description: str
    reference: str = V2_REFERENCE

    def repo_for(self, version: str) -> str:
        """The annotation repo this task reads for a data version."""
        return self.version_repos.get(version, self.dataset_id)

    def n_queries_for(self, version: str | None) -> int:
        """The full query count of this task in a data version (None: the default, current data)."""
        return self.version_n_queries.get(version or DEFAULT_DATA_VERSION, self.n_queries)

"""The model registry: published embedding models by short CLI name, with their exact recipe.

An entry is data (pydantic, ``extra="forbid"``): a typo in a field fails at import. ``settings`` holds
the recipe numbers the adapter uses (anything not listed takes the adapter's documented default; the
adapter records every resolved setting in each result file).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from mmeb.errors import ConfigError, suggest
from mmeb.models.adapters import ADAPTERS, check_settings

Modality = Literal["image", "text", "image+text"]
ALL_MODALITIES: list[Modality] = ["image", "text", "image+text"]
VLM2VEC_PAPER = "Jiang et al., VLM2Vec (ICLR 2025, arXiv 2410.05160)"
UNPINNED = "revision unknown offline: 'main'; the resolved commit is recorded at load"


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # short CLI name
    hub_id: str
    revision: str = "main"
    revision_note: str | None = UNPINNED
    adapter: str  # a name of the adapter table (mmeb.models.adapters.ADAPTERS)
    modalities: list[Modality] = ALL_MODALITIES
    embedding_dim: int
    params: str  # as the model card states it, e.g. "428M"
    license: str
    reference: str
    paper_row: str | None = None  # which published row this reproduces (VLM2Vec paper Table 6 unless noted)
    remote_code: bool = False  # needs trust_remote_code=True
    base_model: str | None = None  # for adapter-only (LoRA) repos: the backbone to merge into
    settings: dict[str, Any] = {}
    note: str | None = None

    @model_validator(mode="after")
    def _known_adapter_and_settings(self) -> "ModelEntry":
        if self.adapter not in ADAPTERS:
            raise ValueError(f"registry entry {self.name!r}: {suggest(self.adapter, ADAPTERS, 'adapter')}")
        try:
            check_settings(self.adapter, self.settings, f"registry entry {self.name!r}")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None  # pydantic reports ValueErrors as validation errors
        return self

    def metadata(self) -> dict[str, Any]:
        return {"hub_id": self.hub_id, "embedding_dim": self.embedding_dim, "params": self.params,
                "license": self.license, "reference": self.reference, "paper_row": self.paper_row,
                "modalities": list(self.modalities), "adapter": self.adapter, "base_model": self.base_model,
                "note": self.note}


# VLM2Vec v1 eval.py: 1344x1344 in the file's mode, the checkpoint's saved caps (3136..12845056 px: 2304 tokens)
_QWEN_V1 = {"image_resize": [1344, 1344]}

MODELS: list[ModelEntry] = [
    ModelEntry(name="clip-vit-l-14", hub_id="openai/clip-vit-large-patch14", adapter="clip", embedding_dim=768,
               params="428M", license="MIT", reference="Radford et al., CLIP (ICML 2021)", paper_row="CLIP"),
    ModelEntry(name="openclip-vit-b-16-laion2b", hub_id="laion/CLIP-ViT-B-16-laion2B-s34B-b88K", adapter="openclip",
               embedding_dim=512, params="150M", license="MIT", reference="Cherti et al., OpenCLIP scaling laws (CVPR 2023)",
               paper_row="OpenCLIP",
               note="the VLM2Vec script runs ViT-B-16-laion2B; the leaderboard lists ViT-H-14 (unresolved)"),
    ModelEntry(name="siglip-so400m-patch14-384", hub_id="google/siglip-so400m-patch14-384", adapter="siglip",
               embedding_dim=1152, params="878M", license="Apache-2.0", reference="Zhai et al., SigLIP (ICCV 2023)",
               paper_row="SigLIP",
               note="the VLM2Vec script runs so400m-patch14-384; the leaderboard lists base-patch16-224 (unresolved)"),
    ModelEntry(name="blip-itm-large-coco", hub_id="Salesforce/blip-itm-large-coco", adapter="blip", embedding_dim=256,
               params="470M", license="BSD-3-Clause", reference="Li et al., BLIP (ICML 2022)",
               note="no published MMEB row: its native ITC recipe (transformers BlipForImageTextRetrieval, "
                    "use_itm_head=False), 256-d"),
    ModelEntry(name="blip2-itm-vit-g", hub_id="Salesforce/blip2-itm-vit-g", adapter="blip2", embedding_dim=768,
               params="1.2B", license="MIT", reference="Li et al., BLIP-2 (ICML 2023)", paper_row="BLIP2",
               note="default: the paper baseline (VLM2Vec@b1dc1e6 eval_blip.py, LAVIS blip2_feature_extractor): "
                    "unprojected 768-d Q-Former features summed; native: the 256-d ITC projections"),
    ModelEntry(name="e5-v", hub_id="royokong/e5-v", adapter="e5v", embedding_dim=4096, params="8.4B",
               license="see model card (Llama-3 base)", reference="Jiang et al., E5-V (arXiv 2407.12580)",
               paper_row="E5-V", settings={"dtype": "float16"}),
    ModelEntry(name="vlm2vec-phi3.5v", hub_id="TIGER-Lab/VLM2Vec-Full", adapter="vlm2vec", embedding_dim=3072,
               params="4.2B", license="Apache-2.0", reference=VLM2VEC_PAPER, paper_row="VLM2Vec (Phi-3.5-V, Full)",
               remote_code=True, base_model="microsoft/Phi-3.5-vision-instruct",
               settings={"backbone": "phi3_v", "num_crops": 4, "attn_implementation": "eager"}),
    ModelEntry(name="vlm2vec-phi3.5v-lora", hub_id="TIGER-Lab/VLM2Vec-LoRA", adapter="vlm2vec", embedding_dim=3072,
               params="4.2B", license="Apache-2.0", reference=VLM2VEC_PAPER, paper_row="VLM2Vec (Phi-3.5-V, LoRA)",
               remote_code=True, base_model="microsoft/Phi-3.5-vision-instruct",
               settings={"backbone": "phi3_v", "num_crops": 4, "attn_implementation": "eager"}),
    ModelEntry(name="vlm2vec-llava", hub_id="TIGER-Lab/VLM2Vec-LLaVa-Next", adapter="vlm2vec", embedding_dim=4096,
               params="7.6B", license="Apache-2.0", reference=VLM2VEC_PAPER,
               paper_row="VLM2Vec (LLaVA-1.6, LoRA, 1344x1344: 62.9)", base_model="llava-hf/llava-v1.6-mistral-7b-hf",
               settings={"backbone": "llava_next", "image_resize": [1344, 1344]}),
    ModelEntry(name="vlm2vec-qwen2vl-2b", hub_id="TIGER-Lab/VLM2Vec-Qwen2VL-2B", adapter="vlm2vec", embedding_dim=1536,
               params="2.2B", license="Apache-2.0", reference=VLM2VEC_PAPER, paper_row="VLM2Vec (Qwen2-VL-2B)",
               base_model="Qwen/Qwen2-VL-2B-Instruct", settings={"backbone": "qwen2_vl", **_QWEN_V1}),
    ModelEntry(name="vlm2vec-qwen2vl-7b", hub_id="TIGER-Lab/VLM2Vec-Qwen2VL-7B", adapter="vlm2vec", embedding_dim=3584,
               params="8.3B", license="Apache-2.0", reference=VLM2VEC_PAPER, paper_row="VLM2Vec (Qwen2-VL-7B)",
               base_model="Qwen/Qwen2-VL-7B-Instruct", settings={"backbone": "qwen2_vl", **_QWEN_V1}),
    ModelEntry(name="vlm2vec-v2", hub_id="VLM2Vec/VLM2Vec-V2.0", adapter="vlm2vec", embedding_dim=1536, params="2.2B",
               license="Apache-2.0", reference="Meng et al., VLM2Vec-V2 (arXiv 2507.04590)", paper_row="VLM2Vec-V2",
               base_model="Qwen/Qwen2-VL-2B-Instruct",
               settings={"backbone": "qwen2_vl", "image_resize": None, "small_image_resize": [28, 56, 56],
                         "min_pixels": 4 * 28 * 28, "max_pixels": 1280 * 28 * 28}),
    ModelEntry(name="gme-qwen2vl-2b", hub_id="Alibaba-NLP/gme-Qwen2-VL-2B-Instruct", adapter="gme", embedding_dim=1536,
               params="2.2B", license="Apache-2.0", reference="Zhang et al., GME (arXiv 2412.16855)", paper_row="GME-2B",
               note="default: the VLM2Vec V2 eval route (backbone gme) behind the shipped row; recipe='native' = "
                    "the model card's gme_inference.py (fp16); both on core Qwen2-VL, no remote code"),
    ModelEntry(name="gme-qwen2vl-7b", hub_id="Alibaba-NLP/gme-Qwen2-VL-7B-Instruct", adapter="gme", embedding_dim=3584,
               params="8.3B", license="Apache-2.0", reference="Zhang et al., GME (arXiv 2412.16855)", paper_row="GME-7B",
               note="default: the VLM2Vec V2 eval route (backbone gme) behind the shipped row; recipe='native' = "
                    "the model card's gme_inference.py (fp16); both on core Qwen2-VL, no remote code"),
]

_BY_NAME = {m.name: m for m in MODELS}
assert len(_BY_NAME) == len(MODELS), "duplicate model name in the registry"
# "<name>-native" names a registered model's native variant (mmeb.models.loading.NATIVE_SUFFIX)
assert not any(m.name.endswith("-native") for m in MODELS), "a registered name may not end in -native"


def list_models() -> list[ModelEntry]:
    return list(MODELS)


def get_entry(name: str) -> ModelEntry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise suggest(name, _BY_NAME, "model") from None


def find_entry(name: str) -> ModelEntry | None:
    return _BY_NAME.get(name)

"""Build the model that trains: the transformers VLM + processor, PEFT applied directly (LoRA, or
DoRA only when asked), wrapped as a one-module SentenceTransformer for the sentence-transformers Trainer."""

from __future__ import annotations

from typing import Any

from mmeb.errors import ConfigError
from mmeb.models.vlm2vec import BACKBONE_DEFAULTS, VLM2VecRecipe
from mmeb.training.config import TrainConfig
from mmeb.training.encoder import LORA_TARGETS, VLM2VecEncoder

#: config.model_type -> backbone, for backbone="auto"
MODEL_TYPES = {"qwen2_vl": "qwen2_vl", "llava_next": "llava_next", "phi3_v": "phi3_v"}


def check_model_source(model: str) -> None:
    """A local model path that does not exist is refused in one line (before any data or weights load);
    ``org/name`` is a Hub id."""
    from pathlib import Path

    path = Path(model).expanduser()
    looks_local = model.startswith(("/", ".", "~")) or "\\" in model or model.count("/") != 1
    if looks_local and not path.exists():
        raise ConfigError(f"training model {model!r} does not exist (no such folder); give a local model "
                          "folder or a Hub id such as Qwen/Qwen2-VL-2B-Instruct")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"training model {model!r} is a file; give the model's folder (with config.json)")


def detect_backbone(config: TrainConfig) -> str:
    """The configured backbone, or the one named by the model's config.json ("auto")."""
    check_model_source(config.model)
    if config.backbone != "auto":
        return config.backbone
    from transformers import AutoConfig

    try:
        hf_config = AutoConfig.from_pretrained(config.model, revision=config.model_revision,
                                               trust_remote_code=config.trust_remote_code)
    except (OSError, ValueError) as exc:  # not found, offline, not a model folder, invalid repo id
        raise ConfigError(f"training model {config.model!r}: cannot read its config.json "
                          f"({str(exc).splitlines()[0]}); check the path or Hub id") from None
    backbone = MODEL_TYPES.get(hf_config.model_type)
    if backbone is None:
        raise ConfigError(f"model {config.model!r} has model_type {hf_config.model_type!r}, which is not a "
                          f"VLM2Vec backbone; supported: {', '.join(MODEL_TYPES)} (set `backbone` explicitly "
                          "only for a compatible architecture)")
    return backbone


def lora_settings(config: TrainConfig, backbone: str) -> dict[str, Any] | None:
    if not config.lora:
        return None
    return {"r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout, "dora": config.dora,
            "target_modules": config.lora_target_modules or LORA_TARGETS[backbone], "init": "gaussian"}


def build_recipe(config: TrainConfig, backbone: str, **fields: Any) -> VLM2VecRecipe:
    return VLM2VecRecipe.for_backbone(
        backbone, image_resize=list(config.image_resize) if config.image_resize else None,
        min_pixels=config.min_pixels, max_pixels=config.max_pixels, max_length=config.max_length,
        orphan_image_token=config.orphan_image_token, dtype="bfloat16" if config.bf16 else "float32",
        base_model=config.model, base_revision=config.model_revision, lora=lora_settings(config, backbone),
        **fields)


def load_vlm(config: TrainConfig, backbone: str):
    """(model, processor) from a Hub id or a directory, at the pinned revision. The model class is the one
    evaluation loads the saved checkpoint with (:func:`mmeb.models.builders.model_class`)."""
    from transformers import AutoProcessor

    from mmeb.models.builders import model_class

    kwargs = dict(revision=config.model_revision, trust_remote_code=config.trust_remote_code)
    cls = model_class(backbone, trust_remote_code=config.trust_remote_code, where=config.model)
    model = cls.from_pretrained(config.model, **kwargs)
    processor = AutoProcessor.from_pretrained(config.model, **kwargs)
    return model, processor  # caps and the PIL image processor: mmeb.models.vlm.VLMInputs, as at evaluation


def apply_lora(model, settings: dict[str, Any]):
    """peft applied directly to the VLM (transformers' add_adapter needs a newer peft). Only the
    adapter trains; the base weights stay frozen."""
    from peft import LoraConfig, get_peft_model

    lora_config = LoraConfig(r=settings["r"], lora_alpha=settings["alpha"], lora_dropout=settings["dropout"],
                             target_modules=list(settings["target_modules"]), init_lora_weights="gaussian",
                             use_dora=settings["dora"])
    return get_peft_model(model, lora_config)


def build_st_model(config: TrainConfig, backbone: str | None = None):
    """The SentenceTransformer the Trainer trains, and the encoder module inside it."""
    from sentence_transformers import SentenceTransformer

    backbone = backbone or detect_backbone(config)
    if backbone not in BACKBONE_DEFAULTS:
        raise ConfigError(f"unknown backbone {backbone!r}; supported: {', '.join(BACKBONE_DEFAULTS)}")
    model, processor = load_vlm(config, backbone)
    recipe = build_recipe(config, backbone)
    if recipe.lora is not None:
        model = apply_lora(model, recipe.lora)
    encoder = VLM2VecEncoder(model, processor, recipe)
    return SentenceTransformer(modules=[encoder], device="cpu"), encoder

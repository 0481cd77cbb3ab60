"""Build an adapter from a checkpoint directory: pick the transformers class by ``config.model_type``,
load with the chosen dtype / attention implementation, merge PEFT adapters, wrap in the recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError
from mmeb.models.runtime import (attention_implementation, default_dtype, hub_snapshot, processor_source,
                                 refuse_remote_code, torch_dtype)

TWO_TOWER_TYPES = ("clip", "siglip", "blip", "blip-2")
VLM_TYPES = ("qwen2_vl", "llava_next", "phi3_v")


def model_type_of(directory: Path) -> str:
    try:
        return json.loads((Path(directory) / "config.json").read_text())["model_type"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read model_type from {directory}/config.json: {exc}") from exc


def model_class(model_type: str, *, trust_remote_code: bool, where: str):
    import transformers as tf

    classes = {"clip": tf.CLIPModel, "siglip": tf.SiglipModel, "blip": tf.BlipForImageTextRetrieval,
               "blip-2": tf.Blip2ForImageTextRetrieval, "qwen2_vl": tf.Qwen2VLForConditionalGeneration,
               "llava_next": tf.LlavaNextForConditionalGeneration}
    if model_type == "phi3_v":
        if not trust_remote_code:
            raise refuse_remote_code(f"Phi-3.5-V checkpoint {where}")
        return tf.AutoModelForCausalLM
    if model_type not in classes:
        raise ConfigError(f"{where}: model_type {model_type!r} has no mmeb adapter; supported: "
                          f"{', '.join(sorted([*classes, 'phi3_v']))}. Wrap it as a plug-in (file.py:Class) instead.")
    return classes[model_type]


def runtime_dtype(device: str, dtype: str | None, recipe_dtype: str | None) -> str | None:
    """Explicit dtype wins; on a GPU the recipe's dtype (E5-V / GME: fp16); on CPU fp32 (None)."""
    if dtype:
        return dtype
    if device.startswith("cuda") and recipe_dtype:
        return recipe_dtype
    return None


def _load_hf(directory: Path, model_type: str, *, device, dtype, trust_remote_code, attn_implementation):
    cls = model_class(model_type, trust_remote_code=trust_remote_code, where=str(directory))
    kwargs: dict[str, Any] = {"dtype": torch_dtype(dtype or default_dtype(device))}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if model_type == "phi3_v":
        kwargs["trust_remote_code"] = True
    return cls.from_pretrained(str(directory), **kwargs)


def _load_processor(source: str, model_type: str, *, trust_remote_code: bool, num_crops: int | None = None):
    from transformers import AutoProcessor

    kwargs: dict[str, Any] = {}
    if model_type == "phi3_v":
        kwargs.update(trust_remote_code=trust_remote_code, num_crops=num_crops or 4)
    return AutoProcessor.from_pretrained(source, **kwargs)


def build_vlm2vec(directory: Path, recipe, *, name, revision, metadata, device, dtype, trust_remote_code,
                  attn_implementation=None, model=None):
    from mmeb.models.vlm2vec import Phi3VEmbedder, VLM2VecEmbedder

    model_type = {"phi3_v": "phi3_v", "llava_next": "llava_next", "qwen2_vl": "qwen2_vl"}[recipe.backbone]
    dtype = runtime_dtype(device, dtype, None)
    attn = attn_implementation or ("eager" if model_type == "phi3_v" else attention_implementation(device, dtype))
    if model is None:
        model = _load_hf(directory, model_type, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                         attn_implementation=attn)
    processor = _load_processor(processor_source(directory, recipe.base_model), model_type,
                                trust_remote_code=trust_remote_code, num_crops=recipe.num_crops)
    cls = Phi3VEmbedder if model_type == "phi3_v" else VLM2VecEmbedder
    return cls(model, processor, recipe, name=name, revision=revision, metadata=metadata, device=device,
               dtype=dtype, attn_implementation=attn)


def build_from_config(directory: Path, *, adapter, settings, name, revision, metadata, device, dtype,
                      trust_remote_code, attn_implementation=None):
    """A plain transformers checkpoint: two-tower by architecture, VLMs with their default recipe."""
    model_type = model_type_of(directory)
    if model_type in TWO_TOWER_TYPES:
        from mmeb.models.two_tower import TWO_TOWER_BY_MODEL_TYPE

        allowed = {"max_length", "normalize", "dtype"}
        _refuse_unknown(settings, allowed, f"{model_type} adapter")
        dtype = runtime_dtype(device, dtype, settings.get("dtype"))
        attn = attention_implementation(device, dtype, attn_implementation)
        model = _load_hf(directory, model_type, device=device, dtype=dtype, trust_remote_code=False,
                         attn_implementation=attn)
        processor = _load_processor(str(directory), model_type, trust_remote_code=False)
        return TWO_TOWER_BY_MODEL_TYPE[model_type](model, processor, name=name, revision=revision, metadata=metadata,
                                                   device=device, dtype=dtype, attn_implementation=attn,
                                                   **{k: v for k, v in settings.items() if k != "dtype"})
    if model_type not in VLM_TYPES:
        model_class(model_type, trust_remote_code=trust_remote_code, where=str(directory))  # raises the clear error
    if adapter in ("e5v", "gme"):
        return _build_instructed_vlm(directory, adapter, model_type, settings=settings, name=name, revision=revision,
                                     metadata=metadata, device=device, dtype=dtype,
                                     trust_remote_code=trust_remote_code, attn_implementation=attn_implementation)
    from mmeb.models.vlm2vec import VLM2VecRecipe

    recipe = override_recipe(VLM2VecRecipe.for_backbone(model_type), settings, directory)
    return build_vlm2vec(directory, recipe, name=name, revision=revision, metadata=metadata, device=device,
                         dtype=dtype, trust_remote_code=trust_remote_code, attn_implementation=attn_implementation)


def _build_instructed_vlm(directory, adapter, model_type, *, settings, name, revision, metadata, device, dtype,
                          trust_remote_code, attn_implementation):
    from mmeb.models.e5v import E5VEmbedder
    from mmeb.models.gme import GMEEmbedder

    cls, expected = {"e5v": (E5VEmbedder, "llava_next"), "gme": (GMEEmbedder, "qwen2_vl")}[adapter]
    if model_type != expected:
        raise ConfigError(f"{directory}: the {adapter} recipe needs a {expected} checkpoint, found {model_type}")
    settings = dict(settings)
    dtype = runtime_dtype(device, dtype, settings.pop("dtype", None))
    _refuse_unknown(settings, set(cls.OVERRIDABLE), f"{adapter} adapter")
    attn = attention_implementation(device, dtype, attn_implementation)
    model = _load_hf(directory, model_type, device=device, dtype=dtype, trust_remote_code=False,
                     attn_implementation=attn)
    processor = _load_processor(str(directory), model_type, trust_remote_code=False)
    return cls(model, processor, name=name, revision=revision, metadata=metadata, device=device, dtype=dtype,
               attn_implementation=attn, **settings)


def build_from_peft(directory: Path, *, adapter, base_model, settings, name, revision, metadata, device, dtype,
                    trust_remote_code, attn_implementation=None):
    """Base model + PEFT adapter (LoRA or DoRA) merged with ``merge_and_unload()`` for inference."""
    from peft import PeftModel

    from mmeb.models.vlm2vec import RECIPE_FILE, VLM2VecRecipe

    config = json.loads((directory / "adapter_config.json").read_text())
    base = base_model or config.get("base_model_name_or_path")
    if not base:
        raise ConfigError(f"{directory}/adapter_config.json names no base_model_name_or_path; cannot merge")
    base_dir = Path(base) if Path(base).is_dir() else hub_snapshot(base, None)[0]
    model_type = model_type_of(base_dir)
    if model_type not in VLM_TYPES:
        raise ConfigError(f"{directory}: PEFT adapters are supported over VLM2Vec backbones "
                          f"({', '.join(VLM_TYPES)}); the base {base} is {model_type}")
    if (base_dir / RECIPE_FILE).exists():
        recipe = VLM2VecRecipe.load(base_dir)
    else:
        recipe = VLM2VecRecipe.for_backbone(model_type, base_model=base)
    recipe = override_recipe(recipe, settings, directory)
    dtype_ = runtime_dtype(device, dtype, None)
    attn = attn_implementation or ("eager" if model_type == "phi3_v" else attention_implementation(device, dtype_))
    base_model_obj = _load_hf(base_dir, model_type, device=device, dtype=dtype_, trust_remote_code=trust_remote_code,
                              attn_implementation=attn)
    merged = PeftModel.from_pretrained(base_model_obj, str(directory)).merge_and_unload()
    lora = {"r": config.get("r"), "alpha": config.get("lora_alpha"), "dora": bool(config.get("use_dora")),
            "merged": True, "target_modules": config.get("target_modules")}
    recipe = recipe.model_copy(update={"lora": lora})
    metadata = {**metadata, "base_model": base}
    source = str(directory) if any((directory / f).exists() for f in ("preprocessor_config.json",
                                                                      "tokenizer_config.json")) else str(base_dir)
    return build_vlm2vec(Path(source), recipe, name=name, revision=revision, metadata=metadata, device=device,
                         dtype=dtype, trust_remote_code=trust_remote_code, attn_implementation=attn, model=merged)


def _refuse_unknown(settings: dict, allowed: set[str], what: str) -> None:
    unknown = set(settings) - allowed
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} for the {what}; known: {', '.join(sorted(allowed))}")


def override_recipe(recipe, settings: dict[str, Any], where: Path):
    """Apply CLI/Python overrides to a recipe; a name the recipe does not have is an error."""
    unknown = set(settings) - set(type(recipe).model_fields)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} for the VLM2Vec recipe of {where}; "
                          f"known: {', '.join(sorted(type(recipe).model_fields))}")
    fields = {k: v for k, v in settings.items() if k in type(recipe).model_fields}
    return type(recipe)(**{**recipe.model_dump(), **fields})

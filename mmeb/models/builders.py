"""Builders of the adapter table (:mod:`mmeb.models.adapters`): load a local folder with the right transformers
class, dtype and attention implementation, merge PEFT adapters, and wrap the model in its recipe.

Every builder has the signature ``build(source, settings, ctx)`` and passes only the settings that are set
(``None`` = the recipe's or the checkpoint's own value) to its embedder, with the recipe variant as ``recipe``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, MMEBError
from mmeb.models.adapters import LoadContext
from mmeb.models.runtime import (attention_implementation, default_dtype, hub_snapshot, model_type_of,
                                 processor_source, refuse_remote_code, runtime_dtype, torch_dtype)

_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json", "tokenizer_config.json")  # in a LoRA dir


def _set(settings: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if v is not None and k not in drop}


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
        raise ConfigError(f"{where}: model_type {model_type!r} has no transformers class in mmeb")
    return classes[model_type]


def load_hf(directory: Path, model_type: str, *, device: str, dtype: str | None, trust_remote_code: bool,
            attn_implementation: str | None):
    cls = model_class(model_type, trust_remote_code=trust_remote_code, where=str(directory))
    kwargs: dict[str, Any] = {"dtype": torch_dtype(dtype or default_dtype(device))}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if model_type == "phi3_v":
        kwargs["trust_remote_code"] = True
    try:
        return cls.from_pretrained(str(directory), **kwargs)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file fails anywhere in the loader
        if not _is_file_error(exc):
            raise
        raise damaged_weights(directory, exc) from None


def damaged_weights(directory, exc: Exception) -> ConfigError:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return ConfigError(f"cannot load the weights in {directory} ({type(exc).__name__}: {first}); a file is "
                       "incomplete or damaged (an interrupted download?) or not of this model: copy the model's "
                       "files again")


def _is_file_error(exc: Exception) -> bool:
    """Errors of the files themselves (truncated / corrupt safetensors, unreadable files, shape mismatches)."""
    if isinstance(exc, (OSError, EOFError, json.JSONDecodeError)):
        return True
    if type(exc).__name__ == "SafetensorError":
        return True
    text = str(exc)
    return isinstance(exc, (RuntimeError, ValueError)) and any(
        key in text for key in ("size mismatch", "Error(s) in loading state_dict", "header", "deserializ"))


def load_processor(source: str, model_type: str, *, trust_remote_code: bool, num_crops: int | None = None,
                   **options: Any):
    from transformers import AutoProcessor

    kwargs: dict[str, Any] = dict(options)
    if model_type == "phi3_v":
        kwargs.update(trust_remote_code=trust_remote_code, num_crops=num_crops or 4)
    try:
        return AutoProcessor.from_pretrained(source, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a damaged file fails anywhere in the tokenizer / processor loaders
        if not _is_file_error(exc):
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ConfigError(f"cannot load the processor / tokenizer files in {source} ({type(exc).__name__}: "
                          f"{first}); a file is incomplete or damaged: copy the model's files again") from None


# ---------------------------------------------------------------------------------------------- VLM2Vec
def vlm2vec_recipe(directory: Path, model_type: str, settings: dict[str, Any], base_model: str | None = None,
                   where: str = "model"):
    """The checkpoint's mmeb_model.json (else the backbone's defaults) with the set settings applied; a setting
    of the wrong type or value is one ConfigError naming it."""
    from pydantic import ValidationError

    from mmeb.models.vlm2vec import RECIPE_FILE, VLM2VecRecipe

    overrides = _set(settings, "recipe", "dtype", "attn_implementation")
    if (Path(directory) / RECIPE_FILE).exists():
        recipe = VLM2VecRecipe.load(directory)
    else:
        recipe = VLM2VecRecipe.for_backbone(overrides.get("backbone", model_type), base_model=base_model)
    try:
        return type(recipe)(**{**recipe.model_dump(), **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: setting {key} {overrides.get(key, first.get('input'))!r} is invalid "
                          f"({first['msg']}); see `mmeb models` and docs/models.md for its values") from None


def build_vlm2vec(directory: Path, settings: dict[str, Any], ctx: LoadContext):
    directory = Path(directory)
    if (directory / "adapter_config.json").exists() and not (directory / "config.json").exists():
        return build_peft(directory, settings, ctx)
    recipe = vlm2vec_recipe(directory, model_type_of(directory), settings, ctx.base_model, f"model {ctx.name!r}")
    return vlm2vec_embedder(directory, recipe, settings, ctx)


def vlm2vec_embedder(directory: Path, recipe, settings: dict[str, Any], ctx: LoadContext, model=None):
    from mmeb.models.vlm2vec import Phi3VEmbedder, VLM2VecEmbedder

    model_type = recipe.backbone
    dtype = runtime_dtype(ctx.device, ctx.dtype, settings.get("dtype") or recipe.dtype)  # the recipe file's
    attn = settings.get("attn_implementation") or (
        "eager" if model_type == "phi3_v" else attention_implementation(ctx.device, dtype))
    if model is None:
        model = load_hf(directory, model_type, device=ctx.device, dtype=dtype,
                        trust_remote_code=ctx.trust_remote_code, attn_implementation=attn)
    processor = load_processor(processor_source(directory, recipe.base_model), model_type,
                               trust_remote_code=ctx.trust_remote_code, num_crops=recipe.num_crops)
    cls = Phi3VEmbedder if model_type == "phi3_v" else VLM2VecEmbedder
    return cls(model, processor, recipe, name=ctx.name, revision=ctx.revision, metadata=ctx.metadata,
               device=ctx.device, dtype=dtype, attn_implementation=attn, recipe_variant=settings["recipe"],
               gpu_dtype=settings.get("dtype") or recipe.dtype)


def build_peft(directory: Path, settings: dict[str, Any], ctx: LoadContext):
    """Base model + PEFT adapter (LoRA or DoRA) merged with ``merge_and_unload()`` for inference."""
    from peft import PeftModel

    from mmeb.models.adapters import get_adapter

    config = json.loads((directory / "adapter_config.json").read_text())
    base = ctx.base_model or config.get("base_model_name_or_path")
    if not base:
        raise ConfigError(f"{directory}/adapter_config.json names no base_model_name_or_path; cannot merge")
    base_dir = Path(base) if Path(base).is_dir() else _base_snapshot(base, directory, ctx)
    model_type = model_type_of(base_dir)
    served = get_adapter("vlm2vec").model_types
    if model_type not in served:
        raise ConfigError(f"{directory}: PEFT adapters are supported over VLM2Vec backbones "
                          f"({', '.join(served)}); the base {base} is {model_type}")
    recipe = vlm2vec_recipe(base_dir, model_type, settings, base, f"model {ctx.name!r}")
    dtype = runtime_dtype(ctx.device, ctx.dtype, settings.get("dtype") or recipe.dtype)
    attn = settings.get("attn_implementation") or (
        "eager" if model_type == "phi3_v" else attention_implementation(ctx.device, dtype))
    base_model = load_hf(base_dir, model_type, device=ctx.device, dtype=dtype,
                         trust_remote_code=ctx.trust_remote_code, attn_implementation=attn)
    merged = PeftModel.from_pretrained(base_model, str(directory)).merge_and_unload()
    lora = {"r": config.get("r"), "alpha": config.get("lora_alpha"), "dora": bool(config.get("use_dora")),
            "merged": True, "target_modules": config.get("target_modules")}
    recipe = recipe.model_copy(update={"lora": lora})
    ctx.metadata = {**ctx.metadata, "base_model": base}
    source = directory if any((directory / f).exists() for f in _PROCESSOR_FILES) else base_dir
    return vlm2vec_embedder(source, recipe, {**settings, "attn_implementation": attn}, ctx, model=merged)


def _base_snapshot(base: str, directory: Path, ctx: LoadContext) -> Path:
    try:
        return hub_snapshot(base, None)[0]
    except MMEBError as exc:
        raise ConfigError(f"model {ctx.name!r}: the LoRA adapter in {directory} merges into {base}, which is not "
                          f"available ({str(exc).split(':')[0]}); put {base} in the Hugging Face cache "
                          f"(`hf download {base}`) or set base_model_name_or_path in "
                          f"{directory / 'adapter_config.json'} to a local folder") from None


# ---------------------------------------------------------------------------------------------- others
def build_two_tower(directory: Path, settings: dict[str, Any], ctx: LoadContext):
    from mmeb.models.two_tower import TWO_TOWER_BY_MODEL_TYPE

    model_type = model_type_of(directory)
    dtype = runtime_dtype(ctx.device, ctx.dtype, settings.get("dtype"))
    attn = attention_implementation(ctx.device, dtype, settings.get("attn_implementation"))
    model = load_hf(directory, model_type, device=ctx.device, dtype=dtype, trust_remote_code=False,
                    attn_implementation=attn)
    # the PIL image backend: the official runs used the PIL/numpy processors (transformers 5 defaults to
    # torchvision kernels, which resize differently)
    processor = load_processor(str(directory), model_type, trust_remote_code=False, backend="pil")
    return TWO_TOWER_BY_MODEL_TYPE[model_type](
        model, processor, name=ctx.name, revision=ctx.revision, metadata=ctx.metadata, device=ctx.device,
        dtype=dtype, attn_implementation=attn, recipe_variant=settings["recipe"], gpu_dtype=settings.get("dtype"),
        **_set(settings, "recipe", "dtype", "attn_implementation"))


def build_instructed_vlm(directory: Path, settings: dict[str, Any], ctx: LoadContext):
    """E5-V (LLaVA-NeXT) and GME (Qwen2-VL): fixed recipes over core transformers classes."""
    from mmeb.models.e5v import E5VEmbedder
    from mmeb.models.gme import GMEEmbedder

    model_type = model_type_of(directory)
    cls = {"llava_next": E5VEmbedder, "qwen2_vl": GMEEmbedder}[model_type]
    recipe_dtype = settings.get("dtype") or getattr(cls, "RECIPE_DTYPES", {}).get(settings["recipe"])
    dtype = runtime_dtype(ctx.device, ctx.dtype, recipe_dtype)
    attn = attention_implementation(ctx.device, dtype, settings.get("attn_implementation"))
    model = load_hf(directory, model_type, device=ctx.device, dtype=dtype, trust_remote_code=False,
                    attn_implementation=attn)
    processor = load_processor(str(directory), model_type, trust_remote_code=False)
    return cls(model, processor, name=ctx.name, revision=ctx.revision, metadata=ctx.metadata, device=ctx.device,
               dtype=dtype, attn_implementation=attn, recipe_variant=settings["recipe"], gpu_dtype=recipe_dtype,
               **_set(settings, "recipe", "dtype", "attn_implementation"))


def build_openclip(directory: Path, settings: dict[str, Any], ctx: LoadContext):
    """An OpenCLIP folder in its Hub layout (open_clip_config.json + weights), loaded with ``local-dir:``."""
    try:
        import open_clip
    except ImportError as exc:
        raise ConfigError(f"model {ctx.name!r} needs open_clip: pip install 'mmeb[openclip]'") from exc
    from mmeb.models.openclip import OpenCLIPEmbedder

    source = f"local-dir:{Path(directory).resolve()}"
    try:
        model, preprocess = open_clip.create_model_from_pretrained(source)
    except Exception as exc:  # noqa: BLE001 - as load_hf: a damaged file fails anywhere in the loader
        if not _is_file_error(exc):
            raise
        raise damaged_weights(directory, exc) from None
    tokenizer = open_clip.get_tokenizer(source)
    return OpenCLIPEmbedder(model, preprocess, tokenizer, name=ctx.name, revision=ctx.revision,
                            metadata=ctx.metadata, device=ctx.device,
                            dtype=runtime_dtype(ctx.device, ctx.dtype, settings.get("dtype")),
                            gpu_dtype=settings.get("dtype"),
                            recipe_variant=settings["recipe"], **_set(settings, "recipe", "dtype",
                                                                      "attn_implementation"))


def build_sentence_transformer(source: Path | str, settings: dict[str, Any], ctx: LoadContext):
    from mmeb.models.sentence_transformers import load_sentence_transformer

    return load_sentence_transformer(str(source), revision=ctx.revision, device=ctx.device, dtype=ctx.dtype,
                                     trust_remote_code=ctx.trust_remote_code,
                                     settings=_set(settings, "recipe", "dtype", "attn_implementation"))

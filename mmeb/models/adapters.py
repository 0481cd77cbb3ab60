"""The adapter table: every model adapter registered once - its builder, the checkpoint ``model_type``\\ s it
serves, the folder layout it loads, the settings it accepts (with defaults) and its recipe variants.

Registry entries (:mod:`mmeb.models.registry`) name an adapter of this table; a checkpoint folder without an
entry gets the first adapter serving its ``model_type``. Every adapter refuses unknown settings the same way,
through :func:`check_settings`. Adding an adapter is one :func:`register` line here; its builder lives in its
own module and is imported on first use, so this table stays light (``mmeb models`` never imports torch).

A builder is ``build(source, settings, ctx) -> model``: ``source`` is the local folder (or the spec string for
adapters that resolve their own, e.g. ``st:`` and ``mteb:``), ``settings`` the checked settings merged over the
defaults (``settings["recipe"]`` is the recipe variant: ``"default"`` or ``"native"``), ``ctx`` a
:class:`LoadContext`. Defaults of ``None`` mean "the checkpoint's or the recipe's own value"; builders pass
only set values on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from mmeb.errors import ConfigError, suggest

Layout = Literal["transformers", "open_clip", "sentence_transformers", "none"]
RECIPES = ("default", "native")
#: accepted by every adapter: dtype on a GPU (None = bf16; the adapter table sets the official recipe's where
#: it differs: E5-V fp16, GME per variant, CLIP / SigLIP / OpenCLIP fp32), attention kernel, recipe variant
COMMON_SETTINGS: dict[str, Any] = {"dtype": None, "attn_implementation": None}


@dataclass(frozen=True)
class Adapter:
    name: str
    builder: str  # "module:function", imported on first use
    model_types: tuple[str, ...] = ()  # config.json model_type values this adapter can load
    settings: Mapping[str, Any] = field(default_factory=dict)  # accepted settings -> default
    recipes: tuple[str, ...] = ("default",)  # variants it implements; the first is its default
    layout: Layout = "transformers"  # the files a weights folder must hold

    def accepted(self) -> dict[str, Any]:
        return {**COMMON_SETTINGS, **self.settings, "recipe": self.recipes[0]}

    def build_function(self) -> Callable[..., Any]:
        module, _, attr = self.builder.partition(":")
        return getattr(importlib.import_module(module), attr)


@dataclass
class LoadContext:
    """Who the model is and where it runs: handed to every builder."""

    name: str
    revision: str | None
    device: str
    dtype: str | None = None
    trust_remote_code: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    base_model: str | None = None


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    if adapter.name in ADAPTERS:
        raise ValueError(f"adapter {adapter.name!r} registered twice")
    unknown = set(adapter.recipes) - set(RECIPES)
    if unknown or not adapter.recipes:
        raise ValueError(f"adapter {adapter.name!r}: recipes must be among {RECIPES}, got {adapter.recipes}")
    ADAPTERS[adapter.name] = adapter
    return adapter


_TWO_TOWER = {"max_length": None, "normalize": True}
# the paper's baseline scripts (VLM2Vec@b1dc1e6 eval_clip / eval_siglip / eval_openclip.py) load fp32, no autocast;
# eval_blip.py's LAVIS model keeps the Q-Former fp32 (its frozen ViT-g runs fp16 under autocast: not reproduced)
_FP32_BASELINE = {**_TWO_TOWER, "dtype": "float32"}
_VLM2VEC = {  # None = the checkpoint's mmeb_model.json, else the backbone's VLM2Vec default
    "backbone": None, "image_token": None, "padding_side": None, "normalize": None, "orphan_image_token": None,
    "image_resize": None, "small_image_resize": None, "min_pixels": None, "max_pixels": None, "num_crops": None,
    "max_length": None,
}

# order matters for bare checkpoint folders: the first adapter serving a model_type is its default
register(Adapter("vlm2vec", "mmeb.models.builders:build_vlm2vec", ("qwen2_vl", "llava_next", "phi3_v"), _VLM2VEC))
register(Adapter("clip", "mmeb.models.builders:build_two_tower", ("clip",), _FP32_BASELINE, recipes=RECIPES))
register(Adapter("siglip", "mmeb.models.builders:build_two_tower", ("siglip",), _FP32_BASELINE, recipes=RECIPES))
register(Adapter("blip", "mmeb.models.builders:build_two_tower", ("blip",), _TWO_TOWER, recipes=("native",)))
register(Adapter("blip2", "mmeb.models.builders:build_two_tower", ("blip-2",), _FP32_BASELINE, recipes=RECIPES))
register(Adapter("e5v", "mmeb.models.builders:build_instructed_vlm", ("llava_next",),
                 {"max_length": None, "image_resize": None, "dtype": "float16"}))
register(Adapter("gme", "mmeb.models.builders:build_instructed_vlm", ("qwen2_vl",),
                 {"max_length": 1800, "min_pixels": None, "max_pixels": None},  # dtype: per variant (GMEEmbedder)
                 recipes=("default", "native")))
register(Adapter("openclip", "mmeb.models.builders:build_openclip", (), {"normalize": True, "dtype": "float32"},
                 recipes=RECIPES, layout="open_clip"))
register(Adapter("sentence_transformers", "mmeb.models.builders:build_sentence_transformer", (),
                 {"normalize": True, "prompt_name": None, "batch_size": 32}, layout="sentence_transformers"))
register(Adapter("mteb", "mmeb.models.mteb:build_mteb", (), {"batch_size": 32, "model_args": None},
                 layout="none"))


def get_adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise suggest(name, ADAPTERS, "adapter") from None


def adapter_for_model_type(model_type: str, where: str) -> Adapter:
    """The default adapter of a bare checkpoint folder, by its ``config.json`` model_type."""
    for adapter in ADAPTERS.values():
        if model_type in adapter.model_types:
            return adapter
    served = sorted({t for a in ADAPTERS.values() for t in a.model_types})
    raise ConfigError(f"{where}: model_type {model_type!r} has no mmeb adapter; supported: {', '.join(served)}. "
                      "Wrap it as a plug-in (file.py:Class) instead.")


def check_settings(adapter: Adapter | str, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The one refusal of unknown settings: returns the settings merged over the adapter's defaults."""
    adapter = get_adapter(adapter) if isinstance(adapter, str) else adapter
    accepted = adapter.accepted()
    for key in settings:
        if key not in accepted:
            hint = suggest(key, accepted, "setting")
            raise ConfigError(f"{where}: {hint} The {adapter.name} adapter accepts: {', '.join(sorted(accepted))}")
    for key, value in settings.items():
        check_value(key, value, where)
    merged = {**accepted, **settings}
    merged["recipe"] = resolve_recipe(adapter, merged["recipe"], where)
    return merged


_POSITIVE_INTS = ("max_length", "min_pixels", "max_pixels", "num_crops", "batch_size")
_SIZES = {"image_resize": "[width, height]", "small_image_resize": "[min_side, width, height]"}


def check_value(key: str, value: Any, where: str) -> None:
    """The shared settings' types (a truthy string like "no" must not pass for ``normalize=True``)."""
    def positive(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v > 0

    if value is None:
        return
    if key in _POSITIVE_INTS and not positive(value):
        raise ConfigError(f"{where}: setting {key} must be a positive integer, got {value!r}")
    if key == "normalize" and not isinstance(value, bool):
        raise ConfigError(f"{where}: setting normalize must be true or false, got {value!r}")
    if key in _SIZES and not (isinstance(value, (list, tuple)) and len(value) == _SIZES[key].count(",") + 1
                              and all(positive(v) for v in value)):
        raise ConfigError(f"{where}: setting {key} must be {_SIZES[key]} in pixels, got {value!r}")
    if key == "dtype":
        from mmeb.models.runtime import check_dtype

        try:
            check_dtype(value)
        except ConfigError as exc:
            raise ConfigError(f"{where}: setting dtype {value!r} is invalid ({exc})") from None


def resolve_recipe(adapter: Adapter, recipe: str | None, where: str) -> str:
    """``"default"`` is the adapter's first variant (``native`` for a model without a published row)."""
    variant = adapter.recipes[0] if recipe in (None, "default") else recipe
    check_recipe(adapter, variant, where)
    return variant


def check_recipe(adapter: Adapter, recipe: str, where: str) -> None:
    if recipe not in RECIPES:
        raise ConfigError(f"{where}: unknown recipe {recipe!r}; use one of {', '.join(RECIPES)}")
    if recipe not in adapter.recipes:
        natives = sorted(a.name for a in ADAPTERS.values() if "native" in a.recipes)
        raise ConfigError(f"{where} has no {recipe!r} recipe variant (its {adapter.recipes[0]} recipe is the official "
                          f"one); drop --recipe {recipe}. Adapters with a native variant: "
                          f"{', '.join(natives) or 'none yet'}")


def build(adapter: Adapter, source: Path | str, settings: dict[str, Any], ctx: LoadContext):
    return adapter.build_function()(source, settings, ctx)

"""The VLM2Vec recipe (Phi-3.5-V, LLaVA-NeXT, Qwen2-VL backbones; also what `mmeb train` writes).

Input: the MMEB string exactly as stored, no chat template, no system prompt, with ``<|image_1|>``
swapped for the backbone's image token. Representation: last non-pad token of the base model's final
(post-norm) hidden state, L2-normalised. The recipe of a checkpoint directory lives in its
``mmeb_model.json`` (docs/checkpoint-format.md), parsed by :class:`VLM2VecRecipe`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.errors import ConfigError, DataError
from mmeb.models.vlm import VLMEmbedder

Backbone = Literal["qwen2_vl", "llava_next", "phi3_v"]
RECIPE_FILE = "mmeb_model.json"
V2_IMAGE_TOKEN = "<|image_pad|>"

#: per backbone: (image token, padding side) as the released VLM2Vec code used them
BACKBONE_DEFAULTS: dict[str, dict[str, Any]] = {
    "phi3_v": {"image_token": "<|image_1|>", "padding_side": "right", "num_crops": 4},
    "llava_next": {"image_token": "<image>", "padding_side": "left"},
    "qwen2_vl": {"image_token": "<|image_pad|>", "padding_side": "left"},
}


class VLM2VecRecipe(BaseModel):
    """``mmeb_model.json``: every setting the VLM2Vec adapter needs to reproduce an embedding."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["vlm2vec"] = "vlm2vec"
    format_version: Literal[1] = 1
    backbone: Backbone
    image_token: str
    padding_side: Literal["left", "right"]
    pooling: Literal["last"] = "last"
    normalize: bool = True
    input_format: Literal["raw"] = "raw"
    # WebQA / EDIS carry the placeholder on text-only items. The official evals swap it for the backbone's
    # image token all the same ("swap": one ordinary token, no image); "drop" removes it; "keep_as_text"
    # leaves the literal <|image_1|> (what Phi-3.5-V, whose image token it is, reads as text).
    orphan_image_token: Literal["swap", "keep_as_text", "drop"] = "swap"
    image_resize: list[int] | None = None  # [w, h] resize in the file's mode before the processor (v1: 1344)
    # [min_side, w, h]: an image with a side under min_side px is resized to w x h in the file's mode
    # (VLM2Vec-V2's Qwen2_VL_process_fn: [28, 56, 56])
    small_image_resize: list[int] | None = None
    min_pixels: int | None = None  # Qwen2-VL pixel caps; None = the saved processor's
    max_pixels: int | None = None
    num_crops: int | None = None  # Phi-3.5-V processor crops (4 at eval)
    max_length: int | None = None  # token truncation; None = none (the v1 eval strings are short)
    dtype: str | None = "bfloat16"
    base_model: str | None = None
    base_revision: str | None = None
    lora: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    mmeb_version: str | None = None

    @classmethod
    def for_backbone(cls, backbone: str, **fields: Any) -> "VLM2VecRecipe":
        defaults = dict(BACKBONE_DEFAULTS[backbone])
        defaults.update(fields)
        return cls(backbone=backbone, **defaults)

    @classmethod
    def load(cls, directory: str | Path) -> "VLM2VecRecipe":
        path = Path(directory) / RECIPE_FILE
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path} is not a valid mmeb checkpoint recipe ({exc}); "
                              "see docs/checkpoint-format.md") from exc

    def save(self, directory: str | Path) -> Path:
        from mmeb._version import __version__

        data = self.model_dump()
        data["mmeb_version"] = data["mmeb_version"] or __version__
        path = Path(directory) / RECIPE_FILE
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path


def format_vlm2vec(raw_text: str, has_image: bool, *, image_token: str, orphan_image_token: str = "swap") -> str:
    """The model-input string: the stored MMEB string, no chat template, with the placeholder swapped for the
    backbone's image token (``src/dataset.py`` ``EvalDataset.__getitem__`` swaps unconditionally)."""
    if has_image:
        # MMEB-V1 stores <|image_1|>; MMEB-V2's official strings already carry Qwen2-VL's <|image_pad|>
        placeholder = next((p for p in (IMAGE_PLACEHOLDER, V2_IMAGE_TOKEN) if p in raw_text), None)
        if placeholder is None:
            raise DataError(f"item has an image but its text has no {IMAGE_PLACEHOLDER} placeholder: {raw_text[:80]!r}")
        return raw_text.replace(placeholder, image_token)
    if orphan_image_token == "swap":
        return raw_text.replace(IMAGE_PLACEHOLDER, image_token)
    if orphan_image_token == "drop":
        return raw_text.replace(IMAGE_PLACEHOLDER, "")
    return raw_text


def prepare_image(image, recipe: VLM2VecRecipe):
    """The image the processor gets, in the official order: the resize in the file's own mode (PIL's default
    filter: bicubic, nearest for palette images, premultiplied alpha for RGBA), then a plain RGB conversion."""
    if recipe.image_resize:
        image = image.resize(tuple(recipe.image_resize))
    elif recipe.small_image_resize:
        side, width, height = recipe.small_image_resize
        if image.width < side or image.height < side:
            image = image.resize((width, height))
    image = image.convert("RGB")
    if recipe.backbone == "qwen2_vl" and recipe.min_pixels and recipe.max_pixels:
        image = square_extreme_aspect(image, recipe.min_pixels, recipe.max_pixels)
    return image


def square_extreme_aspect(image, min_pixels: int, max_pixels: int, factor: int = 28):
    """VLM2Vec-V2's vendored Qwen2-VL processor sizes an image whose aspect ratio is over 200 as a square of its
    long side (``smart_resize``; transformers 5 raises instead): the RGB image resized (bicubic) to that square,
    which the processor then keeps as it is."""
    from PIL import Image

    from mmeb.models.vlm import qwen_smart_resize

    if max(image.size) / min(image.size) <= 200:
        return image
    height, width = qwen_smart_resize(image.height, image.width, min_pixels, max_pixels, factor)
    return image.resize((width, height), Image.Resampling.BICUBIC)


class VLM2VecEmbedder(VLMEmbedder):
    """VLM2Vec on any supported backbone; the recipe decides everything recipe-specific."""

    def __init__(self, model, processor, recipe: VLM2VecRecipe, **kwargs: Any):
        self.recipe = recipe
        check_backbone(model, recipe.backbone, kwargs.get("name", "model"))
        super().__init__(model, processor, padding_side=recipe.padding_side, normalize=recipe.normalize,
                         min_pixels=recipe.min_pixels, max_pixels=recipe.max_pixels, max_length=recipe.max_length,
                         backbone=recipe.backbone, **kwargs)

    def format(self, inp, *, task_name: str, role: str) -> str:
        has_image = inp.image is not None and not isinstance(inp.image, tuple)  # a tuple: a video's frames
        return format_vlm2vec(inp.raw_text, has_image, image_token=self.recipe.image_token,
                              orphan_image_token=self.recipe.orphan_image_token)

    def image_for(self, image):
        return prepare_image(image, self.recipe)

    def prepare(self, inputs, **context):
        # VLM2Vec-V2 (Qwen2-VL, no pre-resize): a video's frames as one video, each frame plain RGB (the <28 px
        # rule is for images only); the v1 recipes' video handling is not reproduced (refused in the core)
        if self.recipe.backbone == "qwen2_vl" and not self.recipe.image_resize:
            from dataclasses import replace

            inputs = [replace(x, image=tuple(f.convert("RGB") for f in x.frames), frames=None) if x.frames else x
                      for x in inputs]
        return super().prepare(inputs, **context)

    def recipe_settings(self) -> dict[str, Any]:
        r = self.recipe
        return {
            "adapter": "vlm2vec", "backbone": r.backbone, "input_format": "raw MMEB string, no chat template",
            "instruction_placement": "as stored (prefix of the query / candidate string)",
            "image_token": r.image_token, "orphan_image_token": r.orphan_image_token, "num_crops": r.num_crops,
            "image_resize": r.image_resize, "small_image_resize": r.small_image_resize,
            "image_order": "resize in the file's mode, then convert('RGB')", "lora": r.lora,
            "base_model": r.base_model,
        }


def check_backbone(model, backbone: str, name: str) -> None:
    """Weights of another architecture than the recipe's backbone: one clear error."""
    found = getattr(getattr(model, "config", None), "model_type", None)
    if found is not None and found != backbone and backbone != "phi3_v":
        raise ConfigError(f"{name}: the recipe needs {backbone} weights, but the checkpoint's config.json says "
                          f"model_type {found!r}. Point --weights at a {backbone} checkpoint or pick the model "
                          "whose recipe fits these weights (`mmeb models`).")


class Phi3VEmbedder(VLM2VecEmbedder):
    """Phi-3.5-V (remote code): processed one item per call, right padding, the string unchanged."""

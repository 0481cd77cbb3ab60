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
    # WebQA / EDIS carry the placeholder on text-only items; the official v1 eval fed it to the
    # model as plain text ("keep_as_text"); "drop" removes it.
    orphan_image_token: Literal["keep_as_text", "drop"] = "keep_as_text"
    image_resize: list[int] | None = None  # [w, h] square resize before the processor (LLaVA 1344 / 336)
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


def format_vlm2vec(raw_text: str, has_image: bool, *, image_token: str, orphan_image_token: str) -> str:
    """The model-input string: the stored MMEB string with the placeholder swapped for the backbone's
    image token when the item has an image; without an image it stays as text or is dropped."""
    if has_image:
        if IMAGE_PLACEHOLDER not in raw_text:
            raise DataError(f"item has an image but its text has no {IMAGE_PLACEHOLDER} placeholder: {raw_text[:80]!r}")
        return raw_text.replace(IMAGE_PLACEHOLDER, image_token)
    if orphan_image_token == "drop":
        return raw_text.replace(IMAGE_PLACEHOLDER, "")
    return raw_text


class VLM2VecEmbedder(VLMEmbedder):
    """VLM2Vec on any supported backbone; the recipe decides everything recipe-specific."""

    def __init__(self, model, processor, recipe: VLM2VecRecipe, **kwargs: Any):
        self.recipe = recipe
        super().__init__(model, processor, padding_side=recipe.padding_side, normalize=recipe.normalize,
                         image_resize=recipe.image_resize, min_pixels=recipe.min_pixels,
                         max_pixels=recipe.max_pixels, max_length=recipe.max_length, **kwargs)

    def format(self, inp, *, task_name: str, role: str) -> str:
        return format_vlm2vec(inp.raw_text, inp.image is not None, image_token=self.recipe.image_token,
                              orphan_image_token=self.recipe.orphan_image_token)

    def recipe_settings(self) -> dict[str, Any]:
        r = self.recipe
        return {
            "adapter": "vlm2vec", "backbone": r.backbone, "input_format": "raw MMEB string, no chat template",
            "instruction_placement": "as stored (prefix of the query / candidate string)",
            "image_token": r.image_token, "orphan_image_token": r.orphan_image_token, "num_crops": r.num_crops,
            "lora": r.lora, "base_model": r.base_model,
        }


class Phi3VEmbedder(VLM2VecEmbedder):
    """Phi-3.5-V (remote code). Its processor numbers image tags per prompt, so - like the reference
    collator - each item is processed alone and the batch is padded here (right padding)."""

    def _process(self, texts: list[str], images: list) -> dict:
        import torch

        pad_id = self.processor.tokenizer.pad_token_id
        rows, pixels, sizes = [], [], []
        for text, image in zip(texts, images):
            kwargs = {"return_tensors": "pt"}
            if self.max_length:
                kwargs.update(truncation=True, max_length=self.max_length)
            # images=None: an orphan <|image_1|> (WebQA, EDIS) is tokenised as plain text, as in v1
            out = self.processor(text, [image] if image is not None else None, **kwargs)
            rows.append(out["input_ids"][0])
            if image is not None:
                pixels.append(out["pixel_values"])
                sizes.append(out["image_sizes"])
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=rows[0].dtype)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            span = slice(0, len(row)) if self.padding_side == "right" else slice(width - len(row), width)
            ids[i, span], mask[i, span] = row, 1
        batch = {"input_ids": ids, "attention_mask": mask}
        if pixels:
            batch.update(pixel_values=torch.cat(pixels), image_sizes=torch.cat(sizes))
        return batch

"""GME (Alibaba-NLP/gme-Qwen2-VL-2B/7B-Instruct): Qwen2-VL with the task instruction as the system turn.

Queries get the task instruction (a period appended if missing); candidates the default system turn.
The vision block appears only when the item has an image. Last token (``<|endoftext|>``, left padding),
L2-normalised; image budget 256..1280 tokens of 28x28 px; max_length 1800; fp16 on GPU.
"""

from __future__ import annotations

from typing import Any

from mmeb.models.protocol import ModelInput
from mmeb.models.vlm import VLMEmbedder

DEFAULT_INSTRUCTION = "You are a helpful assistant."
VISION_BLOCK = "<|vision_start|><|image_pad|><|vision_end|>"


def gme_instruction(inp: ModelInput, role: str) -> str:
    instruction = inp.instruction.strip() if role == "query" else ""
    if not instruction:
        return DEFAULT_INSTRUCTION
    # the official code checks for a trailing period only (so "question:" becomes "question:.")
    return instruction if instruction.endswith(".") else instruction + "."


def format_gme(inp: ModelInput, role: str) -> str:
    vision = VISION_BLOCK if inp.image is not None else ""
    return (f"<|im_start|>system\n{gme_instruction(inp, role)}<|im_end|>\n"
            f"<|im_start|>user\n{vision}{inp.text}<|im_end|>\n<|im_start|>assistant\n<|endoftext|>")


class GMEEmbedder(VLMEmbedder):
    OVERRIDABLE = ("max_length", "min_pixels", "max_pixels")

    def __init__(self, model, processor, *, max_length: int = 1800, min_pixels: int = 256 * 28 * 28,
                 max_pixels: int = 1280 * 28 * 28, **kwargs: Any):
        super().__init__(model, processor, padding_side="left", normalize=True, max_length=max_length,
                         min_pixels=min_pixels, max_pixels=max_pixels, **kwargs)

    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:
        return format_gme(inp, role)

    def recipe_settings(self) -> dict[str, Any]:
        return {"adapter": "gme", "input_format": "Qwen2-VL chat turns, vision block only with an image",
                "instruction_placement": "query: system turn (period appended); candidate: default system turn",
                "default_instruction": DEFAULT_INSTRUCTION, "image_token": "<|image_pad|>"}

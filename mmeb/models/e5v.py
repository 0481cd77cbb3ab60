"""E5-V (royokong/e5-v, LLaVA-NeXT on Llama-3 8B): fixed one-word-summary prompts in its Llama-3 template.

The paper's E5-V row (13.3 overall) used these fixed prompts and ignored task instructions; the
image+text prompt is the VLM2Vec extension. Last token (left padding), L2-normalised, fp16 on GPU.
"""

from __future__ import annotations

from typing import Any

from mmeb.models.protocol import ModelInput
from mmeb.models.vlm import VLMEmbedder

LLAMA3_TEMPLATE = ("<|start_header_id|>user<|end_header_id|>\n\n{X}<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n \n")
IMAGE_PROMPT = "<image>\nSummary above image in one word: "
TEXT_PROMPT = "{text}\nSummary above sentence in one word: "
IMAGE_TEXT_PROMPT = "<image>\n{text}\nSummary above image and text in one word: "


def format_e5v(inp: ModelInput) -> str:
    if inp.image is not None and inp.text:
        x = IMAGE_TEXT_PROMPT.format(text=inp.text)
    elif inp.image is not None:
        x = IMAGE_PROMPT
    else:
        x = TEXT_PROMPT.format(text=inp.text)
    return LLAMA3_TEMPLATE.format(X=x)


class E5VEmbedder(VLMEmbedder):
    OVERRIDABLE = ("max_length", "image_resize")

    def __init__(self, model, processor, **kwargs: Any):
        super().__init__(model, processor, padding_side="left", normalize=True, **kwargs)

    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:
        return format_e5v(inp)

    def recipe_settings(self) -> dict[str, Any]:
        return {"adapter": "e5v", "input_format": "Llama-3 template + one-word-summary prompt per modality",
                "instruction_placement": "ignored (fixed prompts, as the paper's E5-V row)",
                "image_text_prompt": "VLM2Vec extension", "image_token": "<image>"}

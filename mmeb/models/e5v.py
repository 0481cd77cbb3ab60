"""E5-V (royokong/e5-v, LLaVA-NeXT on Llama-3 8B): fixed one-word-summary prompts in its Llama-3 template.

Prompts from ``kongds/E5-V@bcefe73 README.md``; the image+text prompt is the VLM2Vec extension
(``VLM2Vec@main src/model/processor.py e5_v_prompt_template``). The paper's E5-V row (13.3 overall) ignored
task instructions. The image goes to the processor as opened (plain RGB conversion, no pre-resize); anyres
patches are padded as transformers <= 4.46 did (:mod:`mmeb.models.vlm`). Last token of the post-norm final
state (left padding), 1-D positions, L2-normalised, fp16 on GPU.
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

    def __init__(self, model, processor, *, image_resize: list[int] | None = None, **kwargs: Any):
        from mmeb.models.vlm2vec import check_backbone

        check_backbone(model, "llava_next", kwargs.get("name", "e5-v"))
        self.image_resize = list(image_resize) if image_resize else None
        super().__init__(model, processor, padding_side="left", normalize=True, **kwargs)

    def image_for(self, image):
        if self.image_resize:  # an explicit override; the E5-V recipe itself does not resize
            image = image.resize(tuple(self.image_resize))
        return image.convert("RGB")

    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:
        return format_e5v(inp)

    def recipe_settings(self) -> dict[str, Any]:
        return {"adapter": "e5v", "input_format": "Llama-3 template + one-word-summary prompt per modality",
                "instruction_placement": "ignored (fixed prompts, as the paper's E5-V row)",
                "image_text_prompt": "VLM2Vec extension", "image_token": "<image>",
                "image_resize": self.image_resize, "anyres_padding": "transformers <= 4.46: (target - new) // 2 per side"}

"""GME (Alibaba-NLP/gme-Qwen2-VL-2B/7B-Instruct) on core Qwen2-VL, in its two recipes.

``default`` - the code behind the GME MMEB rows we ship: the VLM2Vec V2 evaluation with backbone ``gme``
(``VLM2Vec@main`` ``src/data/eval_dataset/image_*.py``, ``src/model/processor.py``, ``src/model/model.py``,
``src/model/baseline_backbone/gme/gme_inference.py``). The system turn is always the default; the user text is
what the V2 image parser of the task builds from the instruction and the payload (:func:`v2_user_text`); the
processor caps are V2's ``resize_min_pixels`` / ``resize_max_pixels`` (4..1280 image tokens).

``native`` - the model card's ``gme_inference.py`` usage: the query's task instruction verbatim as the system
turn (candidates: the default), the payload alone as the user text, caps 256..1280 image tokens.

A video (``ModelInput.frames``) is its middle frame, as the V2 evaluation fed GME. Both: ``fetch_image`` (plain RGB, then a smart resize to multiples of 28 within 4..16384 tokens, bicubic),
the processor's own smart resize within the caps, ``max_length`` 1800, vision features scattered into the
``<|image_pad|>`` embeddings, plain 1-D positions (``position_ids=None`` there), last token, L2-normalised.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from mmeb.models.protocol import ModelInput
from mmeb.models.vlm import VLMEmbedder
from mmeb.models.vlm2vec import check_backbone

DEFAULT_INSTRUCTION = "You are a helpful assistant."
VISION_BLOCK = "<|vision_start|><|image_pad|><|vision_end|>"
#: (min_pixels, max_pixels) of the image processor per recipe variant
CAPS = {"default": (4 * 28 * 28, 1280 * 28 * 28), "native": (256 * 28 * 28, 1280 * 28 * 28)}
#: gme_inference.py fetch_image bounds (qwen_vl_utils): 4..16384 tokens of 28x28 px, aspect ratio <= 200
FETCH_MIN_PIXELS, FETCH_MAX_PIXELS, FETCH_MAX_RATIO = 4 * 28 * 28, 16384 * 28 * 28, 200

IMAGE_PARSERS = ("image_cls", "image_i2t", "image_qa", "image_t2i", "image_i2i_vg")


def v2_parser(task_name: str) -> str | None:
    """The V2 parser of a task: its metadata's declared ``parser`` (MMEB-V2 tasks), else, for an MMEB-V1 task,
    the image parser ``experiments/public/eval/image.yaml`` gives it, from the metadata: classification -> cls,
    VQA -> qa, grounding -> i2i_vg; retrieval by modality (text query -> t2i, text targets -> i2t, else
    i2i_vg). None for a task mmeb does not know."""
    try:
        from mmeb.tasks import get_task

        meta = get_task(task_name).metadata
    except Exception:  # plug-in / ad-hoc task names: fall back to the item's own shape
        return None
    declared = getattr(meta, "parser", None)
    if declared:
        return declared
    if meta.meta_task == "classification":
        return "image_cls"
    if meta.meta_task == "vqa":
        return "image_qa"
    if meta.meta_task == "grounding":
        return "image_i2i_vg"
    if meta.query_modality == "text":
        return "image_t2i"
    return "image_i2t" if meta.target_modality == "text" else "image_i2i_vg"


def _fixed(s: str) -> str:
    return s.replace(" \n", "\n")


def v2_user_text(inp: ModelInput, role: str, parser: str | None) -> str:
    """The user text the V2 parsers build for GME, after ``encode_input`` deletes ``<|image_pad|>\\n``.

    ``process_input_text`` for GME returns ``instruction + " " + payload`` (``instruction + " "`` without a
    payload) and adds no image token; the image parsers delete the placeholder from the stored instruction
    (its ``\\n`` stays) and end with the ``" \\n" -> "\\n"`` fix and a final ``\\n``."""
    instruction, text = inp.instruction, inp.text
    visual = inp.image is not None or inp.frames is not None
    if parser is not None and parser not in IMAGE_PARSERS:  # video / visual-document parsers: no fixes
        if role == "candidate" and not visual and not instruction:
            return inp.raw_text  # labels and answer options, as stored
        return f"{instruction} {text}" if text else f"{instruction} "
    if not instruction:  # an unsplit string (paraphrased instruction): the whole payload stands for it
        instruction, text = text, ""
    if role == "query":
        if parser is None:
            parser = "image_cls" if inp.image is not None else "image_t2i"
        if parser == "image_t2i":  # the orphan placeholder (WebQA, EDIS) is deleted with its newline
            tail = "\n\n" if inp.raw_text.endswith("\n\n") else "\n"  # VisDial keeps its second newline
            return f"{instruction} {text}{tail}"
        body = "\n" + instruction + (" " + text if text else " ")
        return _fixed(body) + "\n"
    if inp.image is None:  # text candidates (labels, answers, captions): the stored string, unchanged
        return inp.raw_text
    body = "\n" + instruction + " " + (text + " " if text else "")
    final = "" if parser == "image_i2i_vg" and not text else "\n"
    return _fixed(body) + final


def format_gme(inp: ModelInput, role: str, *, recipe: str = "default", task_name: str = "") -> str:
    vision = VISION_BLOCK if inp.image is not None or inp.frames is not None else ""
    if recipe == "native":
        system = inp.instruction if role == "query" and inp.instruction else DEFAULT_INSTRUCTION
        user = inp.text
    else:
        system, user = DEFAULT_INSTRUCTION, v2_user_text(inp, role, v2_parser(task_name))
    return (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{vision}{user}<|im_end|>\n"
            f"<|im_start|>assistant\n<|endoftext|>")


def middle_frame(frames):
    return frames[len(frames) // 2]


def fetch_image(image):
    """``gme_inference.py`` ``fetch_image``: plain RGB, then resize to multiples of 28 within its bounds."""
    image = image.convert("RGB")
    height, width = fetch_size(image.height, image.width)
    return image.resize((width, height))


def fetch_size(height: int, width: int, factor: int = 28) -> tuple[int, int]:
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > FETCH_MAX_PIXELS:
        beta = math.sqrt(height * width / FETCH_MAX_PIXELS)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < FETCH_MIN_PIXELS:
        beta = math.sqrt(FETCH_MIN_PIXELS / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    if max(h_bar, w_bar) / min(h_bar, w_bar) > FETCH_MAX_RATIO:
        if h_bar > w_bar:
            h_bar = w_bar * FETCH_MAX_RATIO
        else:
            w_bar = h_bar * FETCH_MAX_RATIO
    return h_bar, w_bar


class GMEEmbedder(VLMEmbedder):
    OVERRIDABLE = ("max_length", "min_pixels", "max_pixels")
    #: GPU weights dtype per variant: the V2 eval's GmeQwen2VL loads bf16, the model card's gme_inference.py fp16
    RECIPE_DTYPES = {"default": "bfloat16", "native": "float16"}

    def __init__(self, model, processor, *, max_length: int | None = 1800, min_pixels: int | None = None,
                 max_pixels: int | None = None, recipe_variant: str = "default", **kwargs: Any):
        check_backbone(model, "qwen2_vl", kwargs.get("name", "gme"))
        default_min, default_max = CAPS[recipe_variant]
        super().__init__(model, processor, padding_side="left" if recipe_variant == "default" else "right",
                         normalize=True, max_length=max_length if max_length is not None else 1800,
                         min_pixels=min_pixels or default_min, max_pixels=max_pixels or default_max,
                         recipe_variant=recipe_variant, **kwargs)

    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:
        return format_gme(inp, role, recipe=self.recipe_variant, task_name=task_name)

    def prepare(self, inputs: list[ModelInput], **context: Any) -> dict:
        # a video is its middle frame (VLM2Vec@main src/model/model.py encode_input: frames[len // 2])
        inputs = [replace(x, image=middle_frame(x.frames), frames=None) if x.frames else x for x in inputs]
        return super().prepare(inputs, **context)

    def image_for(self, image):
        return fetch_image(image)

    def recipe_settings(self) -> dict[str, Any]:
        default = self.recipe_variant == "default"
        return {"adapter": "gme", "input_format": "Qwen2-VL chat turns, vision block only with an image",
                "source": "VLM2Vec V2 eval, backbone gme" if default else "gme_inference.py (model card)",
                "instruction_placement": ("user text as the V2 image parser builds it; default system turn"
                                          if default else "query: system turn verbatim; candidate: default"),
                "default_instruction": DEFAULT_INSTRUCTION, "image_token": "<|image_pad|>",
                "image_fetch": "convert('RGB'), smart resize to multiples of 28 (4..16384 tokens), bicubic"}

"""The VLM2Vec encoder as a sentence-transformers input module, with *late* processing.

The collator (``collate.py``) hands each column over as raw inputs (the MMEB string + encoded image
bytes) plus a tensor of row positions, stored under ``input_ids`` so that sentence-transformers
collects the column and GradCache slices it per chunk like any token tensor. Only here, per chunk,
are images decoded and the processor run: a 1024 batch of high-resolution images is never padded and
tensorised at once, and both GradCache passes see exactly the same inputs.

Representation (docs/checkpoint-format.md): the raw string with ``<|image_1|>`` swapped for the
backbone's image token (no chat template), the final post-norm hidden state of the base model at
the last non-pad token, L2-normalised. A ``None`` input (a row without a hard negative) embeds to
the zero vector, which :func:`masked_dot` turns into a logit of -inf: it takes no softmax mass.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from sentence_transformers.base.modules.input_module import InputModule

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.models.vlm import base_model_of, last_token_pool
from mmeb.models.vlm2vec import VLM2VecRecipe, format_vlm2vec


@dataclass(frozen=True, slots=True)
class RawInput:
    """One side of a training pair as stored: the MMEB string and the image (bytes or PIL), if any."""

    text: str
    image: Any = None  # bytes | PIL.Image.Image | None


#: LoRA targets per backbone (the official code's lists; for Qwen2-VL they touch only the language model)
LORA_TARGETS: dict[str, list[str]] = {
    "qwen2_vl": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "llava_next": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "phi3_v": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
}


def masked_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Similarity for the loss: dot product of the (already normalised) embeddings = cosine; a
    zero-vector column (an absent hard negative) gets -inf so it never enters the softmax."""
    scores = a @ b.T
    absent = b.abs().sum(dim=1) == 0
    return scores.masked_fill(absent[None, :], float("-inf")) if bool(absent.any()) else scores


class VLM2VecEncoder(InputModule):
    """Wraps a transformers VLM (``*ForConditionalGeneration``, possibly PEFT-wrapped) and its processor."""

    def __init__(self, model, processor, recipe: VLM2VecRecipe):
        super().__init__()
        self.model = model  # the module whose parameters train (peft.PeftModel or the VLM itself)
        self.processor = processor
        self.recipe = recipe  # the same recipe the evaluation adapter reads back from mmeb_model.json
        processor.tokenizer.padding_side = recipe.padding_side
        self.tokenizer = processor.tokenizer

    @property
    def modalities(self) -> list[str]:
        return ["text", "image"]

    @property
    def vlm(self):
        """The transformers VLM under any PEFT wrapper (its LoRA layers are injected in place)."""
        model = self.model
        return model.get_base_model() if hasattr(model, "get_base_model") else model

    # -- input side -------------------------------------------------------------------------------
    def preprocess(self, inputs, prompt: str | None = None, **kwargs) -> dict[str, Any]:
        """For ``SentenceTransformer.encode``: a str, a PIL image, or {"text", "image"} per input."""
        raws = []
        for item in inputs:
            if isinstance(item, RawInput) or item is None:
                raws.append(item)
            elif isinstance(item, str):
                raws.append(RawInput((prompt or "") + item))
            elif isinstance(item, dict):
                raws.append(RawInput((prompt or "") + item.get("text", ""), item.get("image")))
            else:  # a bare image: the placeholder stands for it
                raws.append(RawInput(IMAGE_PLACEHOLDER + "\n", item))
        return raw_features(raws)

    def _decode(self, image):
        from PIL import Image

        if isinstance(image, (bytes, bytearray)):
            image = Image.open(io.BytesIO(image))
        image = image.convert("RGB")
        if self.recipe.image_resize:  # square resize ignoring aspect ratio, bicubic as mmeb.models.vlm
            image = image.resize(tuple(self.recipe.image_resize), Image.Resampling.BICUBIC)
        return image

    def process(self, raws: list[RawInput]) -> dict[str, torch.Tensor]:
        r = self.recipe
        texts = [format_vlm2vec(x.text, x.image is not None, image_token=r.image_token,
                                orphan_image_token=r.orphan_image_token) for x in raws]
        images = [self._decode(r.image) for r in raws if r.image is not None]
        kwargs: dict[str, Any] = dict(text=texts, padding=True, return_tensors="pt")
        if images:
            kwargs["images"] = images
        if r.max_length:
            kwargs.update(truncation=True, max_length=r.max_length)
        out = self.processor(**kwargs)
        return {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}

    # -- forward -------------------------------------------------------------------------------------
    def embed(self, raws: list[RawInput]) -> torch.Tensor:
        param = next(self.model.parameters())
        # pixel values follow the weights' dtype (float64 in the exactness tests; bf16 autocast casts itself)
        batch = {k: v.to(param.device, dtype=param.dtype) if v.is_floating_point() else v.to(param.device)
                 for k, v in self.process(raws).items()}
        out = base_model_of(self.vlm)(**batch, use_cache=False, return_dict=True)
        pooled = last_token_pool(out.last_hidden_state, batch["attention_mask"])
        if pooled.dtype in (torch.float16, torch.bfloat16):  # the loss runs in at least float32
            pooled = pooled.float()
        return F.normalize(pooled, dim=-1)

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        raws = [features["inputs"][i] for i in features["input_ids"].tolist()]
        present = [i for i, r in enumerate(raws) if r is not None]
        if len(present) == len(raws):
            emb = self.embed(raws)
        else:
            dim = self.vlm.config.get_text_config().hidden_size
            device = next(self.model.parameters()).device
            if present:
                real = self.embed([raws[i] for i in present])
                emb = real.new_zeros(len(raws), dim).index_put((torch.tensor(present, device=device),), real)
            else:
                emb = torch.zeros(len(raws), dim, device=device)
        features["sentence_embedding"] = emb
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return self.vlm.config.get_text_config().hidden_size

    def save(self, output_path: str, *args, **kwargs) -> None:
        # The final checkpoint is written by mmeb.training.checkpoint (merged weights + mmeb_model.json);
        # Trainer checkpoints by MMEBTrainer._save. Saving this module on its own is not supported.
        raise NotImplementedError("use mmeb.training.checkpoint.export_checkpoint to save a trained VLM2Vec model")


def raw_features(raws: list[RawInput | None]) -> dict[str, Any]:
    """A column's features: ``input_ids`` holds row positions (sliced per GradCache chunk), ``inputs``
    the raw inputs (passed through whole)."""
    return {"input_ids": torch.arange(len(raws)), "inputs": list(raws)}

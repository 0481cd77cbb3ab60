"""A Phi-3.5-V stand-in (the real model is remote code only): its processor's call convention - one prompt
and its images per call, image tags expanded only when images are passed - over a tiny Llama, with
``Phi3VForCausalLM``'s shape (``.model`` base with ``pixel_values`` / ``image_sizes`` + ``.lm_head``).
Used to test the per-item path of :class:`mmeb.models.vlm.VLMInputs` for evaluation and training."""

from __future__ import annotations

import torch

from mmeb.testing.models import word_tokenizer


class StandInProcessor:
    """``processor(text, [image] or None)``; ``<|image_1|>`` becomes 3 image tokens only with an image."""

    def __init__(self):
        self.tokenizer = word_tokenizer(["image_1"], ["<|image|>"])
        self.calls: list[tuple[str, int | None]] = []

    def __call__(self, text, images=None, return_tensors="pt", **kwargs):
        self.calls.append((text, None if images is None else len(images)))
        if images:
            text = text.replace("<|image_1|>", "<|image|> " * 3)  # 3 image tokens per image
        out = self.tokenizer(text, return_tensors="pt")
        if images:
            out["pixel_values"] = torch.zeros(1, 5, 3, 8, 8)  # num_crops=4 + global
            out["image_sizes"] = torch.tensor([[images[0].height, images[0].width]])
        return out


class StandInPhiModel(torch.nn.Module):
    """Phi3VModel's forward signature over a tiny Llama (the vision path is not under test)."""

    def __init__(self, vocab_size: int, seed: int = 0):
        from transformers import LlamaConfig, LlamaModel

        super().__init__()
        torch.manual_seed(seed)
        self.llama = LlamaModel(LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37,
                                            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4))

    def forward(self, input_ids, attention_mask, pixel_values=None, image_sizes=None):
        return self.llama(input_ids=input_ids, attention_mask=attention_mask)


class StandInPhi(torch.nn.Module):
    """Phi3VForCausalLM's shape: ``.model`` (the base) + ``.lm_head``."""

    def __init__(self, vocab_size: int, seed: int = 0):
        super().__init__()
        self.model = StandInPhiModel(vocab_size, seed)
        self.lm_head = torch.nn.Identity()
        self.config = self.model.llama.config

    @property
    def dtype(self):
        return self.model.llama.dtype

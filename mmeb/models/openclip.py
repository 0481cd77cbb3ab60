"""OpenCLIP models (``open_clip``, optional extra ``mmeb[openclip]``) with the two-tower recipe."""

from __future__ import annotations

from typing import Any

from mmeb.models.two_tower import TwoTowerEmbedder


class OpenCLIPEmbedder(TwoTowerEmbedder):
    family = "openclip"

    def __init__(self, model, preprocess, tokenizer, **kwargs: Any):
        self.preprocess, self.tokenizer = preprocess, tokenizer
        super().__init__(model, None, **kwargs)

    def _default_max_length(self) -> int:
        return int(getattr(self.tokenizer, "context_length", 77))

    def prepare(self, inputs, *, task_name: str = "", role: str = "query", **_: Any) -> dict:
        import torch

        from mmeb.models.two_tower import tower_rows

        texts, batch = tower_rows(inputs)
        if texts:
            batch["input_ids"] = self.tokenizer(texts)  # pads/truncates to context_length
        if len(batch["image_rows"]):
            batch["pixel_values"] = torch.stack([self.preprocess(inputs[i].image.convert("RGB"))
                                                 for i in batch["image_rows"].tolist()])
        return batch

    def text_features(self, batch):
        return self.model.encode_text(batch["input_ids"])

    def image_features(self, pixel_values):
        return self.model.encode_image(pixel_values)

    @property
    def settings(self) -> dict[str, Any]:
        base = super().settings
        base["image_preprocess"] = str(self.preprocess)
        base["text_padding"] = "context_length (open_clip tokenizer)"
        return base

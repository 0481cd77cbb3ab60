"""OpenCLIP models (``open_clip``, optional extra ``mmeb[openclip]``), loaded from a resolved snapshot folder.

Default: VLM2Vec@b1dc1e6 ``evaluation/eval_openclip.py`` with ``src/collator.py`` ``OpenCLIPCollator``: the stored
string as is through ``open_clip.get_tokenizer`` (lower-case, whitespace collapsed, 77 tokens, zero padded),
``encode_text`` without a mask; images: the collator converts only mode L, the eval transform resizes and
centre-crops in the file's own mode before its own ``convert("RGB")``; image + text features summed.
Native: placeholder removed and string stripped; every image converted to RGB before the resize.
"""

from __future__ import annotations

from typing import Any

from mmeb.models.two_tower import TwoTowerEmbedder, rgb


class OpenCLIPEmbedder(TwoTowerEmbedder):
    family = "openclip"
    source = "VLM2Vec@b1dc1e6 evaluation/eval_openclip.py + src/collator.py OpenCLIPCollator"
    native_changes = "placeholder removed and string stripped; RGB before the resize"

    def __init__(self, model, preprocess, tokenizer, **kwargs: Any):
        self.preprocess, self.tokenizer = preprocess, tokenizer
        super().__init__(model, None, **kwargs)

    def _default_max_length(self) -> int:
        return int(getattr(self.tokenizer, "context_length", 77))

    @property
    def tower_normalize(self) -> bool:
        return False

    def tokenize(self, texts):
        return [(list(range(len(texts))), {"input_ids": self.tokenizer(texts)})]

    def pixels(self, images):
        import torch

        if self.native:
            images = [rgb(im) for im in images]
        else:  # OpenCLIPCollator converts mode L only; the transform converts the rest after resize + crop
            images = [im.convert("RGB") if im.mode == "L" else im for im in images]
        return torch.stack([self.preprocess(im) for im in images])

    def text_features(self, batch):
        return self.model.encode_text(batch["input_ids"])

    def image_features(self, pixel_values):
        return self.model.encode_image(pixel_values)

    def recipe_settings(self):
        return {
            "text_input": "stored string without the placeholder, stripped" if self.native
            else "stored string as is (open_clip tokenizer: lower-case, whitespace collapsed)",
            "text_padding": f"context_length {self.max_length}, zero padded (open_clip tokenizer)",
            "text_attention_mask": "none (encode_text)",
            "pooling": "encode_text / encode_image (projected)",
            "image_preprocess": {"rgb": "convert('RGB') before the resize" if self.native
                                 else "mode L converted first; others resized and cropped in their own mode, "
                                      "then convert('RGB')",
                                 "transform": str(self.preprocess)},
        }

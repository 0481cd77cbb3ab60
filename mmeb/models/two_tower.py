"""Two-tower models: CLIP, SigLIP, BLIP, BLIP-2 (OpenCLIP in openclip.py). Recipes: docs/models.md.

``default`` reproduces the paper's baseline code (VLM2Vec@b1dc1e6 ``evaluation/eval_{clip,siglip,blip}.py`` with
``src/collator.py`` / ``evaluation/collator.py``): the text tower reads the stored string as it is, placeholder and
newlines included; an item with an image and a text is the unnormalised sum of the two tower features, an item
with one input uses that tower alone. ``native`` is the model's own convention (placeholder removed, its own
padding / mask / projections, per-tower L2). BLIP ITM has no published row: its default is its native ITC path.
Scores are cosine by default (``normalize=True``: final L2), the choice recorded.
"""

from __future__ import annotations

import re
from typing import Any

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.models.protocol import ModelInput, refuse_video

PAPER_MAX_LEN = 128  # DataArguments.max_len at b1dc1e6; the tower's position limit caps it
# LAVIS blip_processors.py BlipImageBaseProcessor (the OpenAI CLIP statistics)
LAVIS_MEAN = (0.48145466, 0.4578275, 0.40821073)
LAVIS_STD = (0.26862954, 0.26130258, 0.27577711)


def tower_text(inp: ModelInput) -> str:
    """The model-native text: the stored string minus the image placeholder, outer whitespace stripped."""
    return inp.raw_text.replace(IMAGE_PLACEHOLDER, "").strip()


def pre_caption(caption: str, max_words: int = 50) -> str:
    """LAVIS ``BlipCaptionProcessor.pre_caption`` (eval): lower-case, punctuation to spaces, whitespace runs
    collapsed, outer newlines / spaces trimmed, at most ``max_words`` space-separated words."""
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n").strip(" ")
    words = caption.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else caption


def rgb(image):
    """A plain ``convert("RGB")`` (alpha dropped, not composited), as the pinned transformers versions did."""
    return image if image.mode == "RGB" else image.convert("RGB")


class TwoTowerEmbedder:
    """Shared mechanics: pick each item's towers, run each tower once per batch, fuse by sum.

    A family answers: which text goes to the text tower (None: no text tower), how texts are tokenised
    (groups of rows that share a forward pass), how images become pixels, and which features each tower gives.
    """

    family = "two-tower"
    source = ""  # official code of the default recipe
    native_changes = ""  # what recipe="native" changes, recorded
    always_text = False  # BLIP-2 paper collator: the text feature is computed for every item

    def __init__(self, model, processor, *, name: str, revision: str | None, metadata: dict[str, Any],
                 device: str = "cpu", dtype: str | None = None, recipe_variant: str = "default",
                 max_length: int | None = None, normalize: bool = True, attn_implementation: str | None = None,
                 gpu_dtype: str | None = None):
        self.model = model.eval()
        self.processor = processor
        self.recipe_variant = recipe_variant  # "default" | "native" (mmeb.models.adapters.RECIPES), checked there
        self.name, self.revision = name, revision
        self.metadata = {"params": sum(p.numel() for p in model.parameters()), **metadata}
        self.max_length = int(max_length or self._default_max_length())
        self.normalize = normalize
        self.attn_implementation = attn_implementation
        self._dtype_explicit = dtype
        self._gpu_dtype = gpu_dtype  # the recipe's dtype on a GPU, also after a move from the CPU
        self.pixels_on = "reference"  # or "device": workers decode only, the image processor runs on self.device
        self.device = "cpu"
        self.to(device)

    @property
    def native(self) -> bool:
        return self.recipe_variant == "native"

    # ------------------------------------------------------------------ family hooks
    def _tower_positions(self) -> int:
        return int(self.model.config.text_config.max_position_embeddings)

    def _default_max_length(self) -> int:
        return self._tower_positions() if self.native else min(PAPER_MAX_LEN, self._tower_positions())

    def text_of(self, inp: ModelInput) -> str | None:
        """The text-tower input, or None when the item has no text for it."""
        text = tower_text(inp) if self.native else inp.raw_text
        return text or None

    def tokenize(self, texts: list[str]) -> list[tuple[list[int], dict]]:
        """(positions in ``texts``, tokenizer tensors) per forward pass."""
        tok = self.processor.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                       return_tensors="pt")
        return [(list(range(len(texts))), {"input_ids": tok["input_ids"], "attention_mask": tok["attention_mask"]})]

    def pixels(self, images: list):
        """Both CLIP and SigLIP end up converting every mode with a plain convert("RGB") before the resize."""
        return self.processor.image_processor(images=[rgb(im) for im in images], return_tensors="pt")["pixel_values"]

    def text_features(self, batch: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def image_features(self, pixel_values):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def tower_normalize(self) -> bool:
        """L2 each tower's feature before the sum (the models' own contrastive convention)."""
        return self.native

    def recipe_settings(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ protocol
    @property
    def settings(self) -> dict[str, Any]:
        return {
            "adapter": self.family,
            "recipe": self.recipe_variant,
            "recipe_source": self.source if not self.native else f"native: {self.native_changes}",
            "max_length": self.max_length,
            "fusion": ("L2(image) + L2(text)" if self.tower_normalize else "image + text features, unnormalised sum")
            + "; one tower alone when the other input is absent",
            "tower_normalize": self.tower_normalize,
            "normalize": self.normalize,
            "scoring": "cosine" if self.normalize else "dot product",
            "dtype": str(next(self.model.parameters()).dtype).replace("torch.", ""),
            "attn_implementation": getattr(getattr(self.model, "config", None), "_attn_implementation",
                                           self.attn_implementation),
            **self.recipe_settings(),
            # only when not the default, so the identity of reference-path results stays as it was
            **({"image_preprocess_on": "device: workers decode, the image processor resizes and normalises on "
                "the model's device with torchvision kernels (pixels differ from the reference path)"}
               if self.pixels_on == "device" else {}),
        }

    def set_preprocess(self, where: str) -> None:
        """``"device"``: resize + normalise on the model's device (the processor's torchvision twin); only
        recipes whose pixels come from a transformers image processor (CLIP, SigLIP, BLIP)."""
        from mmeb.errors import ConfigError

        if where not in ("reference", "device"):
            raise ConfigError(f"preprocess must be 'reference' or 'device', got {where!r}")
        if where == "device":
            twin = _torchvision_twin(getattr(self.processor, "image_processor", None))
            if twin is None or type(self).pixels is not TwoTowerEmbedder.pixels:
                raise ConfigError(f"{self.name}: its image preprocessing cannot run on a device; "
                                  "use --preprocess reference")
            self._device_processor = twin
        self.pixels_on = where

    def to(self, device):
        from mmeb.models.runtime import default_dtype, gpu_recipe_dtype, torch_dtype

        dtype = self._dtype_explicit or gpu_recipe_dtype(device, self._gpu_dtype) or default_dtype(str(device))
        self.model.to(device=device, dtype=torch_dtype(dtype))
        self.device = str(device)
        return self

    def prepare(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any) -> dict:
        refuse_video(inputs, model=self.name, recipe=self.family, task_name=task_name)
        texts, text_rows = [], []
        for i, inp in enumerate(inputs):
            text = self.text_of(inp)
            if text is None and (self.always_text or inp.image is None):
                text = ""  # BLIP-2 collator always tokenises; an item with no input encodes the empty string
            if text is not None:
                texts.append(text)
                text_rows.append(i)
        image_rows = [i for i, inp in enumerate(inputs) if inp.image is not None]
        batch: dict[str, Any] = {"n": len(inputs), "image_rows": image_rows, "text_groups": []}
        if texts:
            batch["text_groups"] = [([text_rows[j] for j in idx], tensors) for idx, tensors in self.tokenize(texts)]
        if image_rows and self.pixels_on == "device":  # decoded pixels only; resized and normalised in embed()
            import numpy as np
            import torch

            batch["images_uint8"] = [torch.from_numpy(np.array(rgb(inputs[i].image))).permute(2, 0, 1)
                                     for i in image_rows]
        elif image_rows:
            batch["pixel_values"] = self.pixels([inputs[i].image for i in image_rows])
        return batch

    def _device_pixels(self, images: list):
        return self._device_processor(images=[im.to(self.device, non_blocking=True) for im in images],
                                      input_data_format="channels_first", device=self.device,
                                      return_tensors="pt")["pixel_values"]

    def embed(self, batch: dict):
        import torch

        dtype = next(self.model.parameters()).dtype
        parts = []
        with torch.inference_mode():
            for rows, tensors in batch["text_groups"]:
                parts.append((rows, self.text_features({k: v.to(self.device) for k, v in tensors.items()})))
            if batch["image_rows"]:
                pixels = batch["pixel_values"] if "pixel_values" in batch else self._device_pixels(
                    batch["images_uint8"])
                pixels = pixels.to(self.device, dtype=dtype)
                parts.append((batch["image_rows"], self.image_features(pixels)))
            out = torch.zeros(batch["n"], parts[0][1].shape[-1], device=self.device, dtype=torch.float32)
            for rows, feats in parts:
                feats = feats.float()
                if self.tower_normalize:
                    feats = torch.nn.functional.normalize(feats, dim=-1)
                out.index_add_(0, torch.tensor(rows, device=self.device), feats)
            if self.normalize:
                out = torch.nn.functional.normalize(out, dim=-1)
        return out.cpu()

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        return self.embed(self.prepare(inputs, task_name=task_name, role=role))


class CLIPEmbedder(TwoTowerEmbedder):
    family = "clip"
    source = "VLM2Vec@b1dc1e6 evaluation/eval_clip.py + src/collator.py CLIPCollator"
    native_changes = "placeholder removed and string stripped; the tokenizer's mask (EOS attended); per-tower L2"

    def tokenize(self, texts):
        if self.native:
            return super().tokenize(texts)
        return [(list(range(len(texts))), self._paper_tokens(texts))]

    def _paper_tokens(self, texts: list[str]) -> dict:
        """CLIPCollator: each text tokenised alone, right-padded with the pad id, then
        ``attention_mask = input_ids != pad_token_id`` (pad == EOS in the real tokenizers: the EOS key is masked)."""
        import torch

        tok = self.processor.tokenizer
        ids = [torch.tensor(tok(t, truncation=True, max_length=self.max_length)["input_ids"]) for t in texts]
        ids = torch.nn.utils.rnn.pad_sequence(ids, batch_first=True, padding_value=tok.pad_token_id)
        return {"input_ids": ids, "attention_mask": ids.ne(tok.pad_token_id).long()}

    def text_features(self, batch):
        return _pooled(self.model.get_text_features(**batch))

    def image_features(self, pixel_values):
        return _pooled(self.model.get_image_features(pixel_values=pixel_values))

    def recipe_settings(self):
        return {
            "text_input": "stored string without the placeholder, stripped" if self.native
            else "stored string as is (placeholder and newlines kept)",
            "text_padding": "longest in the batch",
            "text_attention_mask": "tokenizer mask" if self.native else "input_ids != pad_token_id",
            "pooling": "pooler_output -> projection (get_*_features)",
            "image_preprocess": {"rgb": "plain convert('RGB') before the processor",
                                 **_image_processor_summary(self.processor)},
        }


class SiglipEmbedder(CLIPEmbedder):
    family = "siglip"
    source = "VLM2Vec@b1dc1e6 evaluation/eval_siglip.py + src/collator.py CLIPCollator"
    native_changes = "placeholder removed; padding='max_length', no attention mask (as trained); per-tower L2"

    def tokenize(self, texts):
        if self.native:
            tok = self.processor.tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_length,
                                           return_tensors="pt")
            return [(list(range(len(texts))), {"input_ids": tok["input_ids"]})]
        # SigLIP pools the last position, which in a padded batch is a pad: the canonical form is one item at a
        # time, so texts of equal token length share a pass and no row is ever padded
        import torch

        tok = self.processor.tokenizer
        ids = [tok(t, truncation=True, max_length=self.max_length)["input_ids"] for t in texts]
        groups: dict[int, list[int]] = {}
        for i, row in enumerate(ids):
            groups.setdefault(len(row), []).append(i)
        out = []
        for idx in groups.values():
            group = torch.tensor([ids[i] for i in idx])
            out.append((idx, {"input_ids": group, "attention_mask": group.ne(tok.pad_token_id).long()}))
        return out

    def text_of(self, inp):
        if self.native:
            return inp.raw_text.replace(IMAGE_PLACEHOLDER, "") or None
        return inp.raw_text or None

    def recipe_settings(self):
        return {
            "text_input": "stored string without the placeholder" if self.native
            else "stored string as is (placeholder and newlines kept)",
            "text_padding": "max_length" if self.native else "none (one length per pass)",
            "text_attention_mask": "none" if self.native else "input_ids != pad_token_id",
            "pooling": "last position -> head (pooler_output)",
            "image_preprocess": {"rgb": "plain convert('RGB') before the processor",
                                 **_image_processor_summary(self.processor)},
        }


class BlipEmbedder(TwoTowerEmbedder):
    """BlipForImageTextRetrieval's ITC path (``use_itm_head=False``): CLS states through the projections."""

    family = "blip"
    source = "transformers BlipForImageTextRetrieval ITC path (no published MMEB row: native is the default)"
    native_changes = ("the ITC path of transformers' BlipForImageTextRetrieval (no published MMEB row: "
                      "its only recipe)")

    def _default_max_length(self) -> int:
        return min(int(self.processor.tokenizer.model_max_length), self._tower_positions())

    def text_of(self, inp):
        return tower_text(inp) or None

    @property
    def tower_normalize(self) -> bool:
        return True

    def text_features(self, batch):
        hidden = self.model.text_encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
        return self.model.text_proj(hidden[:, 0])

    def image_features(self, pixel_values):
        return self.model.vision_proj(self.model.vision_model(pixel_values=pixel_values)[0][:, 0])

    def recipe_settings(self):
        return {"text_input": "stored string without the placeholder, stripped",
                "text_padding": "longest in the batch", "text_attention_mask": "tokenizer mask",
                "pooling": "CLS -> ITC projection (text_proj / vision_proj)",
                "image_preprocess": {"rgb": "plain convert('RGB') before the processor",
                                     **_image_processor_summary(self.processor)}}


class Blip2Embedder(TwoTowerEmbedder):
    """Paper baseline: LAVIS ``blip2_feature_extractor`` features, unprojected; native: the ITC projections."""

    family = "blip2"
    source = ("VLM2Vec@b1dc1e6 evaluation/eval_blip.py + evaluation/collator.py BLIP2Collator "
              "(LAVIS blip2_qformer.py extract_features: image_embeds[0,0], text_embeds[0,0])")
    native_changes = "ITC projections (vision_projection / text_projection), per-tower L2"
    always_text = True

    def __init__(self, model, processor, **kwargs: Any):
        super().__init__(model, processor, **kwargs)
        # the two recipes embed in different widths (Q-Former hidden vs ITC projection): record the one in use
        config = model.config
        self.metadata["embedding_dim"] = int(config.image_text_hidden_size if self.native
                                             else config.qformer_config.hidden_size)

    def _tower_positions(self) -> int:
        return int(self.model.config.qformer_config.max_position_embeddings)

    def _default_max_length(self) -> int:
        return self._tower_positions()  # LAVIS does not truncate; pre_caption's 50 words stay far below it

    def text_of(self, inp):
        return pre_caption(inp.raw_text)

    def pixels(self, images):
        """LAVIS ``blip_image_eval``: Resize((S, S), bicubic), ToTensor, Normalize. The collator converts only
        mode L, and ToTensor/Normalize raise on any other non-RGB mode, so every mode is converted first."""
        import numpy as np
        import torch
        from PIL import Image

        side = self.image_size
        mean, std = np.array(LAVIS_MEAN, np.float32), np.array(LAVIS_STD, np.float32)
        arrays = [(np.asarray(rgb(im).resize((side, side), Image.BICUBIC), np.float32) / 255.0 - mean) / std
                  for im in images]
        return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()

    @property
    def image_size(self) -> int:
        size = self.processor.image_processor.size
        return int(size["height"] if "height" in size else size["shortest_edge"])

    def text_features(self, batch):
        m = self.model
        hidden = m.qformer(query_embeds=m.embeddings(input_ids=batch["input_ids"]), query_length=0,
                           attention_mask=batch["attention_mask"])[0][:, 0]
        return m.text_projection(hidden) if self.native else hidden

    def image_features(self, pixel_values):
        import torch

        m = self.model
        vision = m.vision_model(pixel_values=pixel_values)[0]
        mask = torch.ones(vision.shape[:-1], dtype=torch.long, device=vision.device)
        queries = m.query_tokens.expand(vision.shape[0], -1, -1)
        first = m.qformer(query_embeds=queries, encoder_hidden_states=vision, encoder_attention_mask=mask)[0][:, 0]
        return m.vision_projection(first) if self.native else first

    def recipe_settings(self):
        return {"text_input": "LAVIS pre_caption of the stored string (always encoded)",
                "text_padding": "longest in the batch", "text_attention_mask": "tokenizer mask",
                "pooling": "image: first Q-Former query output; text: Q-Former CLS"
                + (" -> ITC projections" if self.native else " (unprojected)"),
                "image_preprocess": {"rgb": "plain convert('RGB')", "resize": [self.image_size] * 2,
                                     "resample": "bicubic", "mean": list(LAVIS_MEAN), "std": list(LAVIS_STD)}}


def _torchvision_twin(image_processor):
    """The torchvision-backend class of a PIL-backend image processor, with the same saved numbers."""
    if image_processor is None:
        return None
    try:
        import transformers
        from transformers.image_processing_backends import TorchvisionBackend
    except ImportError:  # an older transformers: no torchvision backend class to run on a device
        return None
    if isinstance(image_processor, TorchvisionBackend):
        return image_processor
    cls = getattr(transformers, type(image_processor).__name__.removesuffix("Pil"), None)
    if cls is None or not issubclass(cls, TorchvisionBackend):
        return None
    config = {k: v for k, v in image_processor.to_dict().items() if k != "image_processor_type"}
    return cls(**config)


def _pooled(output):
    return output.pooler_output if hasattr(output, "pooler_output") else output


def _image_processor_summary(processor) -> dict[str, Any]:
    ip = getattr(processor, "image_processor", None)
    if ip is None:
        return {}
    keys = ("size", "crop_size", "do_center_crop", "resample", "image_mean", "image_std")
    summary = {k: (v if isinstance(v, (int, float, str, bool, list, dict, type(None))) else str(v))
               for k in keys if (v := getattr(ip, k, None)) is not None}
    return {**summary, "backend": type(ip).__name__}


TWO_TOWER_BY_MODEL_TYPE = {"clip": CLIPEmbedder, "siglip": SiglipEmbedder, "blip": BlipEmbedder,
                           "blip-2": Blip2Embedder}

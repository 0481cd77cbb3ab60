"""Two-tower baselines as the VLM2Vec paper ran them: CLIP, SigLIP, BLIP, BLIP-2 (and OpenCLIP in openclip.py).

Recipe (VLM2Vec repo, evaluation/eval_*.py): the text tower gets the stored string with the image
placeholder removed - so the task instruction rides along in the text - truncated to the tower's max
length; an item with an image and non-empty text is the element-wise *sum* of the two tower features;
an item with only one of them uses that tower alone. Scores are cosine (final L2 normalisation).
"""

from __future__ import annotations

from typing import Any

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.models.protocol import ModelInput


def tower_text(inp: ModelInput) -> str:
    """The text-tower input: the stored string minus the image placeholder, outer whitespace stripped."""
    return inp.raw_text.replace(IMAGE_PLACEHOLDER, "").strip()


def tower_rows(inputs: list[ModelInput]) -> tuple[list[str], dict]:
    """Split a batch between the towers: the text-tower strings, and a batch dict with the row indices that
    each tower fills (an input with both is the sum of the two). An input with neither text nor image
    encodes the empty string, as the reference collators did."""
    import torch

    texts = [tower_text(inp) for inp in inputs]
    text_rows = [i for i, t in enumerate(texts) if t]
    image_rows = [i for i, inp in enumerate(inputs) if inp.image is not None]
    text_rows += [i for i in range(len(inputs)) if i not in text_rows and i not in image_rows]
    batch = {"n": torch.tensor(len(inputs)), "text_rows": torch.tensor(text_rows, dtype=torch.long),
             "image_rows": torch.tensor(image_rows, dtype=torch.long)}
    return [texts[i] for i in text_rows], batch


class TwoTowerEmbedder:
    """Shared mechanics: split a batch into text rows and image rows, run each tower once, fuse by sum."""

    family = "two-tower"
    tower_normalize = False  # normalise each tower's feature before the sum (BLIP / BLIP-2 do)
    text_padding: str | bool = True  # SigLIP: "max_length", as it was trained

    def __init__(self, model, processor, *, name: str, revision: str | None, metadata: dict[str, Any],
                 device: str = "cpu", dtype: str | None = None, max_length: int | None = None,
                 normalize: bool = True, attn_implementation: str | None = None,
                 recipe_variant: str = "default"):
        self.model = model.eval()
        self.recipe_variant = recipe_variant  # "default" | "native" (mmeb.models.adapters.RECIPES)
        self.processor = processor
        self.name, self.revision = name, revision
        self.metadata = {"params": sum(p.numel() for p in model.parameters()), **metadata}
        self.max_length = max_length or self._default_max_length()
        self.normalize = normalize
        self.attn_implementation = attn_implementation
        self._dtype_explicit = dtype
        self.preprocess = "reference"  # or "device": workers decode only, the processor runs on self.device
        self.device = "cpu"
        self.to(device)

    # ------------------------------------------------------------------ family hooks
    def _default_max_length(self) -> int:
        return int(self.processor.tokenizer.model_max_length)

    def text_features(self, batch: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def image_features(self, pixel_values):  # pragma: no cover - abstract
        raise NotImplementedError

    def family_settings(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ protocol
    @property
    def settings(self) -> dict[str, Any]:
        return {
            "adapter": self.family,
            "recipe": self.recipe_variant,
            "text_input": "stored string without the image placeholder (instruction included), stripped",
            "instruction_placement": "in the text tower",
            "max_length": self.max_length,
            "text_padding": self.text_padding,
            "truncation": True,
            "fusion": "sum of tower features (image+text); single tower otherwise",
            "tower_normalize": self.tower_normalize,
            "normalize": self.normalize,
            "image_preprocess": _image_processor_summary(self.processor),
            "dtype": str(next(self.model.parameters()).dtype).replace("torch.", ""),
            "attn_implementation": getattr(getattr(self.model, "config", None), "_attn_implementation",
                                           self.attn_implementation),
            **self.family_settings(),
            # only when not the default, so the identity of reference-path results stays as it was
            **({"image_preprocess_on": "device: workers decode, the image processor resizes and normalises on "
                "the model's device (pixels can differ from the reference path)"}
               if self.preprocess == "device" else {}),
        }

    def set_preprocess(self, where: str) -> None:
        """``"device"``: resize + normalise on the model's device (the processor's torchvision backend)."""
        from mmeb.errors import ConfigError

        try:
            from transformers.image_processing_backends import TorchvisionBackend
        except ImportError:  # an older transformers: no torchvision backend class to run on a device
            TorchvisionBackend = ()  # noqa: N806
        ip = getattr(self.processor, "image_processor", None)
        if where == "device" and not isinstance(ip, TorchvisionBackend):
            raise ConfigError(f"{self.name}: its image processor {type(ip).__name__} cannot run on a device; "
                              "use --preprocess reference")
        if where not in ("reference", "device"):
            raise ConfigError(f"preprocess must be 'reference' or 'device', got {where!r}")
        self.preprocess = where

    def to(self, device):
        from mmeb.models.runtime import default_dtype, torch_dtype

        dtype = self._dtype_explicit or default_dtype(str(device))
        self.model.to(device=device, dtype=torch_dtype(dtype))
        self.device = str(device)
        return self

    def prepare(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any) -> dict:
        texts, batch = tower_rows(inputs)
        if texts:
            tok = self.processor.tokenizer(
                texts, padding=self.text_padding, truncation=True,
                max_length=self.max_length, return_tensors="pt")
            batch.update({k: v for k, v in tok.items() if k in ("input_ids", "attention_mask")})
        if len(batch["image_rows"]):
            images = [_rgb(inputs[i].image) for i in batch["image_rows"].tolist()]
            if self.preprocess == "device":  # decoded pixels only; resized and normalised in embed()
                import numpy as np
                import torch

                batch["images_uint8"] = [torch.from_numpy(np.array(im)).permute(2, 0, 1) for im in images]
            else:
                batch["pixel_values"] = self.processor.image_processor(images=images,
                                                                       return_tensors="pt")["pixel_values"]
        return batch

    def _device_pixels(self, images: list):
        return self.processor.image_processor(images=[im.to(self.device, non_blocking=True) for im in images],
                                              input_data_format="channels_first", device=self.device,
                                              return_tensors="pt")["pixel_values"]

    def embed(self, batch: dict):
        import torch

        dtype = next(self.model.parameters()).dtype
        with torch.inference_mode():
            parts = []
            if len(batch["text_rows"]):
                feats = self.text_features({k: batch[k].to(self.device) for k in ("input_ids", "attention_mask")
                                            if k in batch})
                parts.append((batch["text_rows"], feats))
            if len(batch["image_rows"]):
                pixels = batch["pixel_values"] if "pixel_values" in batch else self._device_pixels(
                    batch["images_uint8"])
                feats = self.image_features(pixels.to(self.device, dtype=dtype))
                parts.append((batch["image_rows"], feats))
            dim = parts[0][1].shape[-1]
            out = torch.zeros(int(batch["n"]), dim, device=self.device, dtype=torch.float32)
            for rows, feats in parts:
                feats = feats.float()
                if self.tower_normalize:
                    feats = torch.nn.functional.normalize(feats, dim=-1)
                out.index_add_(0, rows.to(self.device), feats)
            if self.normalize:
                out = torch.nn.functional.normalize(out, dim=-1)
            return out.cpu()

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        return self.embed(self.prepare(inputs, task_name=task_name, role=role))


class CLIPEmbedder(TwoTowerEmbedder):
    """transformers v5: ``get_*_features`` return an output object; the embedding is ``.pooler_output``."""

    family = "clip"

    def text_features(self, batch):
        return _pooled(self.model.get_text_features(**batch))

    def image_features(self, pixel_values):
        return _pooled(self.model.get_image_features(pixel_values=pixel_values))


class SiglipEmbedder(CLIPEmbedder):
    family = "siglip"
    text_padding = "max_length"  # SigLIP was trained on max_length-padded text without an attention mask

    def text_features(self, batch):
        return _pooled(self.model.get_text_features(input_ids=batch["input_ids"]))

    def family_settings(self):
        return {"text_attention_mask": False}


class BlipEmbedder(TwoTowerEmbedder):
    """BlipForImageTextRetrieval: CLS states through the ITC projections (``forward`` gives ITM scores)."""

    family = "blip"
    tower_normalize = True

    def text_features(self, batch):
        hidden = self.model.text_encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
        return self.model.text_proj(hidden[:, 0])

    def image_features(self, pixel_values):
        return self.model.vision_proj(self.model.vision_model(pixel_values=pixel_values)[0][:, 0])

    def family_settings(self):
        return {"pooling": "CLS -> ITC projection (text_proj / vision_proj)"}


class Blip2Embedder(TwoTowerEmbedder):
    """Blip2ForImageTextRetrieval, ITC path: image = first query token, text = first text token."""

    family = "blip2"
    tower_normalize = True

    def text_features(self, batch):
        m = self.model
        hidden = m.qformer(query_embeds=m.embeddings(input_ids=batch["input_ids"]), query_length=0,
                           attention_mask=batch["attention_mask"])[0]
        return m.text_projection(hidden[:, 0])

    def image_features(self, pixel_values):
        import torch

        m = self.model
        vision = m.vision_model(pixel_values=pixel_values)[0]
        mask = torch.ones(vision.shape[:-1], dtype=torch.long, device=vision.device)
        queries = m.query_tokens.expand(vision.shape[0], -1, -1)
        hidden = m.qformer(query_embeds=queries, encoder_hidden_states=vision, encoder_attention_mask=mask)[0]
        return m.vision_projection(hidden[:, 0])

    def family_settings(self):
        return {"pooling": "image: first query token; text: first token (ITC projections)"}


def _rgb(image):
    return image if image.mode == "RGB" else image.convert("RGB")  # convert() copies even an RGB image


def _pooled(output):
    return output.pooler_output if hasattr(output, "pooler_output") else output


def _image_processor_summary(processor) -> dict[str, Any]:
    ip = getattr(processor, "image_processor", None)
    if ip is None:
        return {}
    keys = ("size", "crop_size", "do_center_crop", "resample", "image_mean", "image_std")
    return {k: (v if isinstance(v, (int, float, str, bool, list, dict, type(None))) else str(v))
            for k in keys if (v := getattr(ip, k, None)) is not None}


TWO_TOWER_BY_MODEL_TYPE = {"clip": CLIPEmbedder, "siglip": SiglipEmbedder, "blip": BlipEmbedder,
                           "blip-2": Blip2Embedder}

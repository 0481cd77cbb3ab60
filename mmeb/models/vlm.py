"""The one shared VLM core: batching, padding side, last-token pooling, normalisation, device/dtype.

A recipe subclass (VLM2Vec, E5-V, GME) only answers "what string does this input become" (``format``)
and names its settings (``recipe_settings``). Everything else - processor call, padding side, forward
through the *base* model, pooling, L2 normalisation - lives here once.

Fast path for the engine: ``prepare`` (CPU, picklable, runs in DataLoader workers) turns inputs into a
batch dict; ``embed`` (main process) moves it to the device and returns float32 embeddings.
``encode = embed(prepare(...))``.
"""

from __future__ import annotations

from typing import Any

from mmeb.models.protocol import ModelInput


def last_token_pool(hidden, attention_mask):
    """Hidden state of the last non-pad token of each row, for left *or* right padding.

    With left padding this is position -1; with right padding ``attention_mask.sum(1) - 1``. Taking
    the last position whose mask is 1 gives both without trusting a padding-side flag.
    """
    import torch

    seq_len = attention_mask.shape[1]
    flipped_first_one = torch.flip(attention_mask.long(), dims=[1]).argmax(dim=1)
    last = seq_len - 1 - flipped_first_one
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last.to(hidden.device)]


def base_model_of(model):
    """The backbone whose ``last_hidden_state`` is the final *post-norm* state. Pooling the CausalLM's
    ``hidden_states[-1]`` was pre-norm in some transformers versions (cost a reproduction 2-7 points)."""
    return model.model if hasattr(model, "lm_head") and hasattr(model, "model") else model


class VLMEmbedder:
    """Shared core. Subclasses implement ``format`` and ``recipe_settings``."""

    def __init__(self, model, processor, *, name: str, revision: str | None, metadata: dict[str, Any],
                 padding_side: str, normalize: bool = True, image_resize: list[int] | None = None,
                 min_pixels: int | None = None, max_pixels: int | None = None, max_length: int | None = None,
                 device: str = "cpu", dtype: str | None = None, attn_implementation: str | None = None,
                 recipe_variant: str = "default"):
        self.model = model.eval()
        self.recipe_variant = recipe_variant  # "default" | "native" (mmeb.models.adapters.RECIPES)
        self.processor = processor
        self.name = name
        self.revision = revision
        self.metadata = {"params": sum(p.numel() for p in model.parameters()), **metadata}
        self.padding_side = padding_side
        self.normalize = normalize
        self.image_resize = list(image_resize) if image_resize else None
        self.max_length = max_length
        self.attn_implementation = attn_implementation
        self._dtype_explicit = dtype  # None = the device default (bf16 on GPU, fp32 on CPU)
        self.device = "cpu"
        self._set_pixel_caps(min_pixels, max_pixels)
        self.to(device)

    # ------------------------------------------------------------------ recipe hooks
    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def recipe_settings(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ protocol
    @property
    def settings(self) -> dict[str, Any]:
        import torch

        return {
            **self.recipe_settings(),
            "recipe": self.recipe_variant,
            "pooling": "last non-pad token of the base model's final (post-norm) last_hidden_state",
            "padding_side": self.padding_side,
            "normalize": self.normalize,
            "image_resize": self.image_resize,
            "image_resample": "bicubic" if self.image_resize else None,
            "min_pixels": self.min_pixels,
            "max_pixels": self.max_pixels,
            "max_length": self.max_length,
            "dtype": str(self.model.dtype).replace("torch.", "") if isinstance(self.model.dtype, torch.dtype) else None,
            "attn_implementation": getattr(self.model.config, "_attn_implementation", self.attn_implementation),
        }

    def to(self, device):
        from mmeb.models.runtime import default_dtype, torch_dtype

        dtype = self._dtype_explicit or default_dtype(str(device))
        self.model.to(device=device, dtype=torch_dtype(dtype))
        self.device = str(device)
        return self

    def prepare(self, inputs: list[ModelInput], *, task_name: str, role: str, **_: Any) -> dict:
        texts = [self.format(inp, task_name=task_name, role=role) for inp in inputs]
        images = [self._resize(inp.image) if inp.image is not None else None for inp in inputs]
        return self._process(texts, images)

    def embed(self, batch: dict):
        import torch

        dtype = self.model.dtype
        with torch.inference_mode():
            moved = {k: (v.to(self.device, dtype=dtype) if v.is_floating_point() else v.to(self.device))
                     for k, v in batch.items()}
            hidden = base_model_of(self.model)(**moved).last_hidden_state
            pooled = last_token_pool(hidden, moved["attention_mask"]).float()
            if self.normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            return pooled.cpu()

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        if not inputs:
            import torch

            return torch.empty(0, 0)
        return self.embed(self.prepare(inputs, task_name=task_name, role=role))

    # ------------------------------------------------------------------ mechanics
    def _process(self, texts: list[str], images: list) -> dict:
        """One processor call for the whole batch (``images`` aligned with ``texts``, None = no image):
        the processor expands each image token to the image's patch count and pads on ``padding_side``."""
        self.processor.tokenizer.padding_side = self.padding_side
        kwargs: dict[str, Any] = {"padding": True, "return_tensors": "pt"}
        if self.max_length:
            kwargs.update(truncation=True, max_length=self.max_length)
        present = [im for im in images if im is not None]
        out = self.processor(text=texts, images=present or None, **kwargs)
        return {k: v for k, v in out.items() if hasattr(v, "is_floating_point")}

    def _resize(self, image):
        from PIL import Image

        image = image.convert("RGB") if image.mode != "RGB" else image
        if self.image_resize:  # square resize ignoring aspect ratio, as VLM2Vec did before the processor
            image = image.resize(tuple(self.image_resize), Image.Resampling.BICUBIC)
        return image

    def _set_pixel_caps(self, min_pixels: int | None, max_pixels: int | None) -> None:
        """Qwen2-VL image budget. None keeps the saved processor's value (recorded either way)."""
        ip = getattr(self.processor, "image_processor", None)
        if ip is not None and hasattr(ip, "min_pixels"):
            if min_pixels is not None or max_pixels is not None:
                ip.min_pixels = min_pixels or ip.min_pixels
                ip.max_pixels = max_pixels or ip.max_pixels
                ip.size = {"shortest_edge": ip.min_pixels, "longest_edge": ip.max_pixels}
            self.min_pixels, self.max_pixels = ip.min_pixels, ip.max_pixels
        else:
            self.min_pixels, self.max_pixels = min_pixels, max_pixels

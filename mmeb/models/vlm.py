"""The one shared VLM core: input forming, 1-D positions, last-token pooling, normalisation, device/dtype.

A recipe subclass (VLM2Vec, E5-V, GME) answers "what string does this input become" (``format``), "what
image does the processor get" (``image_for``) and names its settings (``recipe_settings``). Everything else
lives here once, for evaluation and ``mmeb train`` alike (:class:`VLMInputs`, :func:`pooled_states`):

* every item is processed alone - the canonical batch of one the official runs' per-item processor calls
  produced - then padded on the recipe's side; an item without an image is tokenised by the tokenizer alone
  (a WebQA / EDIS orphan image token stays one ordinary token, as the 4.x processors did with no image);
* image processors run on the PIL backend (the official runs used the PIL/numpy processors; transformers
  5's torchvision backend resizes with other kernels); LLaVA-NeXT pads anyres grids as transformers <= 4.46;
* Qwen2-VL pixel caps go in as ``size={"shortest_edge", "longest_edge"}`` and are read back as applied;
* positions are plain 1-D, ``cumsum(attention_mask) - 1`` (on all three rope axes for Qwen2-VL): the
  official VLM2Vec and GME runs never used M-RoPE, and a left-padded batch then equals one item alone;
* an input longer than the recipe's token limit is refused when the cut would fall in its image tokens.

Fast path for the engine: ``prepare`` (CPU, picklable) turns inputs into a batch dict; ``embed`` moves it
to the device and returns float32 embeddings. ``encode = embed(prepare(...))``.
"""

from __future__ import annotations

from typing import Any

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.errors import DataError
from mmeb.models.protocol import ModelInput, refuse_video

#: image token per backbone, as the official code swapped ``<|image_1|>`` for it
IMAGE_TOKENS = {"qwen2_vl": "<|image_pad|>", "llava_next": "<image>", "phi3_v": "<|image_1|>"}
VIDEO_TOKEN = "<|video_pad|>"  # Qwen2-VL: a video's frames go in as one video behind one token
_TENSOR_KEYS = ("input_ids", "attention_mask", "pixel_values", "image_grid_thw", "image_sizes")


class ImageTooLargeError(DataError):
    """An input whose image tokens do not fit the recipe's token limit or the model's context."""


def last_token_pool(hidden, attention_mask):
    """Hidden state of the last non-pad token of each row, for left *or* right padding."""
    import torch

    seq_len = attention_mask.shape[1]
    flipped_first_one = torch.flip(attention_mask.long(), dims=[1]).argmax(dim=1)
    last = seq_len - 1 - flipped_first_one
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last.to(hidden.device)]


def base_model_of(model):
    """The backbone whose ``last_hidden_state`` is the final *post-norm* state (what the official runs'
    ``hidden_states[-1]`` was)."""
    return model.model if hasattr(model, "lm_head") and hasattr(model, "model") else model


def backbone_of(model) -> str:
    return getattr(getattr(model, "config", None), "model_type", "") or ""


def one_d_positions(attention_mask, backbone: str):
    """``cumsum(mask) - 1`` (pads at 0); Qwen2-VL takes it on its three rope axes."""
    positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    return positions[None].expand(3, -1, -1) if backbone == "qwen2_vl" else positions


def image_token_id(config) -> int | None:
    value = getattr(config, "image_token_id", None)
    return value if value is not None else getattr(config, "image_token_index", None)


def image_features(base, batch: dict):
    """The vision tower's output for ``batch`` (``pooler_output``: one feature block per image, in order)."""
    if "image_grid_thw" in batch:
        return base.get_image_features(batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
    config = base.config
    return base.get_image_features(batch["pixel_values"], batch["image_sizes"], return_dict=True,
                                   vision_feature_layer=config.vision_feature_layer,
                                   vision_feature_select_strategy=config.vision_feature_select_strategy)


def pooled_states(model, batch: dict, image_outputs=None):
    """The last non-pad token's final (post-norm) state.

    Qwen2-VL / LLaVA-NeXT: the vision features are scattered into the image-token embeddings of the rows
    that have an image (an orphan image token keeps its own embedding), then the language model runs with
    1-D positions. ``image_outputs``: the vision tower's output for this batch, when already computed."""
    import torch

    backbone = backbone_of(model)
    base = base_model_of(model)
    batch = dict(batch)
    rows = batch.pop("image_rows", None)
    video_rows = batch.pop("video_rows", None)
    mask = batch["attention_mask"]
    if backbone not in ("qwen2_vl", "llava_next"):  # Phi-3.5-V (remote code): its own forward
        return last_token_pool(base(**batch).last_hidden_state, mask)
    ids = batch["input_ids"]
    embeds = base.get_input_embeddings()(ids)
    if image_outputs is not None or "pixel_values" in batch:
        if image_outputs is None:
            image_outputs = image_features(base, batch)
        features = torch.cat(list(image_outputs.pooler_output)).to(embeds.device, embeds.dtype)
        slots = ids == image_token_id(base.config)
        if rows is not None:
            slots &= rows.to(slots.device)[:, None]
        if int(slots.sum()) != features.shape[0]:
            raise DataError(f"{int(slots.sum())} image tokens in the batch's strings but {features.shape[0]} image "
                            "features: each image needs exactly one image placeholder in its string.")
        embeds = embeds.masked_scatter(slots[..., None], features)
    if "pixel_values_videos" in batch:
        out = base.get_video_features(batch["pixel_values_videos"], batch["video_grid_thw"], return_dict=True)
        features = torch.cat(list(out.pooler_output)).to(embeds.device, embeds.dtype)
        slots = (ids == base.config.video_token_id) & video_rows.to(ids.device)[:, None]
        if int(slots.sum()) != features.shape[0]:
            raise DataError(f"{int(slots.sum())} video tokens in the batch's strings but {features.shape[0]} video "
                            "features: each video needs exactly one <|video_pad|> in its string.")
        embeds = embeds.masked_scatter(slots[..., None], features)
    hidden = base.language_model(inputs_embeds=embeds, attention_mask=mask,
                                 position_ids=one_d_positions(mask, backbone)).last_hidden_state
    return last_token_pool(hidden, mask)


# ---------------------------------------------------------------------------------------------- processors
def pil_image_processor(image_processor, backbone: str, min_pixels: int | None = None, max_pixels: int | None = None):
    """The same image processor on the PIL backend (LLaVA-NeXT: with the 4.46 anyres padding), with the
    Qwen2-VL caps applied as ``size``. Remote-code processors (Phi-3.5-V) are returned unchanged."""
    import transformers

    name = type(image_processor).__name__
    pil_name = name if name.endswith("Pil") else name + "Pil"
    cls = getattr(transformers, pil_name, None)
    if backbone == "llava_next":
        cls = _llava_next_446_class()
    if cls is None:
        return image_processor
    config = {k: v for k, v in image_processor.to_dict().items()
              if k not in ("image_processor_type", "processor_class", "auto_map", "_processor_class")}
    if backbone == "qwen2_vl" and (min_pixels is not None or max_pixels is not None):
        size = dict(config.get("size") or {})
        size.update({k: v for k, v in (("shortest_edge", min_pixels), ("longest_edge", max_pixels)) if v is not None})
        config["size"] = size
        config.pop("min_pixels", None)
        config.pop("max_pixels", None)
    return cls(**config)


_LLAVA_446 = None


def _llava_next_446_class():
    """transformers <= 4.46 padded the resized image by ``(target - new) // 2`` on both sides, so an odd
    leftover leaves it one pixel short of the grid (its edge patch is then resized back by the per-patch
    resize); 5.x pads exactly. Both official LLaVA-NeXT runs (VLM2Vec v1: 4.46.3, E5-V: 4.41.2) padded so."""
    global _LLAVA_446
    if _LLAVA_446 is None:
        from transformers import LlavaNextImageProcessorPil

        class LlavaNextImageProcessor446(LlavaNextImageProcessorPil):
            def _get_padding_size(self, original_resolution: tuple, target_resolution: tuple):
                (height, width), (target_height, target_width) = original_resolution, target_resolution
                paste_x, paste_y = (target_width - width) // 2, (target_height - height) // 2
                return (paste_y, paste_y), (paste_x, paste_x)

            def __reduce__(self):  # a class made at run time: pickle (DataLoader workers) by its config
                return _llava_next_446, (self.to_dict(),)

        _LLAVA_446 = LlavaNextImageProcessor446
    return _LLAVA_446


def _llava_next_446(config: dict):
    config = {k: v for k, v in config.items() if k not in ("image_processor_type", "processor_class")}
    return _llava_next_446_class()(**config)


def applied_caps(processor) -> tuple[int | None, int | None]:
    """The Qwen2-VL pixel caps as the image processor will apply them (None for other processors)."""
    return caps_of(getattr(processor, "image_processor", None))


def caps_of(image_processor) -> tuple[int | None, int | None]:
    size = getattr(image_processor, "size", None)
    if size is None:
        return None, None
    get = size.get if isinstance(size, dict) else (lambda k: getattr(size, k, None))
    return get("shortest_edge"), get("longest_edge")


def qwen_smart_resize(height: int, width: int, min_pixels: int, max_pixels: int, factor: int = 28):
    """Qwen2VLImageProcessor.smart_resize as the VLM2Vec V2 vendored copy (transformers 4.52) computed it: a side
    under ``factor`` or an aspect ratio over 200 is sized as a square of the long side (transformers 5 raises)."""
    import math

    if height < factor or width < factor or max(height, width) / min(height, width) > 200:
        height = width = max(factor, height, width)
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar, w_bar = math.floor(height / beta / factor) * factor, math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar, w_bar = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def qwen_video_pixels(frames, image_processor):
    """A video as VLM2Vec V2's Qwen2-VL processor made it (the image processor's video path, PIL backend):
    every frame resized to the size computed from the first frame within the image caps (bicubic),
    rescaled and normalised, an odd count padded with the last frame, patches of 2 frames x 14 x 14."""
    import numpy as np
    import torch
    from PIL import Image

    ip = image_processor
    min_pixels, max_pixels = caps_of(ip)
    patch, merge, temporal = ip.patch_size, ip.merge_size, ip.temporal_patch_size
    height, width = qwen_smart_resize(frames[0].height, frames[0].width, min_pixels, max_pixels, patch * merge)
    mean = np.array(ip.image_mean, dtype=np.float32)
    std = np.array(ip.image_std, dtype=np.float32)
    arrays = []
    for frame in frames:
        x = np.asarray(frame.resize((width, height), Image.Resampling.BICUBIC)).astype(np.float32)
        arrays.append(((x * np.float32(ip.rescale_factor) - mean) / std).transpose(2, 0, 1))
    while len(arrays) % temporal:
        arrays.append(arrays[-1])
    x = np.stack(arrays)
    gt, gh, gw = len(arrays) // temporal, height // patch, width // patch
    x = x.reshape(gt, temporal, 3, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gt * gh * gw, 3 * temporal * patch * patch)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.tensor([[gt, gh, gw]])


class VLMInputs:
    """Turns (model string, prepared image or None) pairs into one padded batch of model tensors."""

    def __init__(self, processor, *, backbone: str, padding_side: str, max_length: int | None = None,
                 context_limit: int | None = None, min_pixels: int | None = None, max_pixels: int | None = None,
                 model_name: str = "the model"):
        self.backbone, self.padding_side, self.max_length = backbone, padding_side, max_length
        self.context_limit, self.model_name = context_limit, model_name
        ip = getattr(processor, "image_processor", None)
        if ip is not None and backbone in ("qwen2_vl", "llava_next"):
            processor.image_processor = pil_image_processor(ip, backbone, min_pixels, max_pixels)
        self.processor = processor
        self.tokenizer = processor.tokenizer
        token = IMAGE_TOKENS.get(backbone)
        self.image_token_id = self.tokenizer.convert_tokens_to_ids(token) if token and backbone != "phi3_v" else None

    @property
    def caps(self) -> tuple[int | None, int | None]:
        return applied_caps(self.processor) if self.backbone == "qwen2_vl" else (None, None)

    def __call__(self, texts: list[str], images: list, where: str = "") -> dict:
        import torch

        rows, extras = [], []
        for text, image in zip(texts, images, strict=True):
            ids, extra = self._one(text, image, where)
            rows.append(ids)
            extras.append(extra)
        width = max(len(r) for r in rows)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            span = slice(0, len(row)) if self.padding_side == "right" else slice(width - len(row), width)
            ids[i, span], mask[i, span] = row, 1
        batch = {"input_ids": ids, "attention_mask": mask}
        present = [e for e in extras if "pixel_values" in e]
        videos = [e for e in extras if "pixel_values_videos" in e]
        if videos:
            batch["video_rows"] = torch.tensor(["pixel_values_videos" in e for e in extras])
            for key in videos[0]:
                batch[key] = torch.cat([e[key] for e in videos])
        if present:
            batch["image_rows"] = torch.tensor(["pixel_values" in e for e in extras])
            if self.backbone == "llava_next":  # patch counts differ per image: zero-pad (the model drops them)
                most = max(e["pixel_values"].shape[1] for e in present)
                for e in present:
                    pv = e["pixel_values"]
                    if pv.shape[1] < most:
                        e["pixel_values"] = torch.cat([pv, pv.new_zeros(pv.shape[0], most - pv.shape[1], *pv.shape[2:])], 1)
            for key in present[0]:
                batch[key] = torch.cat([e[key] for e in present])
        return batch

    def _one(self, text: str, image, where: str):
        import torch

        if self.backbone == "phi3_v":  # Phi's processor numbers its image tags per prompt: one call per item,
            out = self.processor(text, [image] if image is not None else None, return_tensors="pt")  # as v1 did
            ids = out["input_ids"][0]
            extra = {k: out[k] for k in ("pixel_values", "image_sizes") if k in out} if image is not None else {}
        elif image is None:
            ids = self.tokenizer(text, return_tensors="pt")["input_ids"][0]
            extra = {}
        elif isinstance(image, (tuple, list)):  # a video: its frames as one video (Qwen2-VL only)
            if text.count(VIDEO_TOKEN) != 1:
                raise DataError(f"{self.model_name}: {where or 'an input'} has a video but its model string "
                                f"({text[:80]!r}) holds {text.count(VIDEO_TOKEN)} {VIDEO_TOKEN} tokens, not one.")
            pixels, grid = qwen_video_pixels(image, self.processor.image_processor)
            n_tokens = int(grid.prod()) // 4
            ids = self.tokenizer(text.replace(VIDEO_TOKEN, VIDEO_TOKEN * n_tokens), return_tensors="pt")["input_ids"][0]
            extra = {"pixel_values_videos": pixels, "video_grid_thw": grid}
        else:
            token = IMAGE_TOKENS[self.backbone]
            if text.count(token) != 1:
                raise DataError(f"{self.model_name}: {where or 'an input'} has an image but its model string "
                                f"({text[:80]!r}) holds {text.count(token)} image tokens {token}: each image needs "
                                f"exactly one {IMAGE_PLACEHOLDER} in its stored text. Fix the data row.")
            out = self.processor(text=[text], images=[image], return_tensors="pt")
            ids = out["input_ids"][0]
            extra = {k: torch.as_tensor(out[k]) for k in _TENSOR_KEYS[2:] if k in out}
        return self._fit(ids, bool(extra), text, where), extra

    def _fit(self, ids, has_image: bool, text: str, where: str):
        """Truncate at ``max_length`` as the official call did, unless that cuts image tokens; refuse inputs
        longer than the model's context."""
        n = len(ids)
        if self.max_length and n > self.max_length:
            cut = ids[self.max_length:]
            if has_image and self.image_token_id is not None and bool((cut == self.image_token_id).any()):
                raise ImageTooLargeError(
                    f"{self.model_name}: {where or 'an input'} ({text[:60]!r}) needs {n} tokens with its image "
                    f"expanded, over the recipe's max_length {self.max_length}: truncating would cut image tokens. "
                    "Lower the pixel cap (max_pixels) or raise max_length.")
            ids = ids[: self.max_length]
        if self.context_limit and len(ids) > self.context_limit:
            raise ImageTooLargeError(
                f"{self.model_name}: {where or 'an input'} ({text[:60]!r}) needs {len(ids)} tokens, over the model's "
                f"context of {self.context_limit}. Lower the pixel cap (max_pixels) or the image resize.")
        return ids


class VLMEmbedder:
    """Shared core. Subclasses implement ``format``, ``recipe_settings`` and may override ``image_for``."""

    def __init__(self, model, processor, *, name: str, revision: str | None, metadata: dict[str, Any],
                 padding_side: str, normalize: bool = True, min_pixels: int | None = None,
                 max_pixels: int | None = None, max_length: int | None = None, device: str = "cpu",
                 dtype: str | None = None, attn_implementation: str | None = None, recipe_variant: str = "default",
                 backbone: str | None = None, gpu_dtype: str | None = None):
        self.model = model.eval()
        self.name = name
        self.revision = revision
        self.metadata = {"params": sum(p.numel() for p in model.parameters()), **metadata}
        self.normalize = normalize
        self.attn_implementation = attn_implementation
        self.recipe_variant = recipe_variant
        self._dtype_explicit = dtype  # None = the device default (bf16 on GPU, fp32 on CPU)
        self._gpu_dtype = gpu_dtype  # the recipe's dtype on a GPU, also after a move from the CPU
        self.device = "cpu"
        text_config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        self.inputs = VLMInputs(processor, backbone=backbone or backbone_of(model), padding_side=padding_side,
                                max_length=max_length, min_pixels=min_pixels, max_pixels=max_pixels,
                                context_limit=getattr(text_config, "max_position_embeddings", None), model_name=name)
        self.to(device)

    # ------------------------------------------------------------------ recipe hooks
    def format(self, inp: ModelInput, *, task_name: str, role: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def recipe_settings(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def image_for(self, image):
        """The image the processor gets: plain ``convert("RGB")`` (alpha dropped, as the 4.x processors did)."""
        return image.convert("RGB")

    # ------------------------------------------------------------------ protocol
    @property
    def processor(self):
        return self.inputs.processor

    @property
    def padding_side(self) -> str:
        return self.inputs.padding_side

    @padding_side.setter
    def padding_side(self, side: str) -> None:
        self.inputs.padding_side = side

    @property
    def settings(self) -> dict[str, Any]:
        import torch

        min_px, max_px = self.inputs.caps
        return {
            **self.recipe_settings(),
            "recipe": self.recipe_variant,  # "default" | "native" (mmeb.models.adapters.RECIPES)
            "pooling": "last non-pad token of the base model's final (post-norm) last_hidden_state",
            "positions": "1-D: cumsum(attention_mask) - 1" + (" on all three rope axes (no M-RoPE)"
                                                               if self.inputs.backbone == "qwen2_vl" else ""),
            "padding_side": self.padding_side,
            "normalize": self.normalize,
            "image_processor": type(getattr(self.processor, "image_processor", None)).__name__,
            "min_pixels": min_px,  # read back from the image processor: the caps in effect
            "max_pixels": max_px,
            "max_length": self.inputs.max_length,
            "dtype": str(self.model.dtype).replace("torch.", "") if isinstance(self.model.dtype, torch.dtype) else None,
            "attn_implementation": getattr(self.model.config, "_attn_implementation", self.attn_implementation),
        }

    def to(self, device):
        from mmeb.models.runtime import default_dtype, gpu_recipe_dtype, torch_dtype

        dtype = self._dtype_explicit or gpu_recipe_dtype(device, self._gpu_dtype) or default_dtype(str(device))
        self.model.to(device=device, dtype=torch_dtype(dtype))
        self.device = str(device)
        return self

    def prepare(self, inputs: list[ModelInput], *, task_name: str, role: str, **_: Any) -> dict:
        refuse_video(inputs, model=self.name, recipe=self.recipe_settings().get("adapter", "VLM"), task_name=task_name)
        texts = [self.format(inp, task_name=task_name, role=role) for inp in inputs]
        images = [inp.image if isinstance(inp.image, tuple) else  # a video's frames, formed by the recipe
                  self.image_for(inp.image) if inp.image is not None else None for inp in inputs]
        return self.inputs(texts, images, where=f"task {task_name or '?'}, {role}")

    def embed(self, batch: dict):
        import torch

        dtype = self.model.dtype
        with torch.inference_mode():
            moved = {k: (v.to(self.device, dtype=dtype) if v.is_floating_point() else v.to(self.device))
                     for k, v in batch.items()}
            pooled = pooled_states(self.model, moved).float()
            if self.normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            return pooled.cpu()

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        if not inputs:
            import torch

            return torch.empty(0, 0)
        return self.embed(self.prepare(inputs, task_name=task_name, role=role))


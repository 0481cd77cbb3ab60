"""The VLM2Vec encoder as a sentence-transformers input module, with *late* processing.

The collator (``collate.py``) hands each column over as raw inputs (the MMEB string + encoded image
bytes) plus a tensor of row positions, stored under ``input_ids`` so that sentence-transformers
collects the column and GradCache slices it per chunk like any token tensor. Only here, per chunk,
are images decoded and the processor run: a 1024 batch of high-resolution images is never padded and
tensorised at once, and both GradCache passes see exactly the same inputs.

Processing stays off the critical path (see :class:`ChunkMemo`): it runs on one background thread that
prepares the *next* chunk while the current one computes, and each chunk's CPU tensors are kept in
host memory between GradCache's no-grad pass and its gradient pass, within a byte budget per batch
(``TrainConfig.chunk_cache_gib``), so the processor runs once per chunk per step instead of twice.
Only CPU tensors are kept: the device still holds one chunk at a time.

A frozen vision tower (LoRA on the language model, the default for Qwen2-VL) gets no gradient, so its
output is the same in both passes: the no-grad pass keeps each chunk's image features (the merged
visual tokens, ~0.75 MB per 448 px image in bf16) in host memory under the same budget and the
gradient pass scatters them into the embeddings instead of running the tower again.
The result is bit-identical; a tower with any trainable parameter is always run.

Inputs are formed by the evaluation adapter's own code (:class:`mmeb.models.vlm.VLMInputs` with
:func:`mmeb.models.vlm2vec.format_vlm2vec` and :func:`~mmeb.models.vlm2vec.prepare_image`: string, resize
in the file's mode, RGB, caps, per-item processor call) and embedded by its forward
(:func:`mmeb.models.vlm.pooled_states`: 1-D positions, the final post-norm hidden state of the base model
at the last non-pad token), L2-normalised: a trained checkpoint evaluates exactly as it trained. A ``None`` input (a row without a hard negative) embeds to
the zero vector, which :func:`masked_dot` turns into a logit of -inf: it takes no softmax mass.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from sentence_transformers.base.modules.input_module import InputModule

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.models.vlm import VLMInputs, base_model_of, pooled_states
from mmeb.models.vlm2vec import VLM2VecRecipe, format_vlm2vec, prepare_image


@dataclass(frozen=True, slots=True)
class RawInput:
    """One side of a training pair as stored: the MMEB string and the image (bytes or PIL), if any."""

    text: str
    image: Any = None  # bytes | PIL.Image.Image | None


#: the official code's one LoRA target list (VLM2Vec src/arguments.py ``lora_target_modules``, the default of the
#: code that trained the published checkpoints), used for every backbone. peft matches name suffixes: on Qwen2-VL
#: the language model's q/k/v/o and down projections (not gate/up; the vision tower's qkv/proj/fc* are not named);
#: on LLaVA-NeXT and Phi-3.5-V also the CLIP vision tower's q/k/v/out_proj.
OFFICIAL_LORA_TARGETS = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj", "k_proj", "q_proj", "out_proj", "v_proj"]
LORA_TARGETS: dict[str, list[str]] = {b: OFFICIAL_LORA_TARGETS for b in ("qwen2_vl", "llava_next", "phi3_v")}


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
        self.inputs = VLMInputs(processor, backbone=recipe.backbone, padding_side=recipe.padding_side,
                                max_length=recipe.max_length, min_pixels=recipe.min_pixels,
                                max_pixels=recipe.max_pixels, model_name="training model")
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
        return raw_features(raws, memo=False)

    def _decode(self, image):
        from PIL import Image

        if isinstance(image, (bytes, bytearray)):
            image = Image.open(io.BytesIO(image))
        return prepare_image(image, self.recipe)

    def process(self, raws: list[RawInput]) -> dict[str, torch.Tensor]:
        r = self.recipe
        texts = [format_vlm2vec(x.text, x.image is not None, image_token=r.image_token,
                                orphan_image_token=r.orphan_image_token) for x in raws]
        images = [self._decode(x.image) if x.image is not None else None for x in raws]
        return self.inputs(texts, images, where="a training input")

    def prepare(self, raws: list[RawInput | None]) -> PreparedChunk:
        """Decode + process the present rows of a chunk into CPU tensors (runs on the prep thread)."""
        present = [i for i, r in enumerate(raws) if r is not None]
        return PreparedChunk(present, self.process([raws[i] for i in present]) if present else None)

    def _submit(self, raws: list[RawInput | None]) -> Future:
        return _prep_pool().submit(self.prepare, raws)

    def _frozen_tower(self):
        """The base model if it has a vision tower (transformers' Qwen2-VL family) with no trainable
        parameter, else None. Checked on every call: cheap, and the trainable set may change."""
        base = base_model_of(self.vlm)
        tower = getattr(base, "visual", None)
        if tower is None or not hasattr(base, "get_image_features"):
            return None
        return None if any(p.requires_grad for p in tower.parameters()) else base

    def _chunk(self, features: dict[str, Any]) -> PreparedChunk:
        positions = features["input_ids"].tolist()
        inputs = features["inputs"]
        memo: ChunkMemo | None = features.get("chunks")
        if memo is None:
            return self._submit([inputs[i] for i in positions]).result()
        key = tuple(positions)
        entry = memo.take(key) or self._submit([inputs[i] for i in positions])
        upcoming = _next_chunk(positions, len(inputs))
        if upcoming and upcoming not in memo:  # prepared on the prep thread while this chunk computes
            memo.put_pending(upcoming, self._submit([inputs[i] for i in upcoming]))
        chunk = entry if isinstance(entry, PreparedChunk) else entry.result()
        if not torch.is_grad_enabled():  # GradCache's first pass: the gradient pass will want it again
            memo.keep(key, chunk)
        return chunk

    # -- forward -------------------------------------------------------------------------------------
    def _embed_tensors(self, tensors: dict[str, torch.Tensor], image_features: "ImageFeatures | None" = None
                       ) -> torch.Tensor:
        """``image_features``: where the frozen tower's output for these tensors is kept (see module doc)."""
        param = next(self.model.parameters())
        # pixel values follow the weights' dtype (float64 in the exactness tests; bf16 autocast casts itself)
        batch = {k: v.to(param.device, dtype=param.dtype) if v.is_floating_point() else v.to(param.device)
                 for k, v in tensors.items()}
        base = self._frozen_tower() if image_features is not None and "pixel_values" in batch else None
        image_outputs = None
        if base is not None:
            image_outputs = image_features.output(base, batch)
            del batch["pixel_values"]
        pooled = pooled_states(self.vlm, batch, image_outputs=image_outputs)
        if pooled.dtype in (torch.float16, torch.bfloat16):  # the loss runs in at least float32
            pooled = pooled.float()
        return F.normalize(pooled, dim=-1)

    def embed(self, raws: list[RawInput]) -> torch.Tensor:
        # processed on the prep thread too: it may still be prefetching, and the tokenizer is not reentrant
        return self._embed_tensors(_prep_pool().submit(self.process, raws).result())

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        chunk = self._chunk(features)
        n = len(features["input_ids"])
        memo: ChunkMemo | None = features.get("chunks")
        image_features = ImageFeatures() if memo is not None else None
        if image_features is not None and torch.is_grad_enabled():
            image_features.kept = memo.take_features(tuple(features["input_ids"].tolist()))
        if len(chunk.present) == n:
            emb = self._embed_tensors(chunk.tensors, image_features)
        else:
            dim = self.vlm.config.get_text_config().hidden_size
            device = next(self.model.parameters()).device
            if chunk.present:
                real = self._embed_tensors(chunk.tensors, image_features)
                emb = real.new_zeros(n, dim).index_put((torch.tensor(chunk.present, device=device),), real)
            else:
                emb = torch.zeros(n, dim, device=device)
        if image_features is not None and image_features.fresh is not None:  # only set by a no-grad pass
            memo.keep_features(tuple(features["input_ids"].tolist()), image_features.fresh)
        features["sentence_embedding"] = emb
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return self.vlm.config.get_text_config().hidden_size

    def save(self, output_path: str, *args, **kwargs) -> None:
        # The final checkpoint is written by mmeb.training.checkpoint (merged weights + mmeb_model.json);
        # Trainer checkpoints by MMEBTrainer._save. Saving this module on its own is not supported.
        raise NotImplementedError("use mmeb.training.checkpoint.export_checkpoint to save a trained VLM2Vec model")


def raw_features(raws: list[RawInput | None], memo: "ChunkMemo | bool | None" = None) -> dict[str, Any]:
    """A column's features: ``input_ids`` holds row positions (sliced per GradCache chunk), ``inputs``
    the raw inputs and ``chunks`` the column's :class:`ChunkMemo` (both passed through whole).
    Without ``memo`` a fresh one with the default budget is made; ``memo=False`` processes every call
    synchronously (``SentenceTransformer.encode``: one pass, nothing to reuse)."""
    features: dict[str, Any] = {"input_ids": torch.arange(len(raws)), "inputs": list(raws)}
    if memo is not False:
        features["chunks"] = memo if memo is not None else ChunkMemo()
    return features


#: default host-memory budget for the processed chunks of one batch (TrainConfig.chunk_cache_gib)
DEFAULT_CHUNK_CACHE_GIB = 8.0


@dataclass(frozen=True, slots=True)
class PreparedChunk:
    """The processor's CPU output for one chunk: ``present`` = positions in the chunk that have an
    input (a ``None`` row embeds to zero), ``tensors`` = their processed batch (None if none)."""

    present: list[int]
    tensors: dict[str, torch.Tensor] | None

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.tensors or {}).values())


class ImageFeatures:
    """A chunk's frozen-tower output: computed (and offered to the memo as ``fresh``) or replayed from
    ``kept`` (a CPU copy of the concatenated visual tokens and the per-image token counts)."""

    def __init__(self) -> None:
        self.kept: tuple[torch.Tensor, list[int]] | None = None
        self.fresh: tuple[torch.Tensor, list[int]] | None = None

    def output(self, base, batch: dict[str, torch.Tensor]):
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        if self.kept is not None:
            tokens, sizes = self.kept
            pooled = tuple(tokens.to(batch["input_ids"].device, non_blocking=True).split(sizes))
            return BaseModelOutputWithPooling(pooler_output=pooled)
        out = base.get_image_features(batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
        if not torch.is_grad_enabled():
            pooled = out.pooler_output
            tokens = torch.cat([p.detach() for p in pooled])
            if tokens.device.type == "cuda":
                tokens = torch.empty(tokens.shape, dtype=tokens.dtype, pin_memory=True).copy_(tokens, non_blocking=True)
            self.fresh = (tokens, [len(p) for p in pooled])
        return out


class ChunkMemo:
    """The processed chunks of one column of one batch, by row positions.

    GradCache embeds every chunk twice in a step (no-grad, then again with gradients inside
    backward). The first pass keeps each chunk's CPU tensors here, the second takes them back out,
    so the processor runs once per chunk and host memory is released as the backward pass proceeds.
    ``budget`` (shared by the columns of a batch) caps the bytes kept; chunks past it are simply
    processed again. Entries may also be *pending*: the next chunk, submitted to the background
    thread while the current one computes. The memo lives and dies with its batch.
    """

    def __init__(self, budget: "ByteBudget | None" = None):
        self.budget = budget if budget is not None else ByteBudget(int(DEFAULT_CHUNK_CACHE_GIB * 2**30))
        self._entries: dict[tuple[int, ...], Future | PreparedChunk] = {}
        self._features: dict[tuple[int, ...], tuple[torch.Tensor, list[int]]] = {}

    def __getstate__(self):  # built in DataLoader workers, shipped empty (futures do not pickle)
        return {"budget": self.budget, "_entries": {}, "_features": {}}

    def __contains__(self, key: tuple[int, ...]) -> bool:
        return key in self._entries

    def take(self, key: tuple[int, ...]) -> "Future | PreparedChunk | None":
        entry = self._entries.pop(key, None)
        if isinstance(entry, PreparedChunk):
            self.budget.release(entry.nbytes)
        return entry

    def put_pending(self, key: tuple[int, ...], future: Future) -> None:
        self._entries[key] = future

    def keep_features(self, key: tuple[int, ...], features: tuple[torch.Tensor, list[int]]) -> bool:
        """Keep a chunk's frozen-tower output for the gradient pass (within the budget)."""
        tokens = features[0]
        if not self.budget.reserve(tokens.numel() * tokens.element_size()):
            return False
        self._features[key] = features
        return True

    def take_features(self, key: tuple[int, ...]) -> tuple[torch.Tensor, list[int]] | None:
        features = self._features.pop(key, None)
        if features is not None:
            self.budget.release(features[0].numel() * features[0].element_size())
        return features

    def keep(self, key: tuple[int, ...], chunk: PreparedChunk) -> bool:
        if not self.budget.reserve(chunk.nbytes):
            return False
        self._entries[key] = chunk
        return True


class ByteBudget:
    """Bytes of host memory the memos of one batch may hold (0 disables keeping, not prefetching)."""

    def __init__(self, limit: int):
        self.limit, self.used, self.peak = limit, 0, 0

    def reserve(self, nbytes: int) -> bool:
        if self.used + nbytes > self.limit:
            return False
        self.used += nbytes
        self.peak = max(self.peak, self.used)
        return True

    def release(self, nbytes: int) -> None:
        self.used -= nbytes


_PREP_POOL: ThreadPoolExecutor | None = None
_PREP_POOL_LOCK = threading.Lock()


def _prep_pool() -> ThreadPoolExecutor:
    """One thread runs every processor call: prefetching overlaps compute, and a fast tokenizer is
    never entered from two threads at once (it raises "Already borrowed")."""
    global _PREP_POOL
    with _PREP_POOL_LOCK:
        if _PREP_POOL is None:
            _PREP_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmeb-chunk-prep")
        return _PREP_POOL


def _next_chunk(positions: list[int], n_rows: int) -> tuple[int, ...] | None:
    """The chunk GradCache embeds next in this column: it slices contiguous equal-size ranges. A wrong
    guess only wastes one prefetch."""
    if not positions or positions != list(range(positions[0], positions[0] + len(positions))):
        return None
    begin = positions[-1] + 1
    return tuple(range(begin, min(begin + len(positions), n_rows))) if begin < n_rows else None

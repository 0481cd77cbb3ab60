"""Reference computations for the recipe golden tests, written from the spec (shared spec models.md s.1-5, 9)
and never from the adapter code: the model string is given per case, the pixels are computed here with PIL and
numpy as the transformers 4.x slow processors did, and the embedding is taken from the HF model pieces with
plain 1-D positions."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mmeb.models.protocol import ModelInput

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def noise(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    """A seeded noise image decoded from PNG bytes, so it arrives as the file's mode (P, RGBA, ...)."""
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
    if mode == "P":
        image = rgb.quantize(colors=64)
    elif mode == "RGBA":
        alpha = Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L")
        image = rgb.copy()
        image.putalpha(alpha)
    else:
        image = rgb
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    decoded = Image.open(io.BytesIO(buffer.getvalue()))
    decoded.load()
    assert decoded.mode == mode
    return decoded


@dataclass(frozen=True)
class Case:
    """One input shape: the task and role it comes from and the ModelInput the engine hands over."""

    name: str
    task: str
    role: str
    inp: ModelInput


def _inp(instruction: str, text: str, image, raw: str) -> ModelInput:
    return ModelInput(instruction=instruction, text=text, image=image, raw_text=raw)


CLS = "Represent the given image for classification"
QA = "Represent the given image with the following question:"
T2I = "Find me an everyday image that matches the given caption:"
VISDIAL = "Represent the given dialogue about an image, which is used for image retrieval:"
WEBQA = "Find a Wikipedia image that answers this question:"
CAND = "Represent the given image."
CROP = "Represent the given cropped image of the object"

CASES = [
    Case("instruction_image_query", "ImageNet-1K", "query", _inp(CLS, "", noise(60, 40, 1), f"<|image_1|>\n{CLS}\n")),
    Case("text_query", "MSCOCO_t2i", "query", _inp(T2I, "a dog on a red car", None, f"{T2I} a dog on a red car\n")),
    Case("visdial_two_newlines", "VisDial", "query",
         _inp(VISDIAL, "Q: is it a cat A: yes", None, f"{VISDIAL} Q: is it a cat A: yes\n\n")),
    Case("image_text_query", "OK-VQA", "query",
         _inp(QA, "what color is the car?", noise(50, 70, 2), f"<|image_1|>\n{QA} what color is the car?\n")),
    Case("bare_label", "ImageNet-1K", "candidate", _inp("", "golden retriever", None, "golden retriever")),
    Case("image_candidate", "MSCOCO_t2i", "candidate", _inp(CAND, "", noise(64, 48, 3), f"<|image_1|>\n{CAND}\n")),
    Case("orphan_placeholder", "WebQA", "query",
         _inp(WEBQA, "what color is the cat?", None, f"<|image_1|>\n{WEBQA} what color is the cat?\n")),
    Case("small_image", "ImageNet-1K", "query", _inp(CLS, "", noise(20, 60, 4), f"<|image_1|>\n{CLS}\n")),
    Case("palette_png", "MSCOCO_t2i", "candidate", _inp(CAND, "", noise(45, 31, 5, "P"), f"<|image_1|>\n{CAND}\n")),
    Case("rgba_png", "RefCOCO", "candidate", _inp(CROP, "", noise(45, 31, 6, "RGBA"), f"<|image_1|>\n{CROP}\n")),
    Case("large_image", "OK-VQA", "query",
         _inp(QA, "what is it?", noise(1500, 1100, 7), f"<|image_1|>\n{QA} what is it?\n")),
]

#: the words the golden tokenizers know (everything else in the strings is whitespace or punctuation)
WORDS = sorted({w for c in CASES for w in c.inp.raw_text.replace("<|image_1|>", " ").lower().split()} |
               {"summary", "above", "image", "sentence", "and", "text", "in", "one", "word", "user", "assistant",
                "system", "you", "are", "a", "helpful", "q", "is", "it", "yes"})


def saved_config(directory: Path, name: str) -> dict:
    return json.loads((Path(directory) / name).read_text())


# ---------------------------------------------------------------------------------------------- pixels
def rescale_normalize(array: np.ndarray) -> np.ndarray:
    """HWC uint8 -> CHW float32, rescaled by 1/255 and normalised with the CLIP mean / std."""
    x = array.astype(np.float32) * np.float32(1 / 255)
    return ((x - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)


def qwen_smart_resize(height: int, width: int, min_pixels: int, max_pixels: int, factor: int = 28):
    """Qwen2VLImageProcessor.smart_resize of the transformers 4.46 / 4.52 runs."""
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar, w_bar = math.floor(height / beta / factor) * factor, math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar, w_bar = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def qwen_pixels(rgb: Image.Image, min_pixels: int, max_pixels: int, patch: int = 14, merge: int = 2):
    """(pixel_values [n, 3*2*14*14], grid_thw [1, 3]) as the slow Qwen2-VL image processor made them."""
    assert rgb.mode == "RGB"
    height, width = qwen_smart_resize(rgb.height, rgb.width, min_pixels, max_pixels, patch * merge)
    x = rescale_normalize(np.asarray(rgb.resize((width, height), Image.Resampling.BICUBIC)))
    frames = np.stack([x, x])  # one image = temporal_patch_size copies
    gh, gw = height // patch, width // patch
    p = frames.reshape(1, 2, 3, gh // merge, merge, patch, gw // merge, merge, patch)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gh * gw, 3 * 2 * patch * patch)
    return torch.from_numpy(np.ascontiguousarray(p)), torch.tensor([[1, gh, gw]])


def llava_pixels(rgb: Image.Image, pinpoints: list, side: int):
    """LLaVA-NeXT anyres pixels as transformers <= 4.46 made them: best grid resolution, aspect-preserving
    resize, (target - new) // 2 padding on both sides, patches, base image, per-patch shortest-edge resize and
    centre crop."""
    assert rgb.mode == "RGB"
    height, width = rgb.height, rgb.width
    best, best_effective, best_waste = None, 0, float("inf")
    for th, tw in pinpoints:
        scale = min(tw / width, th / height)
        effective = min(int(width * scale) * int(height * scale), width * height)
        waste = th * tw - effective
        if effective > best_effective or (effective == best_effective and waste < best_waste):
            best, best_effective, best_waste = (th, tw), effective, waste
    th, tw = best
    if tw / width < th / height:
        new_w, new_h = tw, min(math.ceil(height * tw / width), th)
    else:
        new_h, new_w = th, min(math.ceil(width * th / height), tw)
    resized = np.asarray(rgb.resize((new_w, new_h), Image.Resampling.BICUBIC))
    py, px = (th - new_h) // 2, (tw - new_w) // 2
    padded = np.pad(resized, ((py, py), (px, px), (0, 0)))
    tiles = [padded[i:i + side, j:j + side] for i in range(0, padded.shape[0], side)
             for j in range(0, padded.shape[1], side)]
    base = np.asarray(rgb.resize((side, side), Image.Resampling.BICUBIC))
    out = []
    for tile in [base, *tiles]:
        h, w = tile.shape[:2]
        short, long = (h, w) if h <= w else (w, h)
        new_long = int(side * long / short)
        size = (new_long, side) if h <= w else (side, new_long)  # PIL (w, h)
        tile = np.asarray(Image.fromarray(tile).resize(size, Image.Resampling.BICUBIC))
        top, left = (tile.shape[0] - side) // 2, (tile.shape[1] - side) // 2
        out.append(rescale_normalize(tile[top:top + side, left:left + side]))
    return torch.from_numpy(np.stack(out))[None], torch.tensor([[height, width]])


def qwen_video_pixels(frames, min_pixels: int, max_pixels: int, patch: int = 14, merge: int = 2):
    """A video as the VLM2Vec V2 Qwen2-VL processor made it: all frames at the size smart-resized from the first
    frame, an odd count padded with the last frame, patches spanning 2 consecutive frames."""
    height, width = qwen_smart_resize(frames[0].height, frames[0].width, min_pixels, max_pixels, patch * merge)
    arrays = [rescale_normalize(np.asarray(f.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)))
              for f in frames]
    if len(arrays) % 2:
        arrays.append(arrays[-1])
    x = np.stack(arrays)
    gt, gh, gw = len(arrays) // 2, height // patch, width // patch
    p = x.reshape(gt, 2, 3, gh // merge, merge, patch, gw // merge, merge, patch)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gt * gh * gw, 3 * 2 * patch * patch)
    return torch.from_numpy(np.ascontiguousarray(p)), torch.tensor([[gt, gh, gw]])


# ---------------------------------------------------------------------------------------------- forward
def qwen_embedding(model, tokenizer, string: str, pixels=None, video: bool = False) -> torch.Tensor:
    """Vision features scattered into the <|image_pad|> (``video``: <|video_pad|>) embeddings, the language
    model with 1-D positions (the same on all three rope axes), the last token, L2."""
    base = model.model
    token, token_id = (("<|video_pad|>", model.config.video_token_id) if video
                       else ("<|image_pad|>", model.config.image_token_id))
    with torch.no_grad():
        features = None
        if pixels is not None:
            features = base.visual(pixels[0], grid_thw=pixels[1]).pooler_output
            string = string.replace(token, token * features.shape[0])
        ids = torch.tensor([tokenizer(string)["input_ids"]])
        embeds = base.language_model.embed_tokens(ids)
        if features is not None:
            embeds[ids == token_id] = features
        positions = torch.arange(ids.shape[1]).view(1, 1, -1).expand(3, 1, -1)
        hidden = base.language_model(inputs_embeds=embeds, position_ids=positions).last_hidden_state
    return torch.nn.functional.normalize(hidden[0, -1], dim=-1)


def llava_embedding(model, tokenizer, string: str, pixels=None) -> torch.Tensor:
    base = model.model
    config = model.config
    with torch.no_grad():
        features = None
        if pixels is not None:
            out = base.get_image_features(pixels[0], pixels[1], vision_feature_layer=config.vision_feature_layer,
                                          vision_feature_select_strategy=config.vision_feature_select_strategy,
                                          return_dict=True)
            features = torch.cat(list(out.pooler_output))
            string = string.replace("<image>", "<image>" * features.shape[0])
        ids = torch.tensor([tokenizer(string)["input_ids"]])
        embeds = base.language_model.embed_tokens(ids)
        if features is not None:
            embeds[ids == config.image_token_id] = features
        positions = torch.arange(ids.shape[1])[None]
        hidden = base.language_model(inputs_embeds=embeds, position_ids=positions).last_hidden_state
    return torch.nn.functional.normalize(hidden[0, -1], dim=-1)


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    return float(a @ b / (a.norm() * b.norm()))

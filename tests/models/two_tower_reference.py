"""Reference computations of the two-tower recipes, written from the spec (shared/spec/models.md s.6-s.8) and
the official code it cites, independently of mmeb.models: tokenise, build pixels with PIL/numpy, call the
model modules directly, fuse. One item at a time (the canonical form)."""

import json
import re

import numpy as np
import torch
from PIL import Image

PLACEHOLDER = "<|image_1|>"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def sensitize(module: torch.nn.Module, seed: int = 0) -> None:
    """O(1) weights (the default 0.02-std init makes attention uniform and hides string / resize differences)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if p.dim() == 4:  # conv patch embedding: fan-in = in_channels * k * k
                p.copy_(noise * p[0].numel() ** -0.5)
            elif p.dim() >= 2:
                p.copy_(noise * p.shape[-1] ** -0.5)
            elif name.endswith("weight"):  # norm scales
                p.copy_(1 + 0.3 * noise)
            else:
                p.copy_(0.3 * noise)


def image_config(directory) -> dict:
    return json.loads((directory / "processor_config.json").read_text())["image_processor"]


def to_tensor(image: Image.Image, mean, std) -> torch.Tensor:
    """ToTensor + Normalize (HF rescale + normalize give the same numbers in float32)."""
    arr = np.asarray(image, dtype=np.float32) / 255.0
    arr = (arr - np.array(mean, np.float32)) / np.array(std, np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()


def hf_shortest_edge_crop(image: Image.Image, short: int, crop: int) -> Image.Image:
    """transformers CLIPImageProcessor: shortest edge -> ``short`` (long side int()), bicubic; centre crop with
    floor offsets."""
    w, h = image.size
    if w <= h:
        new_w, new_h = short, int(short * h / w)
    else:
        new_w, new_h = int(short * w / h), short
    image = image.resize((new_w, new_h), Image.BICUBIC)
    top, left = (new_h - crop) // 2, (new_w - crop) // 2
    return image.crop((left, top, left + crop, top + crop))


def torchvision_shortest_edge_crop(image: Image.Image, side: int) -> Image.Image:
    """open_clip eval transform: torchvision Resize(side) (shortest edge, long side int()) with PIL bicubic in the
    image's own mode (P falls back to nearest, RGBA is premultiplied), CenterCrop with rounded offsets."""
    w, h = image.size
    if w <= h:
        new_w, new_h = side, int(side * h / w)
    else:
        new_w, new_h = int(side * w / h), side
    if (new_w, new_h) != (w, h):
        image = image.resize((new_w, new_h), Image.BICUBIC)
    top, left = int(round((new_h - side) / 2.0)), int(round((new_w - side) / 2.0))
    return image.crop((left, top, left + side, top + side))


def lavis_pre_caption(caption: str, max_words: int = 50) -> str:
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n")
    caption = caption.strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


def _fuse(parts, per_tower_l2: bool) -> torch.Tensor:
    parts = [torch.nn.functional.normalize(p, dim=-1) if per_tower_l2 else p for p in parts]
    return sum(parts)[0]


# ---------------------------------------------------------------- CLIP / SigLIP (s.6, s.8)

def clip(inp, model, tok, cfg, *, native: bool) -> torch.Tensor:
    parts = []
    text = inp.raw_text.replace(PLACEHOLDER, "").strip() if native else inp.raw_text
    if text or inp.image is None:
        ids = torch.tensor([tok(text, truncation=True, max_length=77)["input_ids"]])
        # default: the collator's mask (pad == EOS, so the EOS key is masked); native: the tokenizer's own mask
        mask = torch.ones_like(ids) if native else (ids != tok.pad_token_id).long()
        parts.append(model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output)
    if inp.image is not None:
        image = hf_shortest_edge_crop(inp.image.convert("RGB"), cfg["size"]["shortest_edge"],
                                      cfg["crop_size"]["height"])
        parts.append(model.get_image_features(pixel_values=to_tensor(image, cfg["image_mean"],
                                                                     cfg["image_std"])).pooler_output)
    return _fuse(parts, per_tower_l2=native)


def siglip(inp, model, tok, cfg, *, native: bool) -> torch.Tensor:
    parts = []
    text = inp.raw_text.replace(PLACEHOLDER, "") if native else inp.raw_text
    if text or inp.image is None:
        if native:  # as trained: padded to 64, no mask
            ids = torch.tensor([tok(text, padding="max_length", truncation=True, max_length=64)["input_ids"]])
            feats = model.get_text_features(input_ids=ids)
        else:
            ids = torch.tensor([tok(text, truncation=True, max_length=64)["input_ids"]])
            feats = model.get_text_features(input_ids=ids, attention_mask=(ids != tok.pad_token_id).long())
        parts.append(feats.pooler_output)
    if inp.image is not None:
        side = (cfg["size"]["width"], cfg["size"]["height"])
        image = inp.image.convert("RGB").resize(side, Image.BICUBIC)
        parts.append(model.get_image_features(pixel_values=to_tensor(image, cfg["image_mean"],
                                                                     cfg["image_std"])).pooler_output)
    return _fuse(parts, per_tower_l2=native)


# ---------------------------------------------------------------- OpenCLIP (s.6, s.8)

def openclip(inp, model, tokenizer, *, native: bool) -> torch.Tensor:
    parts = []
    text = inp.raw_text.replace(PLACEHOLDER, "").strip() if native else inp.raw_text
    if text or inp.image is None:
        parts.append(model.encode_text(tokenizer([text])))
    if inp.image is not None:
        image = inp.image
        if native or image.mode == "L":
            image = image.convert("RGB")
        image = torchvision_shortest_edge_crop(image, model.visual.image_size[0]).convert("RGB")
        parts.append(model.encode_image(to_tensor(image, OPENAI_MEAN, OPENAI_STD)))
    return _fuse(parts, per_tower_l2=False)


# ---------------------------------------------------------------- BLIP ITM (s.7: native ITC path)

def blip(inp, model, tok, cfg) -> torch.Tensor:
    parts = []
    text = inp.raw_text.replace(PLACEHOLDER, "").strip()
    if text or inp.image is None:
        enc = tok(text, truncation=True, max_length=512, return_tensors="pt")
        hidden = model.text_encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])[0]
        parts.append(model.text_proj(hidden[:, 0]))
    if inp.image is not None:
        side = (cfg["size"]["width"], cfg["size"]["height"])
        image = inp.image.convert("RGB").resize(side, Image.BICUBIC)
        px = to_tensor(image, cfg["image_mean"], cfg["image_std"])
        parts.append(model.vision_proj(model.vision_model(pixel_values=px)[0][:, 0]))
    return _fuse(parts, per_tower_l2=True)


# ---------------------------------------------------------------- BLIP-2 (s.7, s.8)

def blip2(inp, model, tok, cfg, *, native: bool) -> torch.Tensor:
    enc = tok(lavis_pre_caption(inp.raw_text), padding=True, return_tensors="pt")  # always encoded
    text = model.qformer(query_embeds=model.embeddings(input_ids=enc["input_ids"]), query_length=0,
                         attention_mask=enc["attention_mask"])[0][:, 0]
    parts = [model.text_projection(text) if native else text]
    if inp.image is not None:
        side = cfg["size"]["height"]
        image = inp.image.convert("RGB").resize((side, side), Image.BICUBIC)
        vision = model.vision_model(pixel_values=to_tensor(image, OPENAI_MEAN, OPENAI_STD))[0]
        queries = model.query_tokens.expand(1, -1, -1)
        first = model.qformer(query_embeds=queries, encoder_hidden_states=vision,
                              encoder_attention_mask=torch.ones(vision.shape[:-1], dtype=torch.long))[0][:, 0]
        parts.insert(0, model.vision_projection(first) if native else first)
    return _fuse(parts, per_tower_l2=native)

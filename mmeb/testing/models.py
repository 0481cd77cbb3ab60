"""Random-weight models of the real architectures, saved as ordinary checkpoint directories.

Two uses:
  * offline tests and the demo: ``tiny-*`` presets (32-wide, 2 layers; build + forward well under 1 s)
    with the real processor classes and an offline word-level tokenizer;
  * throughput benchmarks on a GPU: presets at the real architecture's size (numbers copied from the
    released configs). Speed does not depend on weight values, so a random model measures real
    throughput; the *model's* vocabulary size matches the real one, the tokenizer's does not need to.

    from mmeb.testing.models import build
    path = build("tiny-qwen2vl", tmp_path / "m")      # then load_model(str(path))

VLM presets also write ``mmeb_model.json`` (docs/checkpoint-format.md) so ``load_model(dir)`` picks
the VLM2Vec recipe; two-tower presets are recognised by their config's architecture.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

from mmeb.errors import ConfigError, suggest

#: words every tiny tokenizer knows (enough for generated task strings to be mostly in-vocabulary)
DEFAULT_WORDS = (
    "a an the of in on at to for with and or is are was be this that it its what which who where how "
    "many much image images photo picture text sentence question answer query document caption object "
    "select find represent given following retrieve relevant identify main category shown describe "
    "class label one word summary above user input cat dog car bird tree house person man woman boy girl "
    "red green blue yellow black white big small left right top bottom there here yes no color number "
    "0 1 2 3 4 5 6 7 8 9 . , : ; ? ! ' \" ( ) - / < > | _"
).split()

_UNK, _PAD, _BOS, _EOS = "<unk>", "<pad>", "<s>", "</s>"


#: the whitespace tokens of a whitespace-sensitive tokenizer (every space and newline is its own token)
WHITESPACE = (" ", "\n", "\t")


def word_tokenizer(words: list[str] | None, specials: list[str], *, pad: str = _PAD, eos: str = _EOS,
                   bos: str | None = _BOS, model_max_length: int = 2048, add_bos: bool = False,
                   add_eos: bool = False, whitespace_tokens: bool = False):
    """A PreTrainedTokenizerFast over a fixed word list: lower-cased, split on whitespace and
    punctuation (so "cat." and "cat" share a token). Special tokens come first and are never split.
    ``add_bos`` / ``add_eos`` wrap every sequence as the real tokenizer does (CLIP pools at its EOS).
    ``whitespace_tokens``: every space and newline becomes a token of its own, so any whitespace
    difference in a model string changes the ids (the recipe golden tests need that)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    ordered: list[str] = []
    spaces = list(WHITESPACE) if whitespace_tokens else []
    for tok in [_UNK, pad, eos, *([bos] if bos else []), *specials, *spaces, *(words or []), *DEFAULT_WORDS]:
        tok = tok if tok in specials or tok in (_UNK, pad, eos, bos) else tok.lower()
        if tok and tok not in ordered:
            ordered.append(tok)
    vocab = {tok: i for i, tok in enumerate(ordered)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=_UNK))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = (pre_tokenizers.Split(Regex(r"\s|\w+|[^\w\s]"), behavior="isolated")
                             if whitespace_tokens else pre_tokenizers.Whitespace())
    if add_bos or add_eos:
        wrap = ([bos] if add_bos else []) + ["$A"] + ([eos] if add_eos else [])
        backend.post_processor = processors.TemplateProcessing(
            single=" ".join(wrap), special_tokens=[(t, vocab[t]) for t in wrap if t != "$A"])
    extra = [t for t in specials if t not in (pad, eos, bos)]
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=_UNK, pad_token=pad, eos_token=eos, bos_token=bos,
        additional_special_tokens=extra, model_max_length=model_max_length,
    )
    return tok


# ---------------------------------------------------------------- config sizes (name -> numbers)

_TINY_TOWER = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)

# real sizes, from the released config.json files
_CLIP_B16 = dict(
    text=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=8,
              max_position_embeddings=77, vocab_size=49408),
    vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                image_size=224, patch_size=16),
    projection_dim=512,
)
_CLIP_L14 = dict(
    text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=77, vocab_size=49408),
    vision=dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                image_size=224, patch_size=14),
    projection_dim=768,
)
_QWEN2VL_2B = dict(
    text=dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
              num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
              rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]}, rope_theta=1000000.0,
              tie_word_embeddings=True),
    vision=dict(depth=32, embed_dim=1280, hidden_size=1536, num_heads=16, mlp_ratio=4, patch_size=14,
                spatial_merge_size=2, temporal_patch_size=2),
)
_QWEN2VL_7B = dict(
    text=dict(_QWEN2VL_2B["text"], vocab_size=152064, hidden_size=3584, intermediate_size=18944,
              num_attention_heads=28, num_key_value_heads=4, tie_word_embeddings=False),
    vision=dict(_QWEN2VL_2B["vision"], hidden_size=3584),
)
_SIGLIP_SO400M = dict(  # google/siglip-so400m-patch14-384
    text=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
              max_position_embeddings=64, vocab_size=32000),
    vision=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
                image_size=384, patch_size=14),
)
_LLAVA_NEXT_7B = dict(  # llava-hf/llava-v1.6-mistral-7b-hf
    text=dict(model_type="mistral", vocab_size=32064, hidden_size=4096, intermediate_size=14336,
              num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
              max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=1000000.0),
    vision=dict(model_type="clip_vision_model", hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                num_attention_heads=16, image_size=336, patch_size=14, projection_dim=768),
    pinpoints=[[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
    vision_feature_layer=-2,
)


def _apply_overrides(cfg: dict, overrides: dict[str, Any], preset: str) -> dict:
    """Set each override wherever the key occurs: top level and inside every nested sub-config
    (so ``hidden_size=64`` widens both towers). A key found nowhere is a typo: refuse."""
    cfg = copy.deepcopy(cfg)
    for key, value in overrides.items():
        hit = False
        for section in [cfg, *(v for v in cfg.values() if isinstance(v, dict))]:
            if key in section:
                section[key] = value
                hit = True
        if not hit:
            known = sorted({k for s in [cfg, *(v for v in cfg.values() if isinstance(v, dict))] for k in s})
            raise ConfigError(f"random_init preset {preset!r} has no config number {key!r}; known: {', '.join(known)}")
    return cfg


def _save(model, processor, out_dir: Path, recipe: dict | None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    if recipe is not None:
        from mmeb.models.vlm2vec import VLM2VecRecipe

        VLM2VecRecipe(**recipe).save(out_dir)
    return out_dir


def sensitize(model, seed: int = 0) -> None:
    """O(1) weights: every matrix Xavier-normal (std sqrt(2 / (fan_in + fan_out))), embeddings N(0, 1), norms 1,
    biases 0. The default 0.02-std init makes attention nearly uniform and hides string, position and resize
    differences (cosines stay > 0.99999); these weights make them show."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2:
                fan_out, fan_in = param.shape[0], param[0].numel()
                std = 1.0 if "embed_tokens" in name or "embedding" in name else (2.0 / (fan_in + fan_out)) ** 0.5
                param.copy_(torch.randn(param.shape, generator=generator) * std)
            elif any(key in name for key in ("norm", "ln_", "layrnorm")):
                param.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)


def _real_size_dtype(model, real: bool):
    import torch

    # real-size weights are saved in bf16 (what the released checkpoints ship) to halve disk and build time
    return model.to(torch.bfloat16) if real else model


# ---------------------------------------------------------------- two-tower builders

def _build_clip(out_dir: Path, words, overrides, sizes: dict | None, preset: str, golden: bool = False) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    # the real CLIP tokenizer pads with its EOS (<|endoftext|>), which the paper's mask rule depends on
    tok = word_tokenizer(words, [], pad="<|endoftext|>", eos="<|endoftext|>", bos="<|startoftext|>",
                         model_max_length=77, add_bos=True, add_eos=True, whitespace_tokens=golden)
    real = sizes is not None
    if not real:
        sizes = dict(text=dict(_TINY_TOWER, max_position_embeddings=77, vocab_size=len(tok)),
                     vision=dict(_TINY_TOWER, image_size=30, patch_size=2), projection_dim=32)
    cfg = _apply_overrides({"text_config": sizes["text"], "vision_config": sizes["vision"],
                            "projection_dim": sizes["projection_dim"]}, overrides, preset)
    text = dict(cfg["text_config"], projection_dim=cfg["projection_dim"], eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id)
    # the vision tower inherits token-id defaults from the real vocabulary; it uses none of them
    vision = dict(cfg["vision_config"], projection_dim=cfg["projection_dim"], bos_token_id=None, eos_token_id=None,
                  pad_token_id=None)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=cfg["projection_dim"]))
    side = vision["image_size"]
    image_processor = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tok)
    if golden:
        sensitize(model)
    return _save(_real_size_dtype(model, real), processor, out_dir, None)


def _build_siglip(out_dir: Path, words, overrides, sizes, preset, golden: bool = False) -> Path:
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    real = sizes is not None
    # as google/siglip-*: pad == EOS (</s>), no BOS, 64 text positions
    tok = word_tokenizer(words, [], pad="</s>", eos="</s>", bos=None, model_max_length=64, add_eos=True,
                         whitespace_tokens=golden)
    if not real:
        sizes = dict(text=dict(_TINY_TOWER, max_position_embeddings=64, vocab_size=len(tok)),
                     vision=dict(_TINY_TOWER, image_size=30, patch_size=2))
    cfg = _apply_overrides({"text_config": sizes["text"], "vision_config": sizes["vision"]}, overrides, preset)
    text = dict(cfg["text_config"], projection_size=cfg["text_config"]["hidden_size"],
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None)
    vision = dict(cfg["vision_config"], bos_token_id=None, eos_token_id=None, pad_token_id=None)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
    side = cfg["vision_config"]["image_size"]
    processor = SiglipProcessor(image_processor=SiglipImageProcessor(size={"height": side, "width": side}),
                                tokenizer=tok)
    if golden:
        sensitize(model)
    return _save(_real_size_dtype(model, real), processor, out_dir, None)


def _build_blip(out_dir: Path, words, overrides, sizes, preset, golden: bool = False) -> Path:
    from transformers import BlipConfig, BlipForImageTextRetrieval, BlipImageProcessor, BlipProcessor

    tok = word_tokenizer(words, ["[CLS]", "[SEP]"], pad="[PAD]", eos="[SEP]", bos="[CLS]", model_max_length=512,
                         add_bos=True, add_eos=True, whitespace_tokens=golden)
    cfg = _apply_overrides({"text_config": dict(_TINY_TOWER, vocab_size=len(tok), max_position_embeddings=512),
                            "vision_config": dict(_TINY_TOWER, image_size=30, patch_size=2)}, overrides, preset)
    width = cfg["vision_config"]["hidden_size"]
    text = dict(cfg["text_config"], encoder_hidden_size=width, pad_token_id=tok.pad_token_id,
                bos_token_id=tok.bos_token_id, sep_token_id=tok.sep_token_id if tok.sep_token else tok.eos_token_id)
    model = BlipForImageTextRetrieval(BlipConfig(text_config=text, vision_config=cfg["vision_config"],
                                                 projection_dim=32, image_text_hidden_size=32))
    side = cfg["vision_config"]["image_size"]
    processor = BlipProcessor(image_processor=BlipImageProcessor(size={"height": side, "width": side}), tokenizer=tok)
    if golden:
        sensitize(model)
    return _save(model, processor, out_dir, None)


def _build_blip2(out_dir: Path, words, overrides, sizes, preset, golden: bool = False) -> Path:
    from transformers import Blip2Config, Blip2ForImageTextRetrieval, Blip2Processor, BlipImageProcessor

    tok = word_tokenizer(words, ["[CLS]", "[SEP]"], pad="[PAD]", eos="[SEP]", bos="[CLS]", model_max_length=512,
                         add_bos=True, add_eos=True, whitespace_tokens=golden)
    cfg = _apply_overrides({
        "vision_config": dict(_TINY_TOWER, image_size=30, patch_size=2),
        "qformer_config": dict(_TINY_TOWER, vocab_size=len(tok), max_position_embeddings=512,
                               cross_attention_frequency=1),
        "num_query_tokens": 4,
    }, overrides, preset)
    qformer = dict(cfg["qformer_config"], encoder_hidden_size=cfg["vision_config"]["hidden_size"],
                   use_qformer_text_input=True, pad_token_id=tok.pad_token_id)
    model = Blip2ForImageTextRetrieval(Blip2Config(
        vision_config=cfg["vision_config"], qformer_config=qformer, num_query_tokens=cfg["num_query_tokens"],
        image_text_hidden_size=32,
        text_config=dict(model_type="opt", vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=4, ffn_dim=37, word_embed_proj_dim=32)))
    side = cfg["vision_config"]["image_size"]
    processor = Blip2Processor(image_processor=BlipImageProcessor(size={"height": side, "width": side}),
                               tokenizer=tok, num_query_tokens=None)
    if golden:
        sensitize(model)
    return _save(model, processor, out_dir, None)


def _build_openclip(out_dir: Path, words, overrides, sizes, preset, golden: bool = False) -> Path:
    """An OpenCLIP folder in the Hub layout (open_clip_config.json + open_clip_model.safetensors); the text
    side uses open_clip's own bundled BPE tokenizer (vocabulary 49408, context 77), so ``words`` is unused."""
    import json

    from safetensors.torch import save_file

    try:
        import open_clip
    except ImportError as exc:
        raise ConfigError("the tiny-openclip preset needs open_clip: pip install 'mmeb[openclip]'") from exc

    cfg = _apply_overrides({
        "embed_dim": 32,
        "vision_cfg": {"image_size": 30, "layers": 2, "width": 32, "head_width": 8, "patch_size": 2},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 2},
    }, overrides, preset)
    model = open_clip.CLIP(**cfg)
    if golden:
        sensitize(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    # the preprocessing numbers of laion/CLIP-ViT-B-16-laion2B-s34B-b88K (shortest-side bicubic resize + crop)
    preprocess = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
                  "interpolation": "bicubic", "resize_mode": "shortest"}
    (out_dir / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": preprocess}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out_dir / "open_clip_model.safetensors"))
    return out_dir


# ---------------------------------------------------------------- VLM builders

_LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<image>"]


def _build_llava_next(out_dir: Path, words, overrides, sizes, preset, golden: bool = False, e5v: bool = False) -> Path:
    """LLaVA-NeXT; ``e5v``: E5-V's Llama-3 tokenizer conventions and non-square grid pinpoints (so the anyres
    padding rule shows), saved without mmeb_model.json (E5-V is its own recipe)."""
    from transformers import (LlavaNextConfig, LlavaNextForConditionalGeneration, LlavaNextImageProcessor,
                              LlavaNextProcessor)

    if e5v:
        tok = word_tokenizer(words, _LLAMA3_SPECIALS, pad="<pad>", eos="<|eot_id|>", bos="<|begin_of_text|>",
                             model_max_length=4096, add_bos=True, whitespace_tokens=golden)
    else:
        tok = word_tokenizer(words, ["<image>"], pad="<pad>", eos="</s>", bos="<s>", model_max_length=4096,
                             add_bos=True, whitespace_tokens=golden)
    real = sizes is not None
    if not real:
        sizes = dict(
            text=dict(model_type="llama", vocab_size=len(tok), hidden_size=32, intermediate_size=37,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                      max_position_embeddings=1024),
            vision=dict(model_type="clip_vision_model", image_size=16, patch_size=2, hidden_size=32,
                        intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, projection_dim=32),
            pinpoints=[[16, 32], [32, 16], [32, 32]] if e5v else [[32, 32]], vision_feature_layer=-1)
        if golden:  # a small rope base so positions matter at head_dim 8
            sizes["text"]["rope_parameters"] = {"rope_type": "default", "rope_theta": 10.0}
    cfg = _apply_overrides({"text_config": sizes["text"], "vision_config": sizes["vision"]}, overrides, preset)
    text = dict(cfg["text_config"], pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                bos_token_id=tok.bos_token_id)
    image_token_id = tok.convert_tokens_to_ids("<image>")
    model = LlavaNextForConditionalGeneration(LlavaNextConfig(
        text_config=text, vision_config=cfg["vision_config"], image_token_index=image_token_id,
        image_grid_pinpoints=sizes["pinpoints"], vision_feature_select_strategy="default",
        vision_feature_layer=sizes["vision_feature_layer"]))
    if golden:
        sensitize(model)
    side = cfg["vision_config"]["image_size"]
    image_processor = LlavaNextImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side},
                                              image_grid_pinpoints=sizes["pinpoints"])
    processor = LlavaNextProcessor(image_processor=image_processor, tokenizer=tok,
                                   patch_size=cfg["vision_config"]["patch_size"], vision_feature_select_strategy="default",
                                   image_token="<image>", num_additional_image_tokens=1)
    recipe = None if e5v else dict(
        backbone="llava_next", image_token="<image>", padding_side="left",
        image_resize=[1344, 1344] if real else None, base_model=f"random_init:{preset}", dtype="bfloat16")
    return _save(_real_size_dtype(model, real), processor, out_dir, recipe)


_QWEN_SPECIALS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                  "<|video_pad|>"]


def _build_qwen2vl(out_dir: Path, words, overrides, sizes, preset, golden: bool = False, gme: bool = False) -> Path:
    """Qwen2-VL; ``gme``: the released Qwen2-VL-Instruct processor caps (3136..12845056), saved without
    mmeb_model.json (GME is its own recipe)."""
    from transformers import (Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor,
                              Qwen2VLProcessor, Qwen2VLVideoProcessor)

    tok = word_tokenizer(words, _QWEN_SPECIALS, pad="<|endoftext|>", eos="<|endoftext|>", bos=None,
                         model_max_length=32768, whitespace_tokens=golden)
    real = sizes is not None
    if not real:
        rope = (dict(rope_parameters={"rope_type": "default", "rope_theta": 10.0, "type": "mrope",
                                      "mrope_section": [2, 1, 1]}) if golden
                else dict(rope_scaling={"type": "mrope", "mrope_section": [2, 1, 1]}))
        sizes = dict(
            text=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096 if golden else 512,
                      **rope),
            vision=dict(depth=2, embed_dim=32, hidden_size=32, num_heads=4, mlp_ratio=4, patch_size=14,
                        spatial_merge_size=2, temporal_patch_size=2))
    cfg = _apply_overrides({"text_config": sizes["text"], "vision_config": sizes["vision"]}, overrides, preset)
    ids = {t: tok.convert_tokens_to_ids(t) for t in _QWEN_SPECIALS}
    text = dict(cfg["text_config"], pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None)
    model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(
        text_config=text, vision_config=cfg["vision_config"], image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"]))
    if golden:
        sensitize(model)
    # tiny: 4..16 merged image tokens; real, golden and GME: the released caps (3136..12845056 px), which
    # VLM2Vec v1 kept (1344 px -> 2304 tokens)
    min_px, max_px = (3136, 12845056) if real or golden or gme else (56 * 56, 112 * 112)
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(min_pixels=min_px, max_pixels=max_px),
                                 tokenizer=tok, video_processor=Qwen2VLVideoProcessor())
    recipe = None if gme else dict(
        backbone="qwen2_vl", image_token="<|image_pad|>", padding_side="left",
        image_resize=[1344, 1344] if real else None, min_pixels=None if golden else min_px,
        max_pixels=None if golden else max_px, base_model=f"random_init:{preset}", dtype="bfloat16")
    return _save(_real_size_dtype(model, real), processor, out_dir, recipe)


# preset -> (builder, real-size numbers or None for tiny)
PRESETS: dict[str, tuple[Callable[..., Path], dict | None]] = {
    "tiny-clip": (_build_clip, None),
    "tiny-siglip": (_build_siglip, None),
    "tiny-blip": (_build_blip, None),
    "tiny-blip2": (_build_blip2, None),
    "tiny-openclip": (_build_openclip, None),
    "tiny-llava-next": (_build_llava_next, None),
    "tiny-qwen2vl": (_build_qwen2vl, None),
    "tiny-gme": (lambda *a, **k: _build_qwen2vl(*a, **k, gme=True), None),
    "tiny-e5v": (lambda *a, **k: _build_llava_next(*a, **k, e5v=True), None),
    "clip-vit-b-16": (_build_clip, _CLIP_B16),
    "clip-vit-l-14": (_build_clip, _CLIP_L14),
    "qwen2vl-2b": (_build_qwen2vl, _QWEN2VL_2B),
    "qwen2vl-7b": (_build_qwen2vl, _QWEN2VL_7B),
    "siglip-so400m": (_build_siglip, _SIGLIP_SO400M),
    "llava-next-7b": (_build_llava_next, _LLAVA_NEXT_7B),
}


def build(preset: str, out_dir, *, vocab_words: list[str] | None = None, seed: int = 0, device: str | None = None,
          golden: bool = False, **overrides) -> Path:
    """Build a random-weight model of ``preset``, save model + processor to ``out_dir``, return the path.

    vocab_words: extra words for the tokenizer (the demo passes its own vocabulary).
    seed:        weight initialisation seed (same seed -> same weights).
    device:      where to initialise the weights ("cuda" makes real-size presets build in seconds).
    golden:      recipe-test weights: a whitespace-sensitive tokenizer (every space and newline a token), O(1)
                 Xavier-scaled weights and rope_theta 10, so any string, position or pixel difference shows.
    overrides:   config numbers to change, e.g. ``hidden_size=64`` (applied to every sub-config that has it).
    """
    import torch

    if preset not in PRESETS:
        raise suggest(preset, PRESETS, "random_init preset")
    builder, sizes = PRESETS[preset]
    torch.manual_seed(seed)
    with torch.device(device or "cpu"):
        return builder(Path(out_dir), vocab_words, overrides, sizes, preset, golden=golden)

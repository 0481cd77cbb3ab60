"""The dtype each registered recipe loads its weights in on a GPU is the official code's (spec models.md s.2-s.6):
VLM2Vec bf16, E5-V fp16, GME default (VLM2Vec V2 eval) bf16 and native (gme_inference.py) fp16.

Checked without a GPU: the loader is stopped at the weights load, where the resolved dtype is handed over."""

import json

import pytest

from mmeb.models import builders, load_model


class _Stop(Exception):
    pass


@pytest.fixture(autouse=True)
def a_gpu_is_present(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.fixture
def captured(monkeypatch):
    seen = {}

    def fake_load_hf(directory, model_type, *, device, dtype, **_):
        seen["dtype"] = dtype
        raise _Stop

    monkeypatch.setattr(builders, "load_hf", fake_load_hf)
    return seen


def _folder(tmp_path, model_type):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    return tmp_path


@pytest.mark.parametrize("name, recipe, model_type, want", [
    ("gme-qwen2vl-2b", "default", "qwen2_vl", "bfloat16"),   # VLM2Vec V2 GmeQwen2VL: torch_dtype=bfloat16
    ("gme-qwen2vl-2b", "native", "qwen2_vl", "float16"),     # gme_inference.py: torch_dtype=torch.float16
    ("gme-qwen2vl-7b", "native", "qwen2_vl", "float16"),
    ("e5-v", "default", "llava_next", "float16"),            # E5-V README: torch.float16
])
def test_gpu_dtype_is_the_official_recipes(captured, tmp_path, name, recipe, model_type, want):
    with pytest.raises(_Stop):
        load_model(name, weights=str(_folder(tmp_path, model_type)), device="cuda", recipe=recipe)
    assert captured["dtype"] == want


def test_an_explicit_dtype_still_wins(captured, tmp_path):
    with pytest.raises(_Stop):
        load_model("gme-qwen2vl-2b", weights=str(_folder(tmp_path, "qwen2_vl")), device="cuda", recipe="native",
                   dtype="bfloat16")
    assert captured["dtype"] == "bfloat16"


@pytest.mark.parametrize("name, model_type", [("clip-vit-l-14", "clip"), ("siglip-so400m-patch14-384", "siglip"),
                                              ("blip2-itm-vit-g", "blip-2")])
def test_clip_family_baselines_run_fp32_on_gpu(captured, tmp_path, name, model_type):
    # VLM2Vec@b1dc1e6 eval_clip.py / eval_siglip.py: from_pretrained (fp32), .to(device), no autocast; eval_blip.py:
    # LAVIS keeps the Q-Former in fp32 (only the frozen ViT-g runs fp16 under autocast)
    with pytest.raises(_Stop):
        load_model(name, weights=str(_folder(tmp_path, model_type)), device="cuda")
    assert captured["dtype"] == "float32"


def test_openclip_baseline_runs_fp32_on_gpu(tmp_path, monkeypatch):
    # eval_openclip.py: create_model_from_pretrained (fp32), .to(device), no autocast
    open_clip = pytest.importorskip("open_clip")
    from mmeb.models import openclip

    seen = {}

    def fake_embedder(*args, dtype=None, **kwargs):
        seen["dtype"] = dtype
        raise _Stop

    monkeypatch.setattr(open_clip, "create_model_from_pretrained", lambda source: (None, None))
    monkeypatch.setattr(open_clip, "get_tokenizer", lambda source: None)
    monkeypatch.setattr(openclip, "OpenCLIPEmbedder", fake_embedder)
    (tmp_path / "open_clip_config.json").write_text("{}")
    (tmp_path / "open_clip_model.safetensors").write_bytes(b"")
    with pytest.raises(_Stop):
        load_model("openclip-vit-b-16-laion2b", weights=str(tmp_path), device="cuda")
    assert seen["dtype"] == "float32"


def test_a_checkpoint_loads_in_the_dtype_its_recipe_file_records(captured, tmp_path):
    # docs/checkpoint-format.md: mmeb_model.json -> the VLM2Vec adapter with exactly the recorded settings
    from mmeb.models.vlm2vec import VLM2VecRecipe

    folder = _folder(tmp_path, "qwen2_vl")
    VLM2VecRecipe.for_backbone("qwen2_vl", dtype="float32").save(folder)
    with pytest.raises(_Stop):
        load_model(str(folder), device="cuda")
    assert captured["dtype"] == "float32"


def test_registered_vlm2vec_recipes_load_bf16_on_gpu(captured, tmp_path):
    with pytest.raises(_Stop):  # VLM2Vec@v1 eval.py: model.to(device, dtype=torch.bfloat16)
        load_model("vlm2vec-qwen2vl-2b", weights=str(_folder(tmp_path, "qwen2_vl")), device="cuda")
    assert captured["dtype"] == "bfloat16"


@pytest.mark.parametrize("name, preset, recipe, want", [
    ("clip-vit-l-14", "tiny-clip", "default", "float32"),
    ("gme-qwen2vl-2b", "tiny-gme", "native", "float16"),
    ("vlm2vec-v2", "tiny-qwen2vl", "default", "bfloat16"),
])
def test_moving_a_cpu_loaded_model_to_a_gpu_keeps_the_recipe_dtype(tiny_dir, monkeypatch, name, preset, recipe, want):
    import torch

    model = load_model(name, weights=str(tiny_dir(preset)), device="cpu", recipe=recipe)
    seen = {}
    monkeypatch.setattr(model.model, "to", lambda *args, **kwargs: seen.update(kwargs))
    model.to("cuda")
    assert seen["dtype"] == getattr(torch, want)

"""End to end on CPU: a short run learns, the checkpoint loads in the harness, LoRA/DoRA merge
exactly, a killed run resumes at the right step."""

from __future__ import annotations

import json

import pytest
import torch

from mmeb.models.protocol import ModelInput
from mmeb.training import train

from conftest import COLORS, png


def _config(model, layout, out, **kw):
    cfg = dict(model=str(model), train_data=str(layout), subsets=["VOC2007", "MSCOCO_t2i"], output_dir=str(out),
               global_batch_size=8, query_chunk_size=4, target_chunk_size=4, max_steps=2, save_steps=100,
               learning_rate=1e-3, warmup_steps=0, bf16=False, logging_steps=1, seed=0)
    return cfg | kw


def _hit_at_1(model_dir) -> float:
    """Image -> colour word over the 8 colours, through the harness's own loader."""
    from mmeb import load_model

    model = load_model(str(model_dir), device="cpu", dtype="float32")
    from PIL import Image
    import io

    words = list(COLORS)
    queries = [ModelInput("Represent the given image for classification", "",
                          Image.open(io.BytesIO(png(COLORS[w]))), "<|image_1|>\nRepresent the given image for classification\n")
               for w in words]
    cands = [ModelInput("", w, None, w) for w in words]
    q = torch.as_tensor(model.encode(queries, task_name="t", role="query"))
    c = torch.as_tensor(model.encode(cands, task_name="t", role="candidate"))
    return (q @ c.T).argmax(1).eq(torch.arange(len(words))).float().mean().item()


@pytest.mark.slow  # ~20 s on a shared 2-core CPU
def test_short_run_lowers_the_loss_and_raises_hit_at_1(tiny_qwen2vl, train_layout, tmp_path):
    out = train(_config(tiny_qwen2vl, train_layout, tmp_path / "run", lora=False, max_steps=12, learning_rate=3e-3))
    recipe = json.loads((out / "mmeb_model.json").read_text())
    losses = recipe["training"]["loss_history"]
    assert len(losses) == 12
    assert sum(losses[-4:]) < 0.5 * sum(losses[:4])  # measured: ~16 -> ~1
    assert recipe["backbone"] == "qwen2_vl" and recipe["lora"] is None
    assert recipe["data"]["rows_per_subset"] == {"VOC2007": 24, "MSCOCO_t2i": 24}
    assert recipe["training"]["config"]["temperature"] == 0.02
    assert _hit_at_1(out) > _hit_at_1(tiny_qwen2vl) + 0.25


@pytest.mark.parametrize("dora", [False, True])
def test_lora_and_dora_merge_reloads_identically(tiny_qwen2vl, train_layout, tmp_path, dora):
    """The exported merged weights, as the harness loads them, embed exactly like base + adapter."""
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from mmeb import load_model

    out = train(_config(tiny_qwen2vl, train_layout, tmp_path / "run", lora=True, dora=dora, lora_r=4,
                        learning_rate=5e-2))
    recipe = json.loads((out / "mmeb_model.json").read_text())
    assert recipe["lora"]["dora"] is dora and recipe["lora"]["merged"] is True
    merged = load_model(str(out), device="cpu", dtype="float32")
    base = AutoModelForImageTextToText.from_pretrained(str(tiny_qwen2vl))
    adapted = load_model(str(out), device="cpu", dtype="float32")
    # unmerged: the LoRA/DoRA layers are injected into `base` in place and computed on the fly
    adapted.model = PeftModel.from_pretrained(base, str(out / "adapter")).get_base_model().eval()
    inputs = [ModelInput("", "", None, "find a red image\n"), ModelInput("", "blue", None, "blue")]
    a = torch.as_tensor(merged.encode(inputs, task_name="t", role="query"))
    b = torch.as_tensor(adapted.encode(inputs, task_name="t", role="query"))
    base_emb = torch.as_tensor(load_model(str(tiny_qwen2vl), device="cpu", dtype="float32").encode(inputs, task_name="t", role="query"))
    assert (a - b).abs().max() < 1e-5
    assert (a - base_emb).abs().max() > 1e-3  # the adapter did change the model

    # no conversion step: `mmeb run --model <output dir>` evaluates the checkpoint as written
    from mmeb.cli import main
    from mmeb.testing.mirror import write_mirror

    mirror = write_mirror(tmp_path / "eval", ["VOC2007", "MSCOCO_t2i"], n_queries=4)
    assert main(["run", "--model", str(out), "--tasks", "VOC2007", "MSCOCO_t2i", "--data-dir", str(mirror),
                 "--output-dir", str(tmp_path / "results"), "--device", "cpu", "--no-progress"]) == 0
    result = json.loads(next((tmp_path / "results").rglob("VOC2007.json")).read_text())
    assert result["n_queries"] == 4 and 0 <= result["main_score"] <= 1
    assert result["model"]["settings"]["adapter"] == "vlm2vec" and "last non-pad token" in result["model"]["settings"]["pooling"]


def test_resume_continues_from_the_last_checkpoint(tiny_qwen2vl, train_layout, tmp_path):
    """A run stopped after 3 steps and resumed to 5 is the uninterrupted 5-step run: weights, optimizer, data
    order and RNG all come back (a constant schedule, so that the first run's max_steps does not shape it)."""
    from safetensors.torch import load_file

    run, whole = tmp_path / "run", tmp_path / "whole"
    train(_config(tiny_qwen2vl, train_layout, run, max_steps=3, save_steps=2, lr_scheduler="constant"))
    assert (run / "checkpoint-2").is_dir()
    out = train(_config(tiny_qwen2vl, train_layout, run, max_steps=5, save_steps=2, lr_scheduler="constant"))
    effective = json.loads((out / "mmeb_model.json").read_text())["training"]["effective"]
    assert effective["resumed_from"].endswith("checkpoint-3")  # the final save of the first run
    assert effective["steps"] == 5
    state = json.loads((run / "checkpoint-5" / "trainer_state.json").read_text())
    assert [h["step"] for h in state["log_history"] if "loss" in h] == [1, 2, 3, 4, 5]

    train(_config(tiny_qwen2vl, train_layout, whole, max_steps=5, save_steps=100, lr_scheduler="constant"))
    resumed, uninterrupted = (load_file(str(d / "model.safetensors")) for d in (run, whole))
    assert all(torch.allclose(resumed[k], uninterrupted[k], rtol=0, atol=1e-6) for k in uninterrupted)


def test_resuming_a_checkpoint_of_other_settings_is_refused_in_one_line(tiny_qwen2vl, train_layout, tmp_path):
    """resume: auto in an output_dir whose checkpoints came from another learning rate would continue them
    under the new one (a model of two recipes); only saving, logging, length and memory settings may change."""
    from mmeb.errors import ConfigError

    run = tmp_path / "run"
    train(_config(tiny_qwen2vl, train_layout, run, max_steps=2, save_steps=1), progress=False)
    with pytest.raises(ConfigError) as info:
        train(_config(tiny_qwen2vl, train_layout, run, max_steps=3, save_steps=1, learning_rate=5e-4),
              progress=False)
    message = str(info.value)
    assert "learning_rate: 0.001 -> 0.0005" in message and "checkpoint-2" in message and "\n" not in message
    out = train(_config(tiny_qwen2vl, train_layout, run, max_steps=3, save_steps=1, logging_steps=2),
                progress=False)  # a longer run with other logging resumes
    assert json.loads((out / "mmeb_model.json").read_text())["training"]["effective"]["resumed_from"].endswith(
        "checkpoint-2")


def test_same_config_and_seed_train_the_same_model(tiny_qwen2vl, train_layout, tmp_path):
    """`seed` covers the LoRA init too: whatever the process's RNG state before the call (a fresh process
    starts from a random one), the same config trains the same weights."""
    from safetensors.torch import load_file

    weights = []
    for run, noise in (("a", 1), ("b", 2)):
        torch.manual_seed(noise)
        out = train(_config(tiny_qwen2vl, train_layout, tmp_path / run, lr_scheduler="constant"), progress=False)
        weights.append(load_file(str(out / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_recorded_loss_names_the_loss_that_ran(tiny_qwen2vl, train_layout, tmp_path):
    out = train(_config(tiny_qwen2vl, train_layout, tmp_path / "plain", gradcache=False, max_steps=1), progress=False)
    effective = json.loads((out / "mmeb_model.json").read_text())["training"]["effective"]
    assert effective["gradcache_chunk_size"] is None
    assert "cached" not in effective["loss"] and "gather" not in effective["loss"], effective["loss"]
    assert effective["loss"].startswith("InfoNCE")

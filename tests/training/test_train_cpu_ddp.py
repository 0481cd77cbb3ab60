"""`mmeb train` under torchrun on the CPU: two gloo processes really train as one DDP job (the first step's
loss over the global batch equals one process's), and FSDP / DeepSpeed, which Accelerate enables only on
accelerators, are refused on the CPU instead of silently running as DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from mmeb.errors import ConfigError
from mmeb.training.trainer import check


def _config(model, layout, out, **kw) -> dict:
    return dict(model=str(model), train_data=str(layout), subsets=["VOC2007", "MSCOCO_t2i"], output_dir=str(out),
                global_batch_size=8, query_chunk_size=2, target_chunk_size=2, max_steps=1, save_steps=100,
                learning_rate=1e-3, warmup_steps=0, bf16=False, logging_steps=1, seed=0, lora=False,
                num_workers=0) | kw


def _train(config: dict, tmp_path, processes: int) -> dict:
    path = tmp_path / f"{processes}.json"
    path.write_text(json.dumps(config))
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                 "--master_port", str(29500 + os.getpid() % 1000)] if processes > 1 else [sys.executable])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([*launcher, "-m", "mmeb", "train", "--config", str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained model written to") == 1, done.stdout  # rank 0 speaks for the job
    return json.loads((tmp_path / config["output_dir"] / "mmeb_model.json").read_text())["training"]


@pytest.mark.slow  # three fresh processes import torch + transformers and train one step
def test_two_torchrun_processes_train_as_one_ddp_job(tiny_qwen2vl, train_layout, tmp_path):
    ddp = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "ddp"), tmp_path, 2)
    one = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "one"), tmp_path, 1)
    assert ddp["effective"]["wrapper"] == "DistributedDataParallel" and ddp["effective"]["world_size"] == 2
    assert ddp["loss_history"][0] == pytest.approx(one["loss_history"][0], rel=1e-5)


@pytest.mark.slow  # two torchrun jobs of two processes each
def test_fsdp_on_cpu_shards_the_model_and_matches_ddp_first_step(tiny_qwen2vl, train_layout, tmp_path):
    fsdp = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "fsdp", fsdp="full_shard"), tmp_path, 2)
    ddp = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "ddp"), tmp_path, 2)
    assert fsdp["effective"]["distributed_type"].endswith("FSDP"), fsdp["effective"]
    assert fsdp["effective"]["wrapper"] == "FullyShardedDataParallel", fsdp["effective"]
    assert fsdp["loss_history"][0] == pytest.approx(ddp["loss_history"][0], rel=1e-5)
    # the export gathers the shards: the same tensors, of full shape, as the DDP run's export
    shapes = [{k: t.shape for k, t in load_file(str(tmp_path / run / "model.safetensors")).items()}
              for run in ("fsdp", "ddp")]
    assert shapes[0] == shapes[1] and all(0 not in shape for shape in shapes[0].values())


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="the refusals are for machines without a GPU")
@pytest.mark.parametrize("setting, message", [({"fsdp": "full_shard"}, "several processes"),
                                              ({"deepspeed": "zero2.json"}, "needs GPUs")])
def test_one_process_fsdp_and_cpu_deepspeed_are_refused(tiny_qwen2vl, train_layout, tmp_path, setting, message,
                                                        monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(ConfigError, match=message):
        check(_config(tiny_qwen2vl, train_layout, tmp_path / "x", **setting))


@pytest.mark.slow  # two torchrun jobs of two processes each
def test_fsdp_checkpoint_holds_whole_tensors_and_resumes_the_same_step(tiny_qwen2vl, train_layout, tmp_path):
    settings = dict(fsdp="full_shard", lora=True, max_steps=2, save_steps=1)
    whole = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "whole", **settings), tmp_path, 2)
    checkpoint = tmp_path / "whole" / "checkpoint-1"
    saved = load_file(str(checkpoint / "trainable.safetensors"))
    assert saved and all("lora_" in k and "_fsdp" not in k for k in saved)
    assert all(t.numel() > 0 for t in saved.values()), {k: t.shape for k, t in saved.items()}
    resumed = _train(_config(tiny_qwen2vl, train_layout, tmp_path / "resumed", resume=str(checkpoint), **settings),
                     tmp_path, 2)
    assert resumed["effective"]["resumed_from"] == str(checkpoint)
    assert resumed["loss_history"][-1] == pytest.approx(whole["loss_history"][1], rel=1e-5)

"""query/target_chunk_size auto: the chunk from free memory, and the step it takes is exactly the step
of a fixed chunk of the same size."""

from __future__ import annotations

import pytest
import torch

from mmeb.training import autochunk
from mmeb.training.config import TrainConfig
from mmeb.training.encoder import raw_features
from mmeb.training.trainer import build_loss

from test_loss import _batch, _grads, _model


def test_choose_chunk_is_the_largest_fitting_divisor_of_the_batch():
    mib = 2**20
    assert autochunk.choose_chunk(32, per_row_bytes=mib, free_bytes=10**6 * mib) == 32  # ample: the batch
    assert autochunk.choose_chunk(32, per_row_bytes=mib, free_bytes=20 * mib, share=0.5) == 8  # 10 rows fit
    assert autochunk.choose_chunk(24, per_row_bytes=mib, free_bytes=20 * mib, share=0.5) == 8  # divisor <= 10
    assert autochunk.choose_chunk(32, per_row_bytes=mib, free_bytes=0) == 1  # never below one row
    assert autochunk.choose_chunk(32, per_row_bytes=mib, free_bytes=10**6 * mib, cap=4) == 4  # the fixed side


def _step(st, loss_fn, columns):
    st.zero_grad()
    loss = loss_fn([raw_features(c) for c in columns], None)
    loss.backward()
    return loss.item(), _grads(st)


@pytest.mark.parametrize("free_mib, expected", [(10**7, 6), (None, 2)])
def test_auto_picks_from_free_memory_and_steps_like_the_fixed_chunk(tiny_qwen2vl, monkeypatch, free_mib, expected):
    """Ample memory: the whole per-device batch of 6; scarce (room for 2.x rows): 2. Dropout on (LoRA),
    so an unrestored RNG in the probe would change the step; loss and gradients equal the fixed chunk's."""
    cfg, st, encoder = _model(tiny_qwen2vl, lora=True, query_chunk_size="auto", target_chunk_size="auto",
                              global_batch_size=6)
    st.train()
    q, t, _ = _batch()
    per_row = autochunk.measure_row_bytes(st, [raw_features(q), raw_features(t)])
    assert per_row > 0
    free = free_mib * 2**20 if free_mib else int(2.5 * per_row / autochunk.AUTO_MEMORY_SHARE)
    monkeypatch.setattr(autochunk, "free_memory_bytes", lambda device: free)
    auto_loss = build_loss(st, cfg)
    torch.manual_seed(1)
    loss_a, grads_a = _step(st, auto_loss, [q, t])
    assert auto_loss.mini_batch_size == expected
    fixed = build_loss(st, cfg.model_copy(update={"query_chunk_size": expected, "target_chunk_size": expected}))
    torch.manual_seed(1)
    loss_f, grads_f = _step(st, fixed, [q, t])
    assert loss_a == loss_f
    assert grads_a.keys() == grads_f.keys() and grads_a
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_f[name]), name


def test_auto_on_one_side_is_capped_by_the_other(tiny_qwen2vl, monkeypatch):
    cfg, st, _ = _model(tiny_qwen2vl, query_chunk_size="auto", target_chunk_size=3, global_batch_size=6)
    monkeypatch.setattr(autochunk, "free_memory_bytes", lambda device: 2**50)
    q, t, _ = _batch()
    loss_fn = build_loss(st, cfg)
    _step(st, loss_fn, [q, t])
    assert loss_fn.mini_batch_size == 3


def test_auto_is_refused_with_sharded_engines():
    with pytest.raises(ValueError, match="auto"):
        TrainConfig(model="m", subsets=["VOC2007"], output_dir="o", query_chunk_size="auto", fsdp="full_shard")


def test_free_memory_on_cpu_is_positive():
    assert autochunk.free_memory_bytes(torch.device("cpu")) > 0


def test_train_records_the_chunk_auto_chose(tiny_qwen2vl, train_layout, tmp_path, monkeypatch):
    import json

    from mmeb.training import train
    from test_train import _config

    monkeypatch.setattr(autochunk, "free_memory_bytes", lambda device: 2**50)  # ample: the whole batch of 8
    out = train(_config(tiny_qwen2vl, train_layout, tmp_path / "run", query_chunk_size="auto",
                        target_chunk_size="auto", max_steps=1), progress=False)
    training = json.loads((out / "mmeb_model.json").read_text())["training"]
    assert training["effective"]["gradcache_chunk_size"] == 8
    assert training["config"]["query_chunk_size"] == "auto"

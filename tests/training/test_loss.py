"""The objective: GradCache gives the full-batch InfoNCE gradient; hard negatives join the softmax;
an absent hard negative takes no softmax mass."""

from __future__ import annotations

import pytest
import torch

from mmeb.training.config import TrainConfig
from mmeb.training.encoder import RawInput, raw_features
from mmeb.training.model import build_st_model
from mmeb.training.trainer import build_loss

from conftest import COLORS, png

TAU = 0.02


def _batch():
    words = list(COLORS)
    queries = [RawInput("<|image_1|>\nRepresent the given image\n", png(COLORS[w], (28 + 14 * (i % 3), 28)))
               if i % 2 == 0 else RawInput(f"find a {w} image\n") for i, w in enumerate(words[:6])]
    targets = [RawInput(w) if i % 2 == 0 else RawInput("<|image_1|>\n", png(COLORS[w]))
               for i, w in enumerate(words[:6])]
    negatives = [RawInput(words[(i + 3) % 8]) if i != 2 else None for i in range(6)]
    return queries, targets, negatives


def _model(tiny_qwen2vl, **kw):
    kw.setdefault("lora", False)
    cfg = TrainConfig(model=str(tiny_qwen2vl), subsets=["VOC2007"], output_dir="unused", temperature=TAU, **kw)
    torch.manual_seed(0)
    st, encoder = build_st_model(cfg)
    st.double()
    return cfg, st, encoder


def _grads(st):
    return {n: p.grad.detach().clone() for n, p in st.named_parameters() if p.grad is not None}


def _loss_and_grads(st, loss_fn, columns):
    st.zero_grad()
    loss = loss_fn([raw_features(c) for c in columns], None)
    loss.backward()
    return loss.item(), _grads(st)


def _reference_infonce(st, encoder, columns):
    """Independent InfoNCE: q_i against every target (and every present negative), cross-entropy."""
    st.zero_grad()
    q = encoder.embed(columns[0])
    docs = [encoder.embed(columns[1])]
    if len(columns) > 2:
        present = [i for i, r in enumerate(columns[2]) if r is not None]
        docs.append(encoder.embed([columns[2][i] for i in present]))
    logits = q @ torch.cat(docs).T / TAU
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(q)))
    loss.backward()
    return loss.item(), _grads(st)


def _assert_same(a, b, rtol):
    assert a.keys() == b.keys() and a
    for name in a:
        scale = b[name].abs().max().clamp_min(1e-12)
        assert (a[name] - b[name]).abs().max() / scale < rtol, name


def test_gradcache_gradient_equals_full_batch_gradient(tiny_qwen2vl):
    """float64, chunks of 2 over a batch of 6 mixing image and text rows: equal to 1e-9 relative."""
    cfg, st, encoder = _model(tiny_qwen2vl, query_chunk_size=2, target_chunk_size=2, global_batch_size=6)
    q, t, _ = _batch()
    cached_loss, cached = _loss_and_grads(st, build_loss(st, cfg), [q, t])
    full_cfg = cfg.model_copy(update={"gradcache": False})
    full_loss, full = _loss_and_grads(st, build_loss(st, full_cfg), [q, t])
    ref_loss, ref = _reference_infonce(st, encoder, [q, t])
    assert cached_loss == pytest.approx(ref_loss, rel=1e-9) and full_loss == pytest.approx(ref_loss, rel=1e-9)
    _assert_same(cached, ref, 1e-9)
    _assert_same(full, ref, 1e-9)


def test_hard_negatives_join_the_softmax_and_absent_ones_are_masked(tiny_qwen2vl):
    cfg, st, encoder = _model(tiny_qwen2vl, query_chunk_size=3, target_chunk_size=3, global_batch_size=6)
    q, t, n = _batch()
    loss_fn = build_loss(st, cfg)
    plain, _ = _loss_and_grads(st, loss_fn, [q, t])
    with_neg, grads = _loss_and_grads(st, loss_fn, [q, t, n])
    assert with_neg > plain  # more candidates in every denominator
    # row 2 has no negative: the reference leaves it out of the candidate set entirely
    ref_loss, ref = _reference_infonce(st, encoder, [q, t, n])
    assert with_neg == pytest.approx(ref_loss, rel=1e-9)
    _assert_same(grads, ref, 1e-9)

"""Late processing without paying twice: GradCache's two passes share each chunk's processed tensors
(within the host-memory budget), the gradient is unchanged, and the memo is empty after the step."""

from __future__ import annotations

import pickle

import torch

from mmeb.training.collate import VLM2VecCollator
from mmeb.training.encoder import ByteBudget, ChunkMemo, RawInput, _next_chunk, raw_features
from mmeb.training.trainer import build_loss

from test_loss import _batch, _model


def _count_process_calls(encoder) -> list[int]:
    sizes: list[int] = []
    process = encoder.process

    def counted(raws):
        sizes.append(len(raws))
        return process(raws)

    encoder.process = counted
    return sizes


def _step(st, loss_fn, columns, budget_bytes):
    budget = ByteBudget(budget_bytes)
    memos = [ChunkMemo(budget) for _ in columns]
    st.zero_grad()
    loss = loss_fn([raw_features(c, m) for c, m in zip(columns, memos)], None)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in st.named_parameters() if p.grad is not None}
    return loss.item(), grads, budget, memos


def test_each_chunk_is_processed_once_per_step_and_the_gradient_is_unchanged(tiny_qwen2vl):
    cfg, st, encoder = _model(tiny_qwen2vl, query_chunk_size=2, target_chunk_size=2, global_batch_size=6)
    q, t, n = _batch()
    loss_fn = build_loss(st, cfg)
    calls = _count_process_calls(encoder)

    kept_loss, kept, budget, memos = _step(st, loss_fn, [q, t, n], 2**30)
    # 3 columns x 3 chunks, once each; row 2's absent negative is never processed
    assert len(calls) == 9 and sum(calls) == 6 + 6 + 5
    assert budget.peak > 0 and budget.used == 0  # everything kept was handed back during backward
    assert all(not m._entries for m in memos)

    calls.clear()
    again_loss, again, budget, _ = _step(st, loss_fn, [q, t, n], 0)  # nothing kept: both passes process
    assert len(calls) == 18 and budget.peak == 0
    assert kept_loss == again_loss
    assert kept.keys() == again.keys() and all(torch.equal(kept[k], again[k]) for k in kept)


def test_the_budget_caps_what_is_kept_and_the_rest_is_processed_again(tiny_qwen2vl):
    cfg, st, encoder = _model(tiny_qwen2vl, query_chunk_size=2, target_chunk_size=2, global_batch_size=6)
    q, t, _ = _batch()
    loss_fn = build_loss(st, cfg)
    one_chunk = encoder.prepare(q[:2]).nbytes  # an image + a text row: the largest query chunk
    calls = _count_process_calls(encoder)
    _, _, budget, memos = _step(st, loss_fn, [q, t], one_chunk)
    assert 0 < budget.peak <= one_chunk
    assert 6 < len(calls) < 12  # some chunks reused, the others processed in both passes
    assert budget.used == 0 and all(not m._entries for m in memos)
    # a kept chunk is handed to the model twice: in float32 on the CPU (no copy on .to()) it must not
    # be modified in place
    st.float()
    chunk = encoder.prepare(q[:2])
    before = {k: v.clone() for k, v in chunk.tensors.items()}
    with torch.no_grad():
        encoder._embed_tensors(chunk.tensors)
    assert all(torch.equal(before[k], chunk.tensors[k]) for k in before)


def test_encode_path_and_plain_loss_process_once_without_keeping(tiny_qwen2vl):
    cfg, st, encoder = _model(tiny_qwen2vl, global_batch_size=6, gradcache=False)
    q, t, _ = _batch()
    calls = _count_process_calls(encoder)
    _, _, budget, _ = _step(st, build_loss(st, cfg), [q, t], 2**30)
    assert calls == [6, 6] and budget.peak == 0
    features = encoder.preprocess(["a red car", {"text": "blue"}])
    assert "chunks" not in features  # SentenceTransformer.encode: one pass, nothing to reuse
    with torch.no_grad():
        assert encoder(features)["sentence_embedding"].shape[0] == 2


def test_collated_batches_share_one_budget_and_survive_worker_pickling(train_layout):
    from mmeb.training.data import load_train_data

    data = load_train_data(str(train_layout), {"VOC2007": 1.0}, hard_negatives=True)
    batch = VLM2VecCollator(data, hard_negatives=True, chunk_cache_gib=0.5)([{"pair": i} for i in range(4)])
    memos = [batch[f"{c}_chunks"] for c in ("query", "positive", "negative")]
    assert memos[0].budget is memos[1].budget is memos[2].budget
    assert memos[0].budget.limit == 2**29
    shipped = pickle.loads(pickle.dumps(batch))  # DataLoader workers send batches by pickle
    assert shipped["query_chunks"].budget is shipped["negative_chunks"].budget
    assert isinstance(shipped["query_inputs"][0], RawInput)


def test_next_chunk_follows_contiguous_slices():
    assert _next_chunk([0, 1], 5) == (2, 3)
    assert _next_chunk([2, 3], 5) == (4,)
    assert _next_chunk([4], 5) is None
    assert _next_chunk([0, 2], 5) is None  # not a slice GradCache makes: no guess


def test_frozen_vision_tower_runs_once_per_chunk_and_the_gradient_is_unchanged(tiny_qwen2vl):
    """LoRA on the language model leaves the vision tower frozen: GradCache's gradient pass reuses the
    no-grad pass's image features (bit-identical gradient) instead of running the tower again."""
    cfg, st, encoder = _model(tiny_qwen2vl, query_chunk_size=2, target_chunk_size=2, global_batch_size=6,
                              lora=True)
    assert encoder._frozen_tower() is not None
    tower = encoder._frozen_tower().visual
    runs: list[bool] = []
    tower.register_forward_hook(lambda *_: runs.append(torch.is_grad_enabled()))
    q, t, n = _batch()
    loss_fn = build_loss(st, cfg)

    torch.manual_seed(1)  # LoRA dropout: the same draws in both steps (GradCache replays them per chunk)
    kept_loss, kept, budget, memos = _step(st, loss_fn, [q, t, n], 2**30)
    image_chunks = 6  # chunks of 2 rows; queries have images in rows 0/2/4, targets in rows 1/3/5
    assert runs == [False] * image_chunks  # no run inside the gradient pass
    assert budget.used == 0 and all(not m._features for m in memos)

    runs.clear()
    torch.manual_seed(1)
    again_loss, again, _, _ = _step(st, loss_fn, [q, t, n], 0)  # nothing kept: the tower runs in both passes
    assert runs.count(True) == image_chunks and runs.count(False) == image_chunks
    assert kept_loss == again_loss
    assert kept.keys() == again.keys() and all(torch.equal(kept[k], again[k]) for k in kept)


def test_a_trainable_vision_tower_is_always_run(tiny_qwen2vl):
    _, _, encoder = _model(tiny_qwen2vl, lora=False)  # full fine-tune: the tower trains
    assert encoder._frozen_tower() is None

"""A tiny random-weight CLIP through load_model: the fast path (prepare in workers) equals encode()."""

from __future__ import annotations

import pytest

from mmeb.evaluation import evaluate

TASKS = ["ImageNet-1K", "MSCOCO_t2i", "CIRR"]


@pytest.fixture(scope="module")
def clip_and_mirror(tmp_path_factory):
    from mmeb.testing.mirror import write_mirror
    from mmeb.testing.models import build

    root = tmp_path_factory.mktemp("clip")
    return build("tiny-clip", root / "model"), write_mirror(root / "mirror", TASKS, n_queries=8, seed=2)


def test_fast_path_with_workers_equals_protocol_path(clip_and_mirror, tmp_path):
    model_dir, mirror = clip_and_mirror
    common = dict(data_dir=str(mirror), device="cpu", batch_size=4, save_predictions=True, progress=False)
    fast = evaluate(str(model_dir), TASKS, num_workers=2, output_dir=str(tmp_path), **common)
    plain = evaluate(str(model_dir), TASKS, num_workers=0, fast_path=False, **common)
    for a, b in zip(fast, plain):
        assert a.predictions == b.predictions and a.scores == b.scores
    assert fast[0].model.settings  # the adapter's settings are recorded

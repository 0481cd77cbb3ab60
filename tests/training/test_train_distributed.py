"""Cross-device negatives: 2 gloo processes (DDP, gathered embeddings) == 1 process on the
concatenated batch, in loss and in gradients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.slow  # two fresh processes import torch + transformers
def test_two_process_gather_equals_one_process_on_the_concatenated_batch(tiny_qwen2vl, tmp_path):
    worker = Path(__file__).with_name("dist_worker.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(worker), str(tiny_qwen2vl), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ddp, single = torch.load(tmp_path / "ddp.pt"), torch.load(tmp_path / "single.pt")
    assert ddp["loss"] == pytest.approx(single["loss"], rel=1e-9)
    assert ddp["grads"].keys() == single["grads"].keys()
    for name, g in single["grads"].items():
        assert (ddp["grads"][name] - g).abs().max() <= 1e-9 * g.abs().max().clamp_min(1e-12), name

"""torchrun with 2 CPU processes (gloo) shards the encoding and gives exactly the 1-process results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmeb.evaluation import evaluate
from toy_models import ContentModel

TOY_FILE = Path(__file__).parent / "toy_models.py"
TASKS = ["ImageNet-1K", "MSCOCO_t2i", "RefCOCO-Matching"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    from mmeb.testing.mirror import write_mirror

    return write_mirror(tmp_path_factory.mktemp("mirror"), TASKS, n_queries=10, seed=3)


def test_two_processes_equal_one_process(mirror, tmp_path):
    single = {r.task_name: r for r in evaluate(ContentModel(), TASKS, data_dir=str(mirror), batch_size=3,
                                                num_workers=0, save_predictions=True, progress=False)}
    env = dict(os.environ, OMP_NUM_THREADS="1", TOY_CALL_LOG=str(tmp_path / "calls"))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "mmeb", "run", "--model", f"{TOY_FILE}:ContentModel", "--tasks", *TASKS,
               "--data-dir", str(mirror), "--output-dir", str(tmp_path / "out"), "--batch-size", "3",
               "--num-workers", "0", "--save-predictions", "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    for task in TASKS:
        sharded = json.loads((tmp_path / "out" / "toy__content-model" / "r1" / f"{task}.json").read_text())
        assert sharded["evaluation"]["world_size"] == 2
        assert sharded["predictions"] == [p.model_dump() for p in single[task].predictions]
        assert sharded["scores"] == single[task].scores.model_dump(exclude_none=True)
    # each rank encoded a share, and together exactly the unique items of one process
    per_rank = [sum(int(line.split()[2]) for line in (tmp_path / f"calls.{rank}").read_text().splitlines())
                for rank in (0, 1)]
    assert min(per_rank) > 0
    unique_items = sum(len({key for key in _unique_keys(mirror, task)}) for task in TASKS)
    assert sum(per_rank) == unique_items


def _unique_keys(mirror, task):
    from mmeb.tasks import get_task

    data = get_task(task).load(data_dir=str(mirror))
    return {("q",) + row.query.key for row in data.rows} | {("c",) + c.key for row in data.rows for c in row.candidates}


RANK_SCRIPT = '''
import datetime, os, sys
import numpy as np
import torch, torch.distributed as dist, torch.multiprocessing as mp

sys.path.insert(0, {tests!r})


def worker(rank, cache_dir, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2")
    dist.init_process_group("gloo", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=60))
    from mmeb.evaluation.cache import EmbeddingCache
    from mmeb.evaluation.encoding import EncodeOptions, Encoder
    from engine_testdata import text_item
    from toy_models import ContentModel

    items = [text_item(f"t{{i}}") for i in range(9)]
    again = items[:5] + [text_item(f"new{{i}}") for i in range(4)]
    options = EncodeOptions(batch_size=2, num_workers=0)
    with Encoder(ContentModel(), options, EmbeddingCache(cache_dir, {{"name": "m"}})) as encoder:
        encoder.encode(items, None, task_name="T", role="query")
        second = encoder.encode(again, None, task_name="T", role="query")  # 5 of 9 stored by rank 0 meanwhile
    with Encoder(ContentModel(), options) as encoder:
        reference = encoder.encode(again, None, task_name="T", role="query")
    with open(f"{{cache_dir}}.rank{{rank}}", "w") as handle:
        handle.write(f"equal {{torch.equal(second, reference)}}")

    class MixedDims(ContentModel):  # rank 1's batches disagree in dim: every rank must fail, none hang
        def encode(self, inputs, **context):
            self.calls.append(len(inputs))
            return np.ones((len(inputs), 8 if rank == 1 and len(self.calls) == 1 else 16))

    with Encoder(MixedDims(), options) as encoder:
        try:
            encoder.encode(items, None, task_name="T", role="query")
            outcome = "no error"
        except Exception as exc:
            outcome = f"{{type(exc).__name__}}: {{exc}}"
    with open(f"{{cache_dir}}.dims{{rank}}", "w") as handle:
        handle.write(outcome)
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2])), nprocs=2)
'''


@pytest.mark.slow
def test_ranks_plan_alike_and_fail_alike(tmp_path):
    """Only rank 0 writes the cache: a role whose items rank 0 stored earlier in the same run (MMEB-V1 and
    MMEB-V2 tasks share names) must be planned the same on every rank, or rows go missing. A model output
    error on one rank fails every rank (none waits for the others in a gather)."""
    import socket

    script = tmp_path / "ranks.py"
    script.write_text(RANK_SCRIPT.format(tests=str(Path(__file__).parent)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "cache"), str(port)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [(tmp_path / f"cache.rank{rank}").read_text() for rank in (0, 1)] == ["equal True", "equal True"]
    dims = [(tmp_path / f"cache.dims{rank}").read_text() for rank in (0, 1)]
    assert dims[0].startswith("MMEBError: rank 1 failed while encoding") and "different dims [8, 16]" in dims[0]
    assert dims[1].startswith("ModelOutputError: task T, role query: batches returned different dims [8, 16]")

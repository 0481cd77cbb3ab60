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

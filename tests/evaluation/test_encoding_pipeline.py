"""The encoding pipeline seen from outside: each image read once, no image bytes on a warm rerun, content
identity by image bytes, the next role's and task's batches prepared before the current role finishes,
token-budget batches."""

from __future__ import annotations

import os
import time
import zipfile
from collections import Counter

import numpy as np
import pytest

from engine_testdata import TIE_IMAGES, image_item, make_task, png, text_item, tie_rows
from mmeb.data.images import ZipImageStore
from mmeb.data.items import QueryRow, TaskData
from mmeb.evaluation import evaluate
from mmeb.evaluation.planning import plan_token_batches
from toy_models import ContentModel, FastPathModel


class CountingZipStore(ZipImageStore):
    """The real zip store, counting every read of an image's bytes."""

    reads: Counter = Counter()

    def read_bytes(self, path):
        CountingZipStore.reads[path] += 1
        return super().read_bytes(path)


def zip_task(tmp_path, name, rows, images, archive="images.zip"):
    path = tmp_path / archive
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in images.items():
            zf.writestr(member, data)
    task = make_task(name, rows, images)
    task.load = lambda data_dir=None, **kw: TaskData(task_name=name, rows=rows, images=CountingZipStore(path),
                                                     dataset_id="test/engine", revision="rev-test",
                                                     source="synthetic:zip")
    return task


@pytest.fixture(autouse=True)
def _reset_counts():
    CountingZipStore.reads = Counter()


@pytest.mark.parametrize("workers,loader", [(0, "threads"), (2, "threads"), (2, "processes")])
def test_each_image_is_read_once_and_a_warm_rerun_reads_none(tmp_path, workers, loader):
    task = zip_task(tmp_path, "ZipTies", tie_rows(), TIE_IMAGES)
    settings = dict(cache_dir=str(tmp_path / "cache"), num_workers=workers, batch_size=2, loader=loader,
                    progress=False)
    (cold,) = evaluate(FastPathModel(), [task], **settings)
    used = Counter()  # an image used by both roles is read once per role
    for role_items in ([r.query for r in tie_rows()], [c for r in tie_rows() for c in r.candidates]):
        used.update({item.image_path for item in role_items if item.image_path})
    assert CountingZipStore.reads == used
    CountingZipStore.reads = Counter()
    model = FastPathModel()
    (warm,) = evaluate(model, [task], **settings)
    assert sum(CountingZipStore.reads.values()) == 0 and model.embed_calls == 0
    assert warm.scores == cold.scores


def test_a_changed_archive_is_read_and_encoded_again(tmp_path):
    settings = dict(cache_dir=str(tmp_path / "cache"), num_workers=0, progress=False)
    evaluate(FastPathModel(), [zip_task(tmp_path, "ZipTies", tie_rows(), TIE_IMAGES)], **settings)
    changed = dict(TIE_IMAGES, **{"b.png": png((10, 201, 10))})
    model = FastPathModel()
    CountingZipStore.reads = Counter()
    evaluate(model, [zip_task(tmp_path, "ZipTies", tie_rows(), changed)], **settings)
    assert CountingZipStore.reads["b.png"] >= 1 and model.embed_calls > 0


def test_an_image_rewritten_with_its_old_size_and_mtime_is_read_and_encoded_again(tmp_path):
    """A folder image rewritten in place (same size, mtime put back as cp -p / rsync -t / tar do) is other
    content: its cached facts and embedding must not be used."""
    from mmeb.data.images import FolderImageStore

    root = tmp_path / "images"
    root.mkdir()
    changed = png((10, 201, 10))
    width = max(len(changed), len(TIE_IMAGES["b.png"]))
    pictures = dict(TIE_IMAGES, **{"b.png": TIE_IMAGES["b.png"].ljust(width, b"\0")})  # PIL ignores the tail
    for name, data in pictures.items():
        (root / name).write_bytes(data)

    def task():
        made = make_task("FolderTies", tie_rows(), TIE_IMAGES)
        made.load = lambda data_dir=None, **kw: TaskData(
            task_name="FolderTies", rows=tie_rows(), dataset_id="test/engine", revision="rev-test",
            images=FolderImageStore(root, task_name="FolderTies", first_row={}, data_file="test.parquet"),
            source="synthetic:folder")
        return made

    settings = dict(cache_dir=str(tmp_path / "cache"), num_workers=0, progress=False, save_predictions=True)
    evaluate(FastPathModel(), [task()], **settings)
    image = root / "b.png"
    before = image.stat()
    with image.open("r+b") as handle:
        handle.write(changed.ljust(width, b"\0"))
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (image.stat().st_size, image.stat().st_mtime_ns, image.stat().st_ino) == (
        before.st_size, before.st_mtime_ns, before.st_ino)
    model = FastPathModel()
    (warm,) = evaluate(model, [task()], **settings)
    (fresh,) = evaluate(FastPathModel(), [task()], num_workers=0, progress=False, save_predictions=True)
    assert model.embed_calls > 0 and warm.predictions == fresh.predictions


def test_the_same_picture_under_two_paths_is_the_same_content(tmp_path):
    """The positive's picture again under another path is the positive, not a tied rival."""
    picture = png((200, 10, 10))
    rows = [QueryRow(text_item("red", "Find"), [image_item("red.png"), image_item("copy/red-again.png"),
                                                 image_item("green.png")], 0)]
    images = {"red.png": picture, "copy/red-again.png": picture, "green.png": png((10, 200, 10))}
    model = ContentModel()
    (result,) = evaluate(model, [zip_task(tmp_path, "TwoPaths", rows, images)], num_workers=0,
                         save_predictions=True, progress=False)
    assert result.predictions[0].tie_size == 1 and result.main_score == 1.0
    assert sum(n for _, role, n in model.calls if role == "candidate") == 2  # one encode per distinct content


class OrderedModel(FastPathModel):
    """Blocks the embed of each role's last batch until a batch of a later role is being prepared. The
    prepare side leaves a marker file per role (it may run in a worker process), the embed side polls."""

    def __init__(self, markers):
        super().__init__()
        self.markers = markers
        self.waited: list[bool] = []
        self.role_sizes: dict[tuple, int] = {}
        self.embedded: Counter = Counter()
        self.finished: set[str] = set()
        self.pids: set[int] = set()

    def prepare(self, inputs, *, task_name, role):
        (self.markers / f"{task_name}.{role}").touch()
        batch = super().prepare(inputs, task_name=task_name, role=role)
        batch["role"], batch["pid"] = (task_name, role), os.getpid()
        return batch

    def embed(self, batch):
        role = batch["role"]
        self.pids.add(batch["pid"])
        self.embedded[role] += len(batch["vectors"])
        if self.embedded[role] == self.role_sizes.get(role):  # this role's last batch
            name = f"{role[0]}.{role[1]}"
            self.finished.add(name)
            deadline = time.monotonic() + 20
            while not {p.name for p in self.markers.iterdir()} - self.finished and time.monotonic() < deadline:
                time.sleep(0.005)
            self.waited.append(bool({p.name for p in self.markers.iterdir()} - self.finished))
        return super().embed({"vectors": batch["vectors"]})


@pytest.mark.parametrize("loader", ["threads", "processes"])
def test_the_next_roles_and_tasks_batches_are_prepared_while_the_current_one_finishes(tmp_path, loader):
    rows = tie_rows()
    tasks = [make_task("First", rows, TIE_IMAGES), make_task("Second", rows, TIE_IMAGES)]
    model = OrderedModel(tmp_path)
    n_queries = len({r.query.key for r in rows})
    n_candidates = len({c.key for r in rows for c in r.candidates})
    model.role_sizes = {(t, "query"): n_queries for t in ("First", "Second")}
    model.role_sizes[("First", "candidate")] = n_candidates  # the last role of the run has no successor
    evaluate(model, tasks, num_workers=2, batch_size=2, loader=loader, progress=False)
    assert model.waited == [True, True, True]  # query -> candidate, and First -> Second
    if loader == "processes":  # one pool of worker processes for the whole run, not a fork per role
        assert os.getpid() not in model.pids and len(model.pids) <= 2


class DiesOnFirstTask(FastPathModel):
    """prepare() kills its worker process on the first task (as the kernel's OOM killer would)."""

    def prepare(self, inputs, *, task_name, role):
        if task_name == "First" and os.getpid() != self.parent:
            os._exit(1)
        return super().prepare(inputs, task_name=task_name, role=role)


def test_a_dead_worker_process_fails_its_task_in_one_line_and_the_next_task_runs():
    from mmeb.evaluation import run_evaluation
    from mmeb.evaluation.engine import RunSettings

    rows = tie_rows()
    tasks = [make_task("First", rows, TIE_IMAGES), make_task("Second", rows, TIE_IMAGES)]
    model = DiesOnFirstTask()
    model.parent = os.getpid()
    report = run_evaluation(model, tasks, RunSettings(num_workers=2, batch_size=1, loader="processes",
                                                      progress=False))
    assert "worker process died" in report.failures["First"] and "--num-workers" in report.failures["First"]
    assert report.failures["First"].startswith(("task First, queries:", "task First, candidates:"))
    (alone,) = evaluate(FastPathModel(), [tasks[1]], num_workers=0, progress=False)
    assert [r.task_name for r in report.results] == ["Second"] and report.results[0].scores == alone.scores


class DiesOnFirstTaskMarking(FastPathModel):
    """Kills its worker on every batch of the task "First"; a candidate batch leaves a marker file first."""

    def prepare(self, inputs, *, task_name, role):
        if task_name == "First" and os.getpid() != self.parent:
            if role == "candidate":
                (self.markers / f"marker-{os.getpid()}-{time.monotonic_ns()}").touch()
            os._exit(1)
        return super().prepare(inputs, task_name=task_name, role=role)


def test_a_dead_worker_drops_the_other_roles_of_its_task(tmp_path):
    """After a worker died on a task's queries, that task's candidates are never prepared on the new pool
    (they could only kill it again under the next task); the next task encodes normally."""
    from mmeb.errors import MMEBError
    from mmeb.evaluation.encoding import EncodeOptions, Encoder

    model = DiesOnFirstTaskMarking()
    model.parent, model.markers = os.getpid(), tmp_path
    items = [text_item(f"text {i}") for i in range(6)]
    with Encoder(model, EncodeOptions(batch_size=1, num_workers=2, loader="processes")) as encoder:
        group = object()
        query = encoder.submit(items, None, task_name="First", role="query", group=group)
        candidate = encoder.submit(items, None, task_name="First", role="candidate", group=group)
        other = encoder.submit(items, None, task_name="Second", role="query")
        with pytest.raises(MMEBError, match="worker process died"):
            encoder.result(query)
        time.sleep(1.5)  # time enough for any candidate batch handed to the new pool to run
        assert not list(tmp_path.glob("marker-*"))
        with pytest.raises(MMEBError, match="not encoded"):
            encoder.result(candidate)
        assert encoder.result(other).matrix.shape[0] == len(items)


def test_token_budget_batches_stay_within_the_budget_and_give_identical_results(tie_task):
    items = [text_item("x" * n) for n in (400, 40, 4, 120, 40)]
    costs = [n // 4 + 1 for n in (400, 40, 4, 120, 40)]
    batches = plan_token_batches(items, costs, max_tokens=64)
    assert sorted(i for b in batches for i in b) == list(range(5))
    for batch in batches:  # padded size within budget, or a single oversized item
        assert len(batch) == 1 or len(batch) * max(costs[i] for i in batch) <= 64
    assert batches[0] == [0]  # largest first
    (fixed,) = evaluate(FastPathModel(), [tie_task], num_workers=2, batch_size=3, progress=False)
    (budget,) = evaluate(FastPathModel(), [tie_task], num_workers=2, max_batch_tokens=40, progress=False)
    assert fixed.scores == budget.scores


def test_token_budget_embeddings_equal_fixed_batches_on_a_vlm(tiny_qwen2vl_model):
    from mmeb.evaluation.encoding import EncodeOptions, Encoder

    rows = tie_rows()
    store = make_task("T", rows, TIE_IMAGES).load().images
    items = list({c.key: c for r in rows for c in [r.query, *r.candidates]}.values())
    fixed = Encoder(tiny_qwen2vl_model, EncodeOptions(batch_size=3, num_workers=0)).encode(
        items, store, task_name="T", role="query")
    budget = Encoder(tiny_qwen2vl_model, EncodeOptions(num_workers=0, max_batch_tokens=64)).encode(
        items, store, task_name="T", role="query")
    np.testing.assert_allclose(budget.numpy(), fixed.numpy(), atol=2e-5)


class FailsOnFirstTask(FastPathModel):
    """embed() fails on the first task's queries while later batches are already in flight."""

    def prepare(self, inputs, *, task_name, role):
        batch = super().prepare(inputs, task_name=task_name, role=role)
        batch["task"] = task_name
        return batch

    def embed(self, batch):
        if batch["task"] == "First":
            raise RuntimeError("device lost")
        return super().embed({"vectors": batch["vectors"]})


@pytest.mark.parametrize("loader", ["threads", "processes"])
def test_a_task_failing_mid_pipeline_leaves_the_next_task_intact(loader):
    from mmeb.evaluation import run_evaluation
    from mmeb.evaluation.engine import RunSettings

    rows = tie_rows()
    tasks = [make_task("First", rows, TIE_IMAGES), make_task("Second", rows, TIE_IMAGES)]
    report = run_evaluation(FailsOnFirstTask(), tasks, RunSettings(num_workers=2, batch_size=1, loader=loader,
                                                                   progress=False))
    assert "device lost" in report.failures["First"]
    (alone,) = evaluate(FastPathModel(), [tasks[1]], num_workers=0, progress=False)
    assert [r.task_name for r in report.results] == ["Second"] and report.results[0].scores == alone.scores

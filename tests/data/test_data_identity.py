"""What a task's data is: a full-content fingerprint of exactly its files, symlinks that leave the data root
refused, null texts counted."""

from __future__ import annotations

import logging
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmeb.errors import DataError
from mmeb.tasks import get_task
from mmeb.testing.mirror import write_mirror

TASKS = ["HatefulMemes", "WebQA"]


@pytest.fixture
def folder_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    return write_mirror(tmp_path / "data", TASKS, n_queries=3, images="folder")


def _revision(task, root):
    return get_task(task).load(data_dir=root).revision


def _images_of(task, root):
    data = get_task(task).load(data_dir=root)
    return sorted({item.image_path for row in data.rows for item in [row.query, *row.candidates]
                   if item.image_path})


def _rewrite(path, data: bytes):
    stamp = path.stat().st_mtime_ns
    path.write_bytes(data)
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # a new mtime, as any real edit gives


def test_changing_one_image_changes_only_that_tasks_revision(folder_mirror):
    before = {t: _revision(t, folder_mirror) for t in TASKS}
    assert all(r.startswith("local-") for r in before.values())
    image = next(p for p in folder_mirror.rglob("*") if p.is_file() and p.suffix != ".parquet"
                 and p.relative_to(folder_mirror).as_posix() in _images_of("WebQA", folder_mirror))
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    _rewrite(image, bytes(data))
    after = {t: _revision(t, folder_mirror) for t in TASKS}
    assert after["WebQA"] != before["WebQA"]
    assert after["HatefulMemes"] == before["HatefulMemes"]


def test_a_revision_file_cannot_pin_a_label_over_the_content(folder_mirror):
    before = _revision("HatefulMemes", folder_mirror)
    (folder_mirror / "REVISION").write_text("abc123\n")
    assert _revision("HatefulMemes", folder_mirror) == before


def test_an_image_symlinked_out_of_the_data_root_is_refused(folder_mirror, tmp_path):
    from mmeb.data.images import FolderImageStore

    secret = tmp_path / "secret.png"
    path = _images_of("HatefulMemes", folder_mirror)[0]
    target = folder_mirror / path
    secret.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(secret)
    store = get_task("HatefulMemes").load(data_dir=folder_mirror).images
    assert isinstance(store, FolderImageStore)
    with pytest.raises(DataError) as info:
        store.read_bytes(path)
    assert "outside the data root" in str(info.value) and "HatefulMemes" in str(info.value)


def test_a_symlink_inside_the_data_root_is_fine(folder_mirror):
    path = _images_of("HatefulMemes", folder_mirror)[0]
    target = folder_mirror / path
    copy = folder_mirror / "elsewhere.bin"
    copy.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(copy)
    assert get_task("HatefulMemes").load(data_dir=folder_mirror).images.read_bytes(path) == copy.read_bytes()


def test_null_texts_are_counted_and_warned_about(folder_mirror, caplog):
    file = next((folder_mirror / "HatefulMemes").glob("test-*.parquet"))
    table = pq.read_table(file)
    queries = table.column("qry_text").to_pylist()
    targets = table.column("tgt_text").to_pylist()
    queries[0] = None
    targets[1] = [None] + targets[1][1:]
    table = table.set_column(0, "qry_text", pa.array(queries, pa.string()))
    table = table.set_column(2, "tgt_text", pa.array(targets, table.schema.field("tgt_text").type))
    pq.write_table(table, file)
    with caplog.at_level(logging.WARNING, logger="mmeb"):
        data = get_task("HatefulMemes").load(data_dir=folder_mirror)
    assert data.null_texts == 2
    assert "2 null text(s)" in caplog.text and "HatefulMemes" in caplog.text

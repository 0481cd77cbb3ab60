"""The test-data generator: the Hub layout, determinism, the real data's quirks."""

import zipfile

import pyarrow as pa
import pyarrow.parquet as pq

from mmeb.testing.mirror import DEFAULT_MIRROR_TASKS, write_eval_layout, write_mirror
from mmeb.tasks import get_task


def test_layout_is_the_hub_layout(mirror_zip):
    assert (mirror_zip / "images.zip").is_file()
    for name in DEFAULT_MIRROR_TASKS:
        table = pq.read_table(mirror_zip / name / "test-00000-of-00001.parquet")
        assert table.column_names == ["qry_text", "qry_img_path", "tgt_text", "tgt_img_path"]
        for column in ("tgt_text", "tgt_img_path"):
            assert pa.types.is_list(table.schema.field(column).type)
            assert table.schema.field(column).type.value_type == pa.string()
    metas = [get_task(n).metadata for n in DEFAULT_MIRROR_TASKS]
    assert {m.meta_task for m in metas} == {"classification", "vqa", "retrieval", "grounding"}
    assert all(sum(m.meta_task == k for m in metas) >= 3 for k in ("classification", "vqa", "grounding"))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write_mirror(tmp_path / "a", ["ObjectNet", "NIGHTS"], n_queries=5, seed=3)
    b = write_mirror(tmp_path / "b", ["ObjectNet", "NIGHTS"], n_queries=5, seed=3)
    c = write_mirror(tmp_path / "c", ["ObjectNet", "NIGHTS"], n_queries=5, seed=4)
    for rel in ("ObjectNet/test-00000-of-00001.parquet", "NIGHTS/test-00000-of-00001.parquet", "images.zip"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert (a / "images.zip").read_bytes() != (c / "images.zip").read_bytes()


def test_images_are_small_distinct_png_and_jpeg(mirror_zip):
    with zipfile.ZipFile(mirror_zip / "images.zip") as zf:
        blobs = [zf.read(n) for n in zf.namelist()]
    assert len(set(blobs)) == len(blobs)
    assert any(b.startswith(b"\x89PNG") for b in blobs) and any(b.startswith(b"\xff\xd8") for b in blobs)


def test_top_folder_prefixes_every_zip_member(tmp_path):
    root = write_eval_layout(tmp_path, {"X": []}, {"a/b.png": b"1", "c.png": b"2"}, top_folder="eval_images")
    with zipfile.ZipFile(root / "images.zip") as zf:
        assert sorted(zf.namelist()) == ["eval_images/a/b.png", "eval_images/c.png"]


def test_folder_mode_extracts_like_unzip(tmp_path):
    root = write_eval_layout(tmp_path, {}, {"a/b.png": b"1"}, images_mode="folder", top_folder="imgs")
    assert (root / "imgs" / "a" / "b.png").read_bytes() == b"1" and not (root / "images.zip").exists()

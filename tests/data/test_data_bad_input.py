"""Each kind of bad input fails with a message naming the task, the row and the file, and what to do."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmeb.data import check_images
from mmeb.testing.mirror import write_eval_layout, write_mirror
from mmeb.errors import DataError, DataUnavailableError
from mmeb.tasks import get_task

TASK = "MSCOCO_t2i"
INSTRUCTION = "Find me an everyday image that matches the given caption:"


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (seed, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _row(tgt_text, tgt_img_path) -> dict:
    return dict(qry_text=f"{INSTRUCTION} A dog.\n", qry_img_path="", tgt_text=tgt_text, tgt_img_path=tgt_img_path)


def _write(tmp_path, rows, images=None):
    good = _row(["<|image_1|>\nRepresent the given image.\n"] * 2, ["a.png", "b.png"])
    images = {"a.png": _png(1), "b.png": _png(2)} if images is None else images
    return write_eval_layout(tmp_path, {TASK: [good, *rows]}, images)


def _load(root):
    return get_task(TASK).load(data_dir=root)


def test_unknown_subset_lists_what_is_there(tmp_path):
    write_mirror(tmp_path, ["MSCOCO_i2t"], n_queries=2)
    with pytest.raises(DataUnavailableError, match=r"task MSCOCO_t2i: no folder .*MSCOCO_t2i.*did you mean: "
                                                   r"MSCOCO_i2t.*--data-dir"):
        _load(tmp_path)


def test_missing_data_dir(tmp_path):
    with pytest.raises(DataUnavailableError, match=r"task MSCOCO_t2i: data dir .*nope does not exist"):
        get_task(TASK).load(data_dir=tmp_path / "nope")


def test_missing_parquet_file(tmp_path):
    (tmp_path / TASK).mkdir()
    (tmp_path / TASK / "README.md").write_text("x")
    with pytest.raises(DataUnavailableError, match=r"task MSCOCO_t2i: no test-\*\.parquet file in .*found: "
                                                   r"README\.md"):
        _load(tmp_path)


def test_missing_column(tmp_path):
    (tmp_path / TASK).mkdir()
    pq.write_table(pa.table({"qry_text": ["q"], "qry_img_path": [""], "tgt_text": [["a"]]}),
                   tmp_path / TASK / "test-00000-of-00001.parquet")
    with pytest.raises(DataError, match=r"task MSCOCO_t2i: .*test-00000-of-00001\.parquet lacks column\(s\) "
                                        r"tgt_img_path"):
        _load(tmp_path)


def test_unreadable_parquet(tmp_path):
    (tmp_path / TASK).mkdir()
    (tmp_path / TASK / "test-00000-of-00001.parquet").write_bytes(b"not a parquet file at all")
    with pytest.raises(DataError, match=r"task MSCOCO_t2i: cannot read .*test-00000-of-00001\.parquet.*"
                                        r"re-download"):
        _load(tmp_path)


def test_parallel_lists_of_different_lengths(tmp_path):
    root = _write(tmp_path, [_row(["x", "y", "z"], ["a.png", "b.png"])])
    with pytest.raises(DataError, match=r"task MSCOCO_t2i, row 1 of .*test-00000-of-00001\.parquet: tgt_text has "
                                        r"3 entries but tgt_img_path has 2"):
        _load(root)


def test_empty_candidate_list(tmp_path):
    root = _write(tmp_path, [_row([], [])])
    with pytest.raises(DataError, match=r"task MSCOCO_t2i, row 1 of .*\.parquet: empty candidate list"):
        _load(root)


def test_image_missing_from_archive(tmp_path):
    root = _write(tmp_path, [_row(["<|image_1|>\nRepresent the given image.\n"] * 2, ["a.png", "gone.png"])])
    data = _load(root)  # images are checked lazily, when read ...
    with pytest.raises(DataError) as read_error:
        data.images.open("gone.png")
    with pytest.raises(DataError) as check_error:
        check_images(data)  # ... or up front
    assert "1 of 3 images are missing" in str(check_error.value)
    for error in (read_error, check_error):
        message = str(error.value)
        for part in ("'gone.png'", str(root / "images.zip"), "task MSCOCO_t2i", "row 1",
                     str(root / TASK / "test-00000-of-00001.parquet"), "mmeb download"):
            assert part in message, (part, message)


def test_corrupt_image(tmp_path):
    root = _write(tmp_path, [], images={"a.png": _png(1), "b.png": b"\x89PNG\r\n\x1a\n truncated"})
    data = _load(root)
    assert check_images(data) == 2  # present ...
    with pytest.raises(DataError, match=r"cannot decode image 'b\.png' from archive .*images\.zip \(task "
                                        r"MSCOCO_t2i, row 0, file .*\.parquet\)"):
        check_images(data, decode=True)  # ... but not decodable


def test_image_path_cannot_escape_the_root(tmp_path):
    root = _write(tmp_path, [_row(["<|image_1|>\nRepresent the given image.\n"], ["../secret.png"])])
    data = _load(root)
    with pytest.raises(DataError, match=r"invalid image path '\.\./secret\.png'"):
        data.images.read_bytes("../secret.png")


def test_damaged_archive_member(tmp_path):
    root = _write(tmp_path, [])
    blob = bytearray((root / "images.zip").read_bytes())
    at = blob.find(_png(2)) + 20  # inside b.png's stored bytes: its CRC no longer matches
    blob[at] ^= 0xFF
    (root / "images.zip").write_bytes(bytes(blob))
    data = _load(root)
    with pytest.raises(DataError, match=r"cannot read image 'b\.png' from archive .*images\.zip \(task MSCOCO_t2i, "
                                        r"row 0, file .*\.parquet\).*re-download"):
        data.images.read_bytes("b.png")

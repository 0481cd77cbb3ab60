"""The MMEB-train layout writer and the reader: round trip, mixing, and bad-input errors."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from mmeb.errors import DataError, UnknownNameError
from mmeb.training.data import load_train_data
from mmeb.training.layout import write_train_layout


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def _rows(subset: str, n: int, negatives: bool = False) -> tuple[list[dict], dict[str, bytes]]:
    rows, images = [], {}
    for i in range(n):
        path = f"images/{subset}/Train/{i}.png"
        images[path] = _png((i * 20 % 256, 0, 0))
        row = {"qry": f"<|image_1|>\nRepresent the given image {i}\n", "qry_image_path": path,
               "pos_text": f"label {i}", "pos_image_path": ""}
        if negatives:
            row |= {"neg_text": f"label {i + 1}" if i % 2 == 0 else "", "neg_image_path": ""}
        rows.append(row)
    return rows, images


@pytest.fixture
def layout(tmp_path):
    a, ia = _rows("VOC2007", 6)
    b, ib = _rows("N24News", 4, negatives=True)
    return write_train_layout(tmp_path / "train", {"VOC2007": a, "N24News": b}, ia | ib)


def test_layout_files_match_the_hub_layout(layout):
    assert (layout / "VOC2007" / "original-00000-of-00001.parquet").is_file()
    with zipfile.ZipFile(layout / "images_zip" / "VOC2007.zip") as zf:
        assert sorted(zf.namelist())[0] == "images/VOC2007/Train/0.png"


def test_reader_round_trip_cap_and_weights(layout):
    data = load_train_data(str(layout), {"VOC2007": 1.0, "N24News": 2.0}, max_rows_per_subset=3)
    assert data.provenance["rows_per_subset"] == {"VOC2007": 3, "N24News": 6}
    first = data.pairs[0]
    assert first.qry == "<|image_1|>\nRepresent the given image 0\n"  # byte-exact, trailing newline kept
    assert data.read_image("VOC2007", first.qry_image)[:4] == b"\x89PNG"
    half = load_train_data(str(layout), {"VOC2007": 0.5})
    assert len(half.pairs) == 3


def test_reader_accepts_a_zip_with_a_top_folder(tmp_path):
    rows, images = _rows("CIRR", 2)
    root = write_train_layout(tmp_path / "t", {"CIRR": rows}, images)
    with zipfile.ZipFile(root / "images_zip" / "CIRR.zip", "w") as zf:
        for path, data in images.items():
            zf.writestr(f"MMEB-train/{path}", data)
    data = load_train_data(str(root), {"CIRR": 1.0})
    assert data.read_image("CIRR", rows[1]["qry_image_path"]) == images[rows[1]["qry_image_path"]]


def test_unknown_subset_suggests_a_close_name(layout):
    with pytest.raises(UnknownNameError, match="VOC2007"):
        load_train_data(str(layout), {"VOC2070": 1.0})


def test_missing_image_is_named_before_training(tmp_path):
    rows, images = _rows("SUN397", 3)
    del images[rows[2]["qry_image_path"]]
    root = write_train_layout(tmp_path / "t", {"SUN397": rows}, images, check_images=False)
    with pytest.raises(DataError, match=r"SUN397.*row 2.*images/SUN397/Train/2.png"):
        load_train_data(str(root), {"SUN397": 1.0})


def test_empty_subset_and_missing_negatives_are_errors(tmp_path, layout):
    root = write_train_layout(tmp_path / "e", {"NIGHTS": []}, {})
    with pytest.raises(DataError, match="NIGHTS.*no rows"):
        load_train_data(str(root), {"NIGHTS": 1.0})
    with pytest.raises(DataError, match="hard_negatives.*VOC2007"):
        load_train_data(str(layout), {"VOC2007": 1.0}, hard_negatives=True)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_train_data(str(tmp_path / "nope"), {"VOC2007": 1.0})

"""Write a training set in the MMEB-train layout (TIGER-Lab/MMEB-train), so that the reader in
:mod:`mmeb.training.data` - and anything else that reads the Hub dataset - can consume it.

    <out>/<Subset>/<split>-00000-of-00001.parquet   qry, qry_image_path, pos_text, pos_image_path
                                                   [, neg_text, neg_image_path]
    <out>/images_zip/<Subset>.zip                  members named by the stored paths,
                                                   e.g. images/<Subset>/Train/0001.jpg

Used by the offline demo and the tests to generate training data; it writes exactly the columns
and file names of the Hub dataset, nothing mmeb-specific.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from mmeb.errors import DataError

REQUIRED_COLUMNS = ("qry", "qry_image_path", "pos_text", "pos_image_path")
NEGATIVE_COLUMNS = ("neg_text", "neg_image_path")
IMAGE_COLUMNS = ("qry_image_path", "pos_image_path", "neg_image_path")


def write_train_layout(
    out_dir: str | Path,
    subsets: dict[str, list[dict]],
    images: dict[str, bytes],
    *,
    split: str = "original",
    check_images: bool = True,
) -> Path:
    """Write ``subsets`` ({subset name: rows}) and ``images`` ({stored path: encoded bytes}).

    Each row is a dict with the four required columns (and optionally both ``neg_*`` columns;
    a subset has the negative columns if any of its rows does, "" where a row has none).
    Each subset's zip holds the images its rows reference. ``check_images=False`` lets a test
    write a deliberately broken layout (a referenced image missing from the zip).
    Returns ``out_dir``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in subsets.items():
        for i, row in enumerate(rows):
            missing = [c for c in REQUIRED_COLUMNS if c not in row]
            unknown = set(row) - set(REQUIRED_COLUMNS) - set(NEGATIVE_COLUMNS)
            if missing or unknown:
                raise DataError(
                    f"write_train_layout: subset {name!r} row {i} has missing columns {missing} / unknown "
                    f"columns {sorted(unknown)}; expected {list(REQUIRED_COLUMNS)} [+ {list(NEGATIVE_COLUMNS)}]"
                )
        columns = list(REQUIRED_COLUMNS)
        if any(c in row for row in rows for c in NEGATIVE_COLUMNS):
            columns += NEGATIVE_COLUMNS
        table = pa.table({c: pa.array([str(row.get(c, "")) for row in rows], pa.string()) for c in columns})
        (out / name).mkdir(exist_ok=True)
        pq.write_table(table, out / name / f"{split}-00000-of-00001.parquet")

        referenced = sorted({row.get(c, "") for row in rows for c in IMAGE_COLUMNS} - {""})
        absent = [p for p in referenced if p not in images]
        if absent and check_images:
            raise DataError(
                f"write_train_layout: subset {name!r} references {len(absent)} image(s) not given in "
                f"`images`, e.g. {absent[0]!r}"
            )
        (out / "images_zip").mkdir(exist_ok=True)
        # JPEG/PNG are already compressed: store them, so the reader can seek without inflating
        with zipfile.ZipFile(out / "images_zip" / f"{name}.zip", "w", zipfile.ZIP_STORED) as zf:
            for path in referenced:
                if path in images:
                    zf.writestr(path, images[path])
    return out

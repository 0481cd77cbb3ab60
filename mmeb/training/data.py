"""Read MMEB-train (from the Hub at a pinned revision, or a local mirror in its layout), select
and cap subsets, mix them with per-subset weights, and check every referenced image up front.

Rows stay strings: images are referenced by path and read as bytes by the collator (in DataLoader
workers); they are decoded and run through the processor only per GradCache chunk (``encoder.py``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmeb.data.images import ZipImageStore
from mmeb.errors import DataError, DataUnavailableError, suggest

#: the 20 in-distribution training subsets (Hub config names; note ImageNet_1K's underscore)
MMEB_TRAIN_SUBSETS = (
    "ImageNet_1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "OK-VQA", "A-OKVQA", "DocVQA",
    "InfographicsVQA", "ChartQA", "Visual7W", "VisDial", "CIRR", "VisualNews_t2i", "VisualNews_i2t",
    "MSCOCO_t2i", "MSCOCO_i2t", "NIGHTS", "WebQA", "MSCOCO",
)


@dataclass(frozen=True, slots=True)
class TrainPair:
    """One training row: a query, its positive, and optionally one hard negative ("" = none)."""

    subset: str
    row: int  # row number in the subset's parquet file (for error messages)
    qry: str
    qry_image: str
    pos_text: str
    pos_image: str
    neg_text: str = ""
    neg_image: str = ""

    @property
    def has_negative(self) -> bool:
        return bool(self.neg_text or self.neg_image)


class SubsetImages:
    """The images of one subset: ``images_zip/<Subset>.zip`` read in place, or an extracted folder.

    A stored path (``images/<Subset>/Train/x.jpg``) matches a zip member with the same name, or
    with one extra top folder, or without its leading ``images/`` folder. The zip is the evaluation's
    thread-safe :class:`~mmeb.data.images.ZipImageStore` (picklable for DataLoader workers).
    """

    def __init__(self, zip_path: Path | None, folder: Path | None):
        self.zip_path, self.folder = zip_path, folder
        self._zip = ZipImageStore(zip_path, strip_top="any") if zip_path is not None else None

    def __contains__(self, path: str) -> bool:
        if self._zip is not None and path in self._zip:
            return True
        return self.folder is not None and (self.folder / path).is_file()

    def read_bytes(self, path: str) -> bytes:
        if self._zip is not None and path in self._zip:
            return self._zip.read_bytes(path)
        if self.folder is not None and (self.folder / path).is_file():
            return (self.folder / path).read_bytes()
        where = self.zip_path or self.folder
        raise DataError(f"image {path!r} not found in {where}; re-download the subset's images_zip")


@dataclass
class TrainData:
    """The selected, capped and mixed training rows plus where they came from."""

    pairs: list[TrainPair]
    images: dict[str, SubsetImages]
    provenance: dict[str, Any] = field(default_factory=dict)

    def read_image(self, subset: str, path: str) -> bytes:
        return self.images[subset].read_bytes(path)


def resolve_source(train_data: str, revision: str | None, split: str, subsets: list[str]) -> tuple[Path, str, str]:
    """Return (local root, resolved revision, source) for a local directory or a Hub dataset id."""
    local = Path(train_data).expanduser()
    if local.is_dir():
        return local, revision or "local", f"local:{local.resolve()}"
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", train_data):  # not a Hub id (owner/name): a missing folder
        raise DataError(f"training data directory {train_data!r} does not exist")
    for name in subsets:
        if name not in MMEB_TRAIN_SUBSETS:
            raise suggest(name, MMEB_TRAIN_SUBSETS, "training subset")
    from huggingface_hub import snapshot_download

    patterns = [f"{s}/{split}-*.parquet" for s in subsets] + [f"images_zip/{s}.zip" for s in subsets]
    try:
        root = Path(snapshot_download(repo_id=train_data, repo_type="dataset", revision=revision,
                                      allow_patterns=patterns))
    except Exception as exc:  # offline, unknown revision, no access: one clear message
        raise DataUnavailableError(
            f"could not fetch {train_data!r} (revision {revision or 'main'}) from the Hub: {exc}. "
            "Check the network / HF_HUB_OFFLINE, or pass a local directory in the MMEB-train layout as train_data."
        ) from exc
    return root, root.name if revision is None else revision, f"hub:{root}"


def available_subsets(root: Path, split: str) -> list[str]:
    return sorted(p.parent.name for p in root.glob(f"*/{split}-*.parquet"))


def _read_subset(root: Path, name: str, split: str) -> list[TrainPair]:
    import pyarrow.parquet as pq

    files = sorted((root / name).glob(f"{split}-*.parquet"))
    rows: list[TrainPair] = []
    for file in files:
        table = pq.read_table(file)
        missing = [c for c in ("qry", "qry_image_path", "pos_text", "pos_image_path") if c not in table.column_names]
        if missing:
            raise DataError(f"{file}: missing column(s) {missing}; this is not MMEB-train data")
        cols = {c: table.column(c).to_pylist() for c in table.column_names}
        empty = [""] * table.num_rows
        for i in range(table.num_rows):
            rows.append(TrainPair(
                subset=name, row=len(rows), qry=cols["qry"][i] or "", qry_image=cols["qry_image_path"][i] or "",
                pos_text=cols["pos_text"][i] or "", pos_image=cols["pos_image_path"][i] or "",
                neg_text=cols.get("neg_text", empty)[i] or "", neg_image=cols.get("neg_image_path", empty)[i] or "",
            ))
    return rows


def _subset_images(root: Path, name: str) -> SubsetImages:
    zip_path = root / "images_zip" / f"{name}.zip"
    return SubsetImages(zip_path if zip_path.is_file() else None, root)


def _mix(rows: list[TrainPair], weight: float, rng: random.Random) -> list[TrainPair]:
    """Weight w keeps round(w * n) rows: whole copies for the integer part, a seeded sample for the rest."""
    whole, frac = int(weight), weight - int(weight)
    return rows * whole + rng.sample(rows, round(frac * len(rows)))


def load_train_data(
    train_data: str,
    subsets: dict[str, float],
    *,
    split: str = "original",
    revision: str | None = None,
    max_rows_per_subset: int | None = None,
    hard_negatives: bool = False,
    seed: int = 0,
) -> TrainData:
    """Select, cap (the first ``max_rows_per_subset`` rows, as the official code), weight and check.

    Raises before any compute: unknown subset (with a suggestion), an empty subset, a missing image
    anywhere in the selected rows (all of them are checked, with the subset and row named).
    """
    root, resolved, source = resolve_source(train_data, revision, split, list(subsets))
    present = available_subsets(root, split)
    rng = random.Random(seed)
    pairs: list[TrainPair] = []
    images: dict[str, SubsetImages] = {}
    counts: dict[str, int] = {}
    for name, weight in subsets.items():
        if name not in present:
            err = suggest(name, present or MMEB_TRAIN_SUBSETS, "training subset")
            raise type(err)(f"{err} No {split!r} split for it under {root}.")
        rows = _read_subset(root, name, split)
        if max_rows_per_subset is not None:
            rows = rows[:max_rows_per_subset]
        if not rows:
            raise DataError(f"training subset {name!r} ({split!r} split under {root}) has no rows; remove it from `subsets`")
        if hard_negatives and not any(r.has_negative for r in rows):
            raise DataError(f"hard_negatives is on but subset {name!r} has no neg_text / neg_image_path column; "
                            "drop the subset or set hard_negatives: false")
        images[name] = _subset_images(root, name)
        _check_images(rows, images[name], hard_negatives)
        mixed = _mix(rows, weight, rng)
        if not mixed:
            raise DataError(f"training subset {name!r}: weight {weight} selects no rows out of {len(rows)}")
        counts[name] = len(mixed)
        pairs.extend(mixed)
    provenance = {"dataset": train_data, "revision": resolved, "source": source, "split": split,
                  "subsets": dict(subsets), "max_rows_per_subset": max_rows_per_subset,
                  "rows_per_subset": counts, "rows": len(pairs), "hard_negatives": hard_negatives}
    return TrainData(pairs=pairs, images=images, provenance=provenance)


def _check_images(rows: list[TrainPair], images: SubsetImages, hard_negatives: bool) -> None:
    for r in rows:
        paths = [r.qry_image, r.pos_image] + ([r.neg_image] if hard_negatives else [])
        for path in paths:
            if path and path not in images:
                where = images.zip_path or images.folder
                raise DataError(f"training subset {r.subset!r} row {r.row}: image {path!r} is not in {where}; "
                                "re-download the subset's images_zip or fix the row")

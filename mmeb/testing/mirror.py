"""Write data in the exact layout of the Hub dataset ``TIGER-Lab/MMEB-eval`` (what :mod:`mmeb.data.loader`
reads): ``<Subset>/test-00000-of-00001.parquet`` + ``images.zip`` (or the extracted images).

``write_eval_layout`` writes given rows and images (the offline demo builds its synthetic benchmark with it);
``write_mirror`` generates a small, deterministic stand-in for real MMEB tasks with the quirks of the released
data, for tests and offline trials. Its strings are random words: scores on it mean nothing.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.tasks.metadata import TaskMetadata

ImagesMode = Literal["zip", "folder"]
PARQUET_NAME = "test-00000-of-00001.parquet"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: same seed -> same bytes

#: default mirror: several tasks of each meta-task, including every quirk the loader must survive
DEFAULT_MIRROR_TASKS = (
    "ImageNet-1K", "N24News", "HatefulMemes", "ObjectNet",  # comma labels, I+T query, 2 candidates, repeats
    "OK-VQA", "ScienceQA", "ChartQA",
    "VisDial", "CIRR", "MSCOCO_t2i", "MSCOCO_i2t", "WebQA", "EDIS", "OVEN",  # \n\n, I+T->I, token w/o image
    "MSCOCO", "RefCOCO", "RefCOCO-Matching",  # "to to", one crop path with several texts
)
#: query strings that carry the image token although the query has no image (as released)
TOKEN_WITHOUT_IMAGE = frozenset({"WebQA", "EDIS"})

_WORDS = ("red", "blue", "green", "dog", "cat", "boat", "tree", "house", "river", "city", "train", "bird",
          "chair", "table", "window", "street", "market", "mountain", "beach", "player", "team", "court",
          "garden", "bridge", "lamp", "horse", "cloud", "road", "bottle", "phone", "paper", "chart", "price",
          "year", "storm", "music", "coffee", "winter", "summer", "child", "woman", "man", "bicycle", "pizza")


def _rows_table(rows: list[dict]):
    import pyarrow as pa

    schema = pa.schema([("qry_text", pa.string()), ("qry_img_path", pa.string()),
                        ("tgt_text", pa.list_(pa.string())), ("tgt_img_path", pa.list_(pa.string()))])
    return pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema)


def write_eval_layout(out_dir: str | Path, subsets: dict[str, list[dict]], images: dict[str, bytes], *,
                      images_mode: ImagesMode = "zip", top_folder: str | None = None) -> Path:
    """Write rows (dicts with qry_text, qry_img_path, tgt_text, tgt_img_path) and images (bytes by relative
    path) in the MMEB-eval layout. ``top_folder`` puts every image under one folder (inside the zip, or in
    ``out_dir`` for ``images_mode="folder"``, as unzipping would). Returns ``out_dir``."""
    import pyarrow.parquet as pq

    if images_mode not in ("zip", "folder"):
        raise ValueError(f"images_mode must be 'zip' or 'folder', not {images_mode!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for subset, rows in subsets.items():
        (out / subset).mkdir(parents=True, exist_ok=True)
        pq.write_table(_rows_table(rows), out / subset / PARQUET_NAME)
    prefix = f"{top_folder.strip('/')}/" if top_folder else ""
    if images_mode == "zip":
        with zipfile.ZipFile(out / "images.zip", "w", compression=zipfile.ZIP_STORED) as zf:
            for path in sorted(images):  # images are already compressed: store them
                zf.writestr(zipfile.ZipInfo(prefix + path, date_time=_ZIP_DATE), images[path])
    else:
        for path, data in images.items():
            target = out / (prefix + path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return out


def _image_bytes(rng: random.Random, index: int) -> tuple[bytes, str]:
    """A small noise image, distinct per call; PNG or JPEG. Returns (bytes, true extension)."""
    import numpy as np
    from PIL import Image

    side = rng.randint(32, 64)
    pixels = np.random.default_rng(rng.getrandbits(64)).integers(0, 256, (side, side, 3), dtype=np.uint8)
    pixels[0, 0] = (index % 256, index // 256 % 256, 7)  # guarantees distinct content per image
    buf = io.BytesIO()
    fmt = rng.choice(("PNG", "JPEG"))
    Image.fromarray(pixels).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue(), "png" if fmt == "PNG" else "jpg"


class _TaskWriter:
    """Generates one task's rows from its metadata, collecting the images it references."""

    def __init__(self, meta: TaskMetadata, rng: random.Random, images: dict[str, bytes]):
        self.meta, self.rng, self.images = meta, rng, images

    def image(self, role: str, index: int) -> str:
        data, ext = _image_bytes(self.rng, len(self.images))
        if self.rng.random() < 0.25:  # misleading extension: the loader must sniff the content
            ext = "jpg" if ext == "png" else "png"
        path = f"{self.meta.name}/{role}/{index:05d}.{ext}"
        self.images[path] = data
        return path

    def words(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.sample(_WORDS, self.rng.randint(lo, hi)))

    def payload(self) -> str:
        kind = self.meta.meta_task
        if kind == "grounding":
            return f'"{self.words(1, 3)}"'
        if kind == "vqa" or self.meta.name in ("WebQA", "OVEN"):
            return f"What is the {self.words(1, 3)}?"
        if self.meta.name == "VisDial":
            return " ".join(f"Q: is there a {self.words(1, 1)} A: {self.rng.choice(('yes', 'no'))}"
                            for _ in range(3))
        return self.words(3, 8).capitalize() + "."

    def query(self, i: int) -> tuple[str, str]:
        meta = self.meta
        path = self.image("qry", i) if "image" in meta.query_modality else ""
        token = f"{IMAGE_PLACEHOLDER}\n" if path or meta.name in TOKEN_WITHOUT_IMAGE else ""
        text = token + meta.query_instruction
        if "text" in meta.query_modality:
            text += " " + self.payload()
        return text + ("\n\n" if meta.name == "VisDial" else "\n"), path

    def text_pool(self, size: int) -> list[str]:
        pool: list[str] = []
        while len(pool) < size:
            if self.meta.meta_task == "classification":
                label = self.words(1, 2) + (f", {self.words(1, 2)}" if self.rng.random() < 0.3 else "")
            elif self.meta.meta_task == "vqa":
                label = self.words(1, 3).capitalize() + "."
            else:  # captions end with a newline, as released
                label = self.words(4, 9).capitalize() + ".\n"
            if label not in pool:
                pool.append(label)
        return pool

    def rows(self, n_queries: int, n_candidates: int) -> list[dict]:
        meta, rng = self.meta, self.rng
        rows = []
        if meta.target_modality == "text":
            # ObjectNet's released lists repeat labels (fewer distinct labels than candidates)
            pool = self.text_pool(max(2, n_candidates // 3) if meta.name == "ObjectNet" else n_candidates)
            for i in range(n_queries):
                qry_text, qry_img = self.query(i)
                positive = pool[i % len(pool)]
                if meta.name == "ObjectNet":
                    negatives = [rng.choice(pool) for _ in range(n_candidates - 1)]
                    negatives[rng.randrange(len(negatives))] = positive  # a copy of the positive
                else:
                    negatives = rng.sample([t for t in pool if t != positive], n_candidates - 1)
                texts = [positive, *negatives]
                rows.append(dict(qry_text=qry_text, qry_img_path=qry_img, tgt_text=texts,
                                 tgt_img_path=[""] * len(texts)))
            return rows
        pool = [self.image("tgt", j) for j in range(max(n_queries, n_candidates) + 2)]
        for i in range(n_queries):
            qry_text, qry_img = self.query(i)
            positive = pool[i % len(pool)]
            paths = [positive, *rng.sample([p for p in pool if p != positive], n_candidates - 1)]
            if meta.name == "RefCOCO-Matching" and n_candidates >= 3:
                paths[1] = positive  # the positive's crop again, with another expression
            texts = [self.target_text() for _ in paths]
            if meta.name == "RefCOCO-Matching":
                while texts[1] == texts[0]:
                    texts[1] = self.target_text()
            rows.append(dict(qry_text=qry_text, qry_img_path=qry_img, tgt_text=texts, tgt_img_path=paths))
        return rows

    def target_text(self) -> str:
        text = f"{IMAGE_PLACEHOLDER}\n{self.meta.target_instruction}"
        if "text" in self.meta.target_modality:
            text += " " + self.payload()
        return text + "\n"


def write_mirror(out_dir: str | Path, task_names: Iterable[str] | None = None, n_queries: int = 24,
                 seed: int = 0, images: ImagesMode = "zip", top_folder: str | None = None) -> Path:
    """Generate a small MMEB-eval mirror for ``task_names`` (default :data:`DEFAULT_MIRROR_TASKS`).

    Candidate counts are small (2..40, capped by the task's real count) and differ between tasks; images are
    32..64 px PNG/JPEG noise, distinct per path, some with a misleading extension. Same seed -> same bytes.
    """
    from mmeb.tasks import get_task

    subsets: dict[str, list[dict]] = {}
    image_bytes: dict[str, bytes] = {}
    for name in task_names if task_names is not None else DEFAULT_MIRROR_TASKS:
        meta = get_task(name).metadata
        rng = random.Random(f"{seed}:{meta.name}")
        n_candidates = min(meta.n_candidates, rng.randint(5, 40))
        subsets[meta.name] = _TaskWriter(meta, rng, image_bytes).rows(n_queries, n_candidates)
    return write_eval_layout(out_dir, subsets, image_bytes, images_mode=images, top_folder=top_folder)

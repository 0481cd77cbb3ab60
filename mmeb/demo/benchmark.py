"""Generate the synthetic benchmark from a seed and write it in the real MMEB layouts.

    <out>/eval/   MMEB-eval layout (``<Task>/test-00000-of-00001.parquet`` + ``images.zip``), read by ``Task.load``
    <out>/train/  MMEB-train layout (``<Task>/original-00000-of-00001.parquet`` + ``images_zip/<Task>.zip``)
    <out>/benchmark.json  the manifest: seed, sizes, held-out combinations, vocabulary; written last, so its
                          presence means the data is complete (a rerun with the same settings reuses it)

Same seed -> byte-identical files. Train and eval rows come from separate random streams.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from mmeb.demo import scenes as S
from mmeb.demo import tasks as T
from mmeb.demo.generators import GENERATORS, Context, Example, ImageBank, held_out_combos

MANIFEST = "benchmark.json"
FORMAT_VERSION = 1
#: the split of pre-tokenisation the demo's word-level tokenizer uses (HF ``pre_tokenizers.Whitespace``)
_WORDS = re.compile(r"\w+|[^\w\s]+")


@dataclass(frozen=True)
class BenchmarkConfig:
    seed: int = 0
    n_train: int = T.N_TRAIN_ROWS  # rows per IND training subset
    n_eval: int = T.N_EVAL_QUERIES  # queries per task (the task metadata declares this number)


@dataclass
class Benchmark:
    eval_subsets: dict[str, list[dict]]
    eval_images: dict[str, bytes]
    train_subsets: dict[str, list[dict]]
    train_images: dict[str, bytes]
    held_out: list[tuple[str, str]]

    def vocabulary(self) -> list[str]:
        """Every word any string of the benchmark holds, in first-seen order (deterministic)."""
        words: dict[str, None] = {}
        for subsets in (self.train_subsets, self.eval_subsets):
            for rows in subsets.values():
                for row in rows:
                    texts = [v for k, v in row.items() if "text" in k or k == "qry"]
                    for t in texts:
                        for s in t if isinstance(t, list) else [t]:
                            words.update(dict.fromkeys(_WORDS.findall(s.lower())))
        return list(words)


def _eval_row(ex: Example) -> dict:
    candidates = (ex.positive, *ex.negatives)  # MMEB: the positive is candidate 0
    return {"qry_text": ex.query.text, "qry_img_path": ex.query.image,
            "tgt_text": [c.text for c in candidates], "tgt_img_path": [c.image for c in candidates]}


def _train_row(ex: Example) -> dict:
    return {"qry": ex.query.text, "qry_image_path": ex.query.image,
            "pos_text": ex.positive.text, "pos_image_path": ex.positive.image}


def generate(config: BenchmarkConfig = BenchmarkConfig(), *, progress: bool = False) -> Benchmark:
    from rich.progress import track

    held_out = held_out_combos(config.seed)
    seen = [(c, s) for c in S.COLOURS for s in S.SHAPES if (c, s) not in held_out]
    bench = Benchmark({}, {}, {}, {}, held_out)
    for cls in track(T.TASK_CLASSES, description="rendering scenes", disable=not progress, transient=True):
        meta = cls.metadata
        splits = ["eval", "train"] if meta.split == "IND" else ["eval"]
        for split in splits:
            # MMEB-train stores images under images/<Subset>/Train/ (spec: data-formats.md)
            prefix = f"{meta.name}/test" if split == "eval" else f"images/{meta.name}/Train"
            bank = ImageBank(prefix)
            ctx = Context(rng=random.Random(f"{config.seed}:{meta.name}:{split}"), bank=bank, seen=seen,
                          unseen=held_out, split=split, n_candidates=meta.n_candidates)
            examples = GENERATORS[meta.name](ctx, config.n_eval if split == "eval" else config.n_train)
            if split == "eval":
                bench.eval_subsets[meta.name] = [_eval_row(e) for e in examples]
                bench.eval_images.update(bank.images)
            else:
                bench.train_subsets[meta.name] = [_train_row(e) for e in examples]
                bench.train_images.update(bank.images)
    return bench


def _fingerprint(bench: Benchmark) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([bench.eval_subsets, bench.train_subsets], sort_keys=True).encode())
    for images in (bench.eval_images, bench.train_images):
        for path in sorted(images):
            digest.update(path.encode() + hashlib.sha256(images[path]).digest())
    return digest.hexdigest()[:12]


def read_manifest(out_dir: str | Path) -> dict | None:
    path = Path(out_dir) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_benchmark(out_dir: str | Path, config: BenchmarkConfig = BenchmarkConfig(), *,
                    progress: bool = False) -> dict:
    """Generate and write both layouts; returns the manifest. Reuses the files when the manifest matches."""
    from mmeb.results.io import atomic_write_json
    from mmeb.testing.mirror import write_eval_layout
    from mmeb.training.layout import write_train_layout

    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest and manifest.get("config") == asdict(config) and manifest.get("format_version") == FORMAT_VERSION:
        return manifest
    bench = generate(config, progress=progress)
    revision = f"synthetic-seed{config.seed}-{_fingerprint(bench)}"
    write_eval_layout(out / "eval", bench.eval_subsets, bench.eval_images, images_mode="zip")
    write_train_layout(out / "train", bench.train_subsets, bench.train_images, split="original")
    manifest = {
        "format_version": FORMAT_VERSION,
        "config": asdict(config),
        "revision": revision,
        "eval_dir": "eval",
        "train_dir": "train",
        "tasks": {name: len(rows) for name, rows in bench.eval_subsets.items()},
        "train_subsets": {name: len(rows) for name, rows in bench.train_subsets.items()},
        "held_out_combinations": [list(c) for c in bench.held_out],
        "vocabulary": bench.vocabulary(),
    }
    atomic_write_json(out / MANIFEST, manifest)
    return manifest

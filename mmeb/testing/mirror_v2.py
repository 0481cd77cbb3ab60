"""Write a small, deterministic MMEB-V2 mirror in the exact real layouts (what :mod:`mmeb.data.v2` reads and
``huggingface-cli download --repo-type dataset <repo> --local-dir <out>/<repo>`` would produce):

* each annotation repo at ``<out>/<org>/<name>/`` as ``push_to_hub`` writes it: ``README.md`` with the configs
  in its YAML front matter, the default config under ``data/``, named configs (``queries``, ``corpus``,
  ``qrels``, ``MC``, the 20 MVBench subsets, ...) in their own folders, one ``<split>-00000-of-00001.parquet``
  each; page images as the ``Image`` feature (``{bytes, path}``, feature metadata in the parquet schema), so
  ``datasets.load_dataset(<out>/<org>/<name>, config, split=split)`` reads it like the Hub id;
* the media repo at ``<out>/TIGER-Lab/MMEB-V2/``: ``image-tasks/<path>`` and
  ``video-tasks/frames/<frame dir>/<video>/frame_0001.jpg`` (``0000.jpeg`` for V-QA), MomentSeeker's
  ``video_frames/<clip>/`` folders and ``query_<name>.jpg`` images; or, with ``media="archives"``, the archives
  of the real repo (``video_cls.tar.gz``, the five ``video_qa.tar.gz-0N`` parts, ...) instead of the folders.

Frame counts vary (fewer and more than 8), spellings alternate between the two known ones (``spellings``), qrels
carry zero scores, repeated pairs and grades. Strings are random words: scores on it mean nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from mmeb.data.v2 import archives, layout

PARQUET = "{split}-00000-of-00001.parquet"
_WORDS = ("red", "blue", "green", "dog", "cat", "boat", "tree", "house", "river", "city", "train", "bird", "chair",
          "table", "window", "street", "market", "mountain", "beach", "player", "team", "court", "garden", "bridge",
          "lamp", "horse", "cloud", "road", "bottle", "phone", "paper", "chart", "price", "year", "storm", "music")


class _Writer:
    def __init__(self, out: Path, seed: int, n_queries: int, spellings: str):
        self.out, self.seed, self.n, self.spellings = out, seed, n_queries, spellings
        self.media = layout.media_dir(out)
        self.repos: dict[str, dict[str, dict[str, list[dict]]]] = {}  # repo -> config -> split -> rows

    # -- primitives ---------------------------------------------------------------------------------------------

    def rng(self, task: str) -> random.Random:
        return random.Random(f"{self.seed}:{task}")

    def words(self, rng: random.Random, lo: int = 2, hi: int = 5) -> str:
        return " ".join(rng.sample(_WORDS, rng.randint(lo, hi)))

    def image(self, rng: random.Random, size: int = 32, fmt: str = "JPEG") -> bytes:
        import numpy as np
        from PIL import Image

        pixels = np.random.default_rng(rng.getrandbits(64)).integers(0, 256, (size, size + 8, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
        return buf.getvalue()

    def file(self, relative: str, data: bytes) -> None:
        path = self.media / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def frames(self, rng: random.Random, folder: str, n: int | None = None, style: str = "ffmpeg") -> None:
        n = n if n is not None else rng.choice((3, 8, 12, 17))
        for i in range(n):
            name = f"frame_{i + 1:04d}.jpg" if style == "ffmpeg" else f"{i:04d}.jpeg"
            self.file(f"{folder}/{name}", self.image(rng, 24))

    def spelling(self, meta, index: int = 0) -> str:
        options = meta.frame_dirs
        return options[-1] if self.spellings == "alternate" and len(options) > 1 else options[index]

    def add(self, repo: str, config: str | None, split: str, rows: list[dict]) -> None:
        self.repos.setdefault(repo, {}).setdefault(layout.config_folder(config), {})[split] = rows

    # -- output -------------------------------------------------------------------------------------------------

    def write_repos(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for repo, configs in self.repos.items():
            root = layout.repo_dir(self.out, repo)
            entries = []
            for config, splits in configs.items():
                files = []
                for split, rows in splits.items():
                    table = pa.Table.from_pylist(rows)
                    if "image" in table.column_names:  # the Image feature's storage type
                        image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
                        table = table.set_column(table.column_names.index("image"), "image",
                                                 table.column("image").cast(image_type))
                    features = _features(table.schema)
                    table = table.replace_schema_metadata(
                        {"huggingface": json.dumps({"info": {"features": features}})})
                    (root / config).mkdir(parents=True, exist_ok=True)
                    pq.write_table(table, root / config / PARQUET.format(split=split))
                    files.append(f"  - split: {split}\n    path: {config}/{split}-*")
                name = "default" if config == layout.DEFAULT_CONFIG_FOLDER else config
                entries.append(f"- config_name: {name}\n  data_files:\n" + "\n".join(files))
            (root / "README.md").write_text("---\nconfigs:\n" + "\n".join(entries) + "\n---\n"
                                            f"# {repo} (synthetic mmeb mirror)\n", encoding="utf-8")


def _features(schema) -> dict:
    """HF ``datasets`` feature metadata for a pyarrow schema (``image`` struct columns are ``Image``)."""
    import pyarrow as pa

    def one(name, typ):
        if name == "image" and pa.types.is_struct(typ):
            return {"_type": "Image"}
        if pa.types.is_list(typ):
            return {"feature": one("", typ.value_type), "_type": "List"}
        if pa.types.is_struct(typ):
            return {f.name: one(f.name, f.type) for f in typ}
        dtype = {"string": "string", "int64": "int64", "double": "float64", "bool": "bool"}.get(str(typ), str(typ))
        return {"dtype": dtype, "_type": "Value"}

    return {f.name: one(f.name, f.type) for f in schema}


# -- per modality ---------------------------------------------------------------------------------------------

def _image_task(w: _Writer, meta) -> None:
    rng = w.rng(meta.name)
    token = "<|image_1|>\n"
    n_cand = rng.randint(3, 7)
    image_query = "image" in meta.query_modality
    image_target = "image" in meta.target_modality
    captioned = meta.target_modality == "image+text"
    rows = []
    labels = list(dict.fromkeys(w.words(rng, 1, 2) for _ in range(n_cand + 4)))[: n_cand + 2]
    for i in range(w.n):
        qry_img = f"{meta.name}/qry/{i:04d}.jpg" if image_query else ""
        if qry_img:
            w.file(f"image-tasks/{qry_img}", w.image(rng))
        with_token = image_query or meta.name in ("WebQA", "EDIS")
        qry_text = w.words(rng) if "text" in meta.query_modality else ""
        if image_target:
            paths = [f"{meta.name}/tgt/{i:04d}_{j}.jpg" for j in range(n_cand)]
            if meta.name == "RefCOCO-Matching":
                paths[1] = paths[0]  # one crop with two expressions
            for p in dict.fromkeys(paths):
                w.file(f"image-tasks/{p}", w.image(rng))
            texts = [w.words(rng) if captioned else "" for _ in paths]
            tgt_inst = token + "Represent the given image."
        else:
            start = i % len(labels)
            texts = [labels[(start + j) % len(labels)] for j in range(n_cand)]
            paths = [""] * n_cand
            tgt_inst = ""
        rows.append(dict(qry_inst=(token if with_token else "") + meta.query_instruction, qry_text=qry_text,
                         qry_img_path=qry_img, tgt_inst=tgt_inst, tgt_text=texts, tgt_img_path=paths))
    w.add(meta.dataset_id, meta.dataset_config, meta.dataset_split, rows)


def _video_cls(w: _Writer, meta, labels: list[str]) -> None:
    rng = w.rng(meta.name)
    folder = meta.frame_dirs[0]
    rows = []
    for i in range(w.n):
        vid = f"{meta.name.lower()}_{i:03d}"
        w.frames(rng, f"{layout.FRAMES_ROOT}/{folder}/{vid}")
        label = labels[i % 4]
        row = dict(video_id=vid, pos_text=label)
        if meta.parser == "ssv2":
            others = [lab for lab in labels[:8] if lab != label]
            neg = rng.sample(others, 4) + [label]
            rng.shuffle(neg)
            row["neg_text"] = neg
        rows.append(row)
    w.add(meta.dataset_id, meta.dataset_config, meta.dataset_split, rows)


def _video_qa(w: _Writer, meta) -> None:
    rng = w.rng(meta.name)
    base = f"{layout.FRAMES_ROOT}/{w.spelling(meta)}"
    configs = meta.dataset_configs or (meta.dataset_config,)
    for config in configs:
        rows = []
        for i in range(w.n if len(configs) == 1 else 1):
            vid = f"{(config or meta.name).lower()}_{i:03d}"
            options = [w.words(rng, 1, 3) for _ in range(4)]
            q = w.words(rng) + "?"
            answer = rng.randrange(4)
            if meta.parser == "mvbench":
                vid += ".mp4"
                w.frames(rng, f"{base}/{config}/{vid}", style="opencv")
                rows.append(dict(question=q, video=vid, candidates=options, answer=options[answer]))
                continue
            w.frames(rng, f"{base}/{'v_' + vid if meta.parser == 'activitynetqa' else vid}", style="opencv")
            if meta.parser == "videomme":
                rows.append(dict(question=q, videoID=vid, options=[f"{'ABCD'[k]}. {o}" for k, o in enumerate(options)],
                                 answer="ABCD"[answer], question_id=f"{i}", domain="x", sub_category="y"))
            elif meta.parser == "nextqa":
                rows.append(dict(video=vid, question=q, answer=answer, qid=i, type="CW",
                                 **{f"a{k}": o for k, o in enumerate(options + [w.words(rng, 1, 2)])}))
            elif meta.parser == "egoschema":
                rows.append(dict(video_idx=vid, question=q, answer=str(answer), question_idx=str(i),
                                 option=[f"{'ABCDE'[k]}. {o}" for k, o in enumerate(options)]))
            else:  # activitynetqa
                rows.append(dict(video_name=vid, question=q, answer=rng.choice(("yes", "no")), question_id=str(i)))
        w.add(meta.dataset_id, config, meta.dataset_split, rows)


def _video_ret(w: _Writer, meta) -> None:
    rng = w.rng(meta.name)
    base = f"{layout.FRAMES_ROOT}/{w.spelling(meta)}"
    rows = []
    n_videos = max(2, w.n - 1)  # one video described twice
    for i in range(w.n):
        vid = f"{meta.name.lower().replace('-', '')}_{i % n_videos:03d}"
        if i < n_videos:
            w.frames(rng, f"{base}/{vid}")
        caption = w.words(rng, 3, 6)
        rows.append({"didemo": dict(video=f"videos/{vid}.mp4", caption=caption),
                     "msrvtt": dict(video_id=vid, caption=caption),
                     "msvd": dict(video_id=vid, video=f"{vid}.avi", caption=[caption, w.words(rng)]),
                     "vatex": dict(videoID=vid, enCap=[caption, w.words(rng)]),
                     "youcook2": dict(id=vid, video_path=f"{vid}.mp4", sentence=caption)}[meta.parser])
    w.add(meta.dataset_id, meta.dataset_config, meta.dataset_split, rows)


def _moment(w: _Writer, meta) -> None:
    rng = w.rng(meta.name)
    base = f"{layout.FRAMES_ROOT}/{w.spelling(meta)}"
    rows = []
    for i in range(w.n):
        vid = f"{meta.name.lower()}_{i:03d}"
        w.frames(rng, f"{base}/{vid}/query")
        w.frames(rng, f"{base}/{vid}/positive_{rng.randint(0, 99)}")
        for k in range(rng.randint(3, 9)):
            w.frames(rng, f"{base}/{vid}/negative_{k}")
        rows.append(dict(query=w.words(rng), video_path=f"/videos/{vid}.mp4"))
    w.add(meta.dataset_id, meta.dataset_config, meta.dataset_split, rows)


def _momentseeker(w: _Writer, meta, repo: str, n: int) -> None:
    rng = w.rng(repo)
    base = f"{layout.FRAMES_ROOT}/{meta.frame_dirs[0]}"
    shared = f"shared/clip_{rng.randint(0, 9)}.mp4"  # one clip listed by several rows
    w.frames(rng, f"{base}/video_frames/{shared.replace('/', '_')[:-4]}", n=rng.randint(2, 8))
    rows = []
    for i in range(n):
        kind = ("", "video", "image")[i % 3]
        media = ""
        if kind == "video":
            media = f"source/q{i}.mp4"
            w.frames(rng, f"{base}/video_frames/{media.replace('/', '_')[:-4]}", n=rng.randint(1, 8))
        elif kind == "image":
            media = f"q{i}.jpg"
            w.file(f"{base}/query_{media}", w.image(rng))
        positives = [f"clips/{i}/pos_{k}.mp4" for k in range(1 + i % 2)]
        negatives = [f"clips/{i}/neg_{k}.mp4" for k in range(4)] + ([shared] if i % 2 else [])
        for clip in positives + negatives:
            folder = f"{base}/video_frames/{clip.replace('/', '_')[:-4]}"
            if not (w.media / folder).is_dir():
                w.frames(rng, folder, n=rng.randint(1, 8))
        rows.append(dict(query=w.words(rng), input_frames=media,
                         positive_frames=[{"output_path": p} for p in positives],
                         negative_frames=[{"output_path": p} for p in negatives]))
    w.add(repo, None, meta.dataset_split, rows)


def _visdoc(w: _Writer, meta, repo: str) -> None:
    rng = w.rng(repo)
    visrag = meta.parser == "visrag"
    n_pages = rng.randint(10, 16)
    ids = [f"page_{k}.png" for k in range(n_pages)] if visrag else [100 + 7 * k for k in range(n_pages)]
    corpus = [{"corpus-id": cid, "image": {"bytes": w.image(rng, 40, "PNG"), "path": None}} for cid in ids]
    queries, qrels = [], []
    for i in range(w.n):
        queries.append({"query-id": i, "query": w.words(rng, 4, 8) + "?"})
        relevant = rng.sample(ids, rng.randint(1, 3))
        for cid in relevant:
            grade = rng.randint(1, 3) if meta.relevance == "graded" else 1
            qrels.append({"query-id": i, "corpus-id": cid, "score": grade})
        qrels.append({"query-id": i, "corpus-id": rng.choice(ids), "score": 0})  # not relevant: ignored
        if i % 3 == 0:  # a repeated pair keeps its maximum
            qrels.append({"query-id": i, "corpus-id": relevant[0], "score": 0 if meta.relevance != "graded" else 1})
    if "v2" in repo:
        for q in queries:
            q["language"] = rng.choice(("english", "french"))
    w.add(repo, "queries", meta.dataset_split, queries)
    w.add(repo, "corpus", meta.dataset_split, corpus)
    w.add(repo, "qrels", meta.dataset_split, qrels)


def _archive(w: _Writer, family: str) -> None:
    """Replace an extracted media folder by its archive (as in the real repo)."""
    import shutil

    archive = archives.ARCHIVES[family]
    folder = archives.extracted_folder(w.media, family)
    if not folder.is_dir():
        return
    target = w.media / archive.target
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path in sorted(p for p in folder.rglob("*")):
            name = archive.strip + path.relative_to(target).as_posix()
            info = tar.gettarinfo(str(path), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_file():
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    data = buf.getvalue()
    shutil.rmtree(folder)
    chunk = -(-len(data) // len(archive.parts))
    for k, part in enumerate(archive.parts):
        (w.media / part).parent.mkdir(parents=True, exist_ok=True)
        (w.media / part).write_bytes(data[k * chunk:(k + 1) * chunk])


def write_v2_mirror(out: str | Path, tasks: Iterable[str] | None = None, seed: int = 0, n_queries: int = 6,
                    media: Literal["folders", "archives"] = "folders",
                    spellings: Literal["official", "alternate"] = "official",
                    data_versions: bool = True) -> Path:
    """Write a synthetic MMEB-V2 mirror for ``tasks`` (names or MMEB-V2 selectors; default all 78) under
    ``out``. ``spellings="alternate"`` uses the second known spelling of each frame folder (Q's layout);
    ``media="archives"`` stores the media as the real archives; ``data_versions`` also writes the repos older
    data versions read (MomentSeeker's 1800-query set, the unfixed page tasks). Same seed, same bytes."""
    from mmeb.data.v2.parse_video import video_labels
    from mmeb.tasks import get_tasks

    selected = get_tasks([t if ":" in t else f"MMEB-V2:{t}" for t in tasks] if tasks is not None
                         else ["MMEB-V2:all"])
    out = Path(out)
    w = _Writer(out, seed, n_queries, spellings)
    for task in selected:
        meta = task.metadata
        if meta.modality == "image":
            _image_task(w, meta)
        elif meta.modality == "visdoc":
            for repo in dict.fromkeys([meta.dataset_id, *(meta.version_repos.values() if data_versions else ())]):
                _visdoc(w, meta, repo)
        elif meta.group == "V-CLS":
            labels = video_labels()[meta.name]
            _video_cls(w, meta, labels)
        elif meta.group == "V-QA":
            _video_qa(w, meta)
        elif meta.group == "V-RET":
            _video_ret(w, meta)
        elif meta.parser == "momentseeker":
            _momentseeker(w, meta, meta.dataset_id, n_queries)
            if data_versions:
                _momentseeker(w, meta, meta.version_repos["v2.0.0"], n_queries + 2)
        else:
            _moment(w, meta)
    w.write_repos()
    if media == "archives":
        for family in archives.ARCHIVES:
            _archive(w, family)
    return out

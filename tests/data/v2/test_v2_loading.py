"""MMEB-V2 loading from a mirror in the real layouts: strings, frames, pools, positives - checked against the
spec's rules, computed here from the files themselves."""

import hashlib
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mmeb.tasks import get_task
from mmeb.testing.mirror_v2 import write_v2_mirror

MEDIA = "TIGER-Lab/MMEB-V2"
QA = ("Given a video and a question, select the most accurate answer from the provided candidates. Return only the "
      "exact text of your chosen answer. Question: ")


def load(name, mirror, **kwargs):
    return get_task(f"MMEB-V2:{name}").load(data_dir=str(mirror), **kwargs)


def frame_files(folder: Path) -> list[str]:
    names = [p.name for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    return sorted(names, key=lambda n: int(re.sub(r"\D", "", n)))


def expected_sample(n: int) -> list[int]:
    return list(range(n)) if n < 8 else [i * (n - 1) // 7 for i in range(8)]


def rows(mirror, repo, config="data", split="test"):
    return pq.read_table(next((mirror / repo / config).glob(f"{split}-*.parquet"))).to_pylist()


def test_video_classification_query_frames_and_label_pool(v2_mirror):
    data = load("K700", v2_mirror)
    source = rows(v2_mirror, "VLM2Vec/Kinetics-700")
    assert len(data.queries) == len(source)
    for q, row in zip(data.queries, source):
        item = q.query
        assert item.raw_text == "<|video_pad|> Recognize the category of the video content."
        assert (item.instruction, item.text, item.image_path) == ("Recognize the category of the video content.", "",
                                                                  "")
        folder = v2_mirror / MEDIA / "video-tasks/frames/video_cls/K700" / row["video_id"]
        files = frame_files(folder)
        assert [Path(f).name for f in item.frames] == [files[i] for i in expected_sample(len(files))]
        assert q.candidates is None  # the whole label pool
        assert [data.pool_names[i] for i in q.relevance] == [row["pos_text"]]
    assert len(data.pool) == 700 and len(set(data.pool_names)) == 700
    assert data.pool[0].raw_text == data.pool[0].text == source[0]["pos_text"]  # positives first, bare labels
    assert any(len(frame_files(v2_mirror / MEDIA / "video-tasks/frames/video_cls/K700" / r["video_id"])) < 8
               for r in source)  # fewer than 8 frames: all of them (covered above)


def test_frame_sampling_is_linspace_truncated():
    from mmeb.data.v2.layout import sample_indices

    for n in range(1, 300):
        assert sample_indices(n, 8) == expected_sample(n), n
    assert sample_indices(12, 8) == [0, 1, 3, 4, 6, 7, 9, 11]
    assert sample_indices(20, None) == list(range(20))


def test_smthsmthv2_ranks_its_own_list(v2_mirror):
    data = load("SmthSmthV2", v2_mirror)
    for q, row in zip(data.queries, rows(v2_mirror, "VLM2Vec/SmthSmthV2")):
        assert [data.pool_names[i] for i in q.candidates] == row["neg_text"]
        assert [data.pool_names[i] for i in q.relevance] == [row["pos_text"]]


def test_video_qa_strings(v2_mirror):
    mme = load("Video-MME", v2_mirror)
    row = rows(v2_mirror, "VLM2Vec/Video-MME")[0]
    q = mme.queries[0]
    assert q.query.raw_text == "<|video_pad|> " + QA + " " + row["question"] + "\n" + "\n".join(row["options"])
    assert q.query.text == row["question"] + "\n" + "\n".join(row["options"])
    assert [mme.pool[i].text for i in q.candidates] == [o[3:] for o in row["options"]]  # "A. x" -> "x"
    assert [mme.pool_names[i] for i in q.candidates] == row["options"]
    assert [mme.pool_names[i] for i in q.relevance] == [row["options"]["ABCD".index(row["answer"])]]

    mv = load("MVBench", v2_mirror)
    assert len(mv.queries) == 20  # one row in each of the 20 configs, concatenated in order
    first = rows(v2_mirror, "VLM2Vec/MVBench", "episodic_reasoning", "train")[0]
    options = [f"({'ABCD'[i]}) {c}" for i, c in enumerate(first["candidates"])]
    assert mv.queries[0].query.raw_text == ("<|video_pad|> " + QA + " " + first["question"] + "\nOptions:\n"
                                            + "\n".join(options))
    label = options[first["candidates"].index(first["answer"])]
    assert [mv.pool_names[i] for i in mv.queries[0].relevance] == [label]
    assert Path(mv.queries[0].query.frames[0]).parent.name == first["video"]  # the folder keeps ".mp4"

    ego = load("EgoSchema", v2_mirror).queries[0].query
    row = rows(v2_mirror, "VLM2Vec/EgoSchema", "Subset")[0]
    assert ego.text == row["question"] + " ".join(row["option"])  # no separator before the first option
    anet = load("ActivityNetQA", v2_mirror)
    row = rows(v2_mirror, "VLM2Vec/ActivityNetQA")[0]
    assert anet.queries[0].query.text == f"{row['question']}? (A) yes; (B) no."
    assert sorted(anet.pool_names) == ["no", "yes"]
    assert "/v_" + row["video_name"] + "/" in anet.queries[0].query.frames[0]


def test_video_retrieval_pool_of_distinct_videos(v2_mirror):
    data = load("MSVD", v2_mirror)
    source = rows(v2_mirror, "VLM2Vec/MSVD")
    assert data.pool_names == list(dict.fromkeys(r["video_id"] for r in source))
    assert len(data.pool) < len(source)  # one video described twice: one candidate
    for q, row in zip(data.queries, source):
        assert q.query.raw_text == "Find the video snippet that corresponds to the given summary: " + row["caption"][0]
        assert not q.query.frames and q.candidates is None
        assert [data.pool_names[i] for i in q.relevance] == [row["video_id"]]
    target = data.pool[0]
    assert target.raw_text == "<|video_pad|> Understand the content of the provided video." and target.text == ""
    didemo = load("DiDeMo", v2_mirror)
    assert didemo.pool_names[0] == Path(rows(v2_mirror, "VLM2Vec/DiDeMo")[0]["video"]).stem


def test_moment_retrieval_clips(v2_mirror):
    for name, spelling in (("QVHighlight", "QVHighlight"), ("Charades-STA", "Charades_STA")):
        data = load(name, v2_mirror)
        for q, row in zip(data.queries, rows(v2_mirror, f"VLM2Vec/{name}")):
            folder = v2_mirror / MEDIA / "video-tasks/frames/video_mret" / spelling / Path(row["video_path"]).stem
            clips = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != "query")
            assert sorted(Path(data.pool_names[i]).name for i in q.candidates) == clips
            assert [Path(data.pool_names[i]).name for i in q.relevance] == [c for c in clips
                                                                         if c.startswith("positive")]
            assert q.query.raw_text == ("<|video_pad|> Find the clip that corresponds to the described scene in "
                                        "the given video: " + row["query"])
            files = frame_files(folder / "query")
            assert [Path(f).name for f in q.query.frames] == [files[i] for i in expected_sample(len(files))]


def test_momentseeker_queries_and_every_stored_frame(v2_mirror):
    data = load("MomentSeeker", v2_mirror)
    source = rows(v2_mirror, "VLM2Vec/MomentSeeker")
    base = v2_mirror / MEDIA / "video-tasks/frames/video_mret/MomentSeeker"
    kinds = set()
    for q, row in zip(data.queries, source):
        media = row["input_frames"]
        if media.endswith(".mp4"):
            kinds.add("video")
            assert q.query.raw_text == ("<|video_pad|> Find the clip that corresponds to the given sentence and "
                                        "video segment: " + row["query"])
            folder = base / "video_frames" / media.replace("/", "_")[:-4]
            assert [Path(f).name for f in q.query.frames] == frame_files(folder)
        elif media.endswith(".jpg"):
            kinds.add("image")
            assert q.query.raw_text.startswith("<|image_pad|> Select the video clip that aligns with the given text")
            assert q.query.image_path.endswith(f"MomentSeeker/query_{media}") and not q.query.frames
        else:
            kinds.add("text")
            assert q.query.raw_text == "Find the clip that corresponds to the given text: " + row["query"]
        clips = [e["output_path"] for e in row["positive_frames"] + row["negative_frames"]]
        names = [data.pool_names[i] for i in q.candidates]
        assert [Path(n).name for n in names] == [c.replace("/", "_")[:-4] for c in clips]
        assert len(q.relevance) == len(row["positive_frames"])  # every positive clip counts
        for i in q.candidates:  # every stored frame, no sampling, no padding
            assert [Path(f).name for f in data.pool[i].frames] == frame_files(v2_mirror / MEDIA / data.pool_names[i])
            assert data.pool[i].raw_text == "<|video_pad|> Understand the content of the provided video clip."
    assert kinds == {"video", "image", "text"}
    assert len(load("MomentSeeker", v2_mirror, data_version="v2.0.0").queries) == len(source) + 2  # MomentSeeker_1k8


def test_visdoc_qrels_positive_scores_and_maximum(v2_mirror):
    for name, repo in (("ViDoSeek-doc", "VLM2Vec/ViDoSeek"), ("VisRAG_ChartQA", "openbmb/VisRAG-Ret-Test-ChartQA")):
        split = "train" if name.startswith("VisRAG") else "test"
        data = load(name, v2_mirror)
        corpus = rows(v2_mirror, repo, "corpus", split)
        assert data.pool_names == [r["corpus-id"] for r in corpus]
        expected: dict = {}
        for r in rows(v2_mirror, repo, "qrels", split):
            if r["score"] > 0:
                grades = expected.setdefault(r["query-id"], {})
                grades[r["corpus-id"]] = max(grades.get(r["corpus-id"], 0), r["score"])
        for q, row in zip(data.queries, rows(v2_mirror, repo, "queries", split)):
            assert {data.pool_names[i]: g for i, g in q.relevance.items()} == expected[row["query-id"]]
            assert q.query.raw_text == "Find a document image that matches the given query: " + row["query"]
            assert q.candidates is None
        page = data.pool[0]
        assert page.raw_text == "<|image_pad|> Understand the content of the provided document image."
        assert data.images.read_bytes(page.image_path) == corpus[0]["image"]["bytes"]
    graded = load("ViDoSeek-doc", v2_mirror)
    assert any(len(set(q.relevance.values())) > 1 for q in graded.queries)


def test_image_tasks_v2_strings(v2_mirror):
    data = load("ImageNet-1K", v2_mirror)
    row = rows(v2_mirror, "ziyjiang/MMEB_Test_Instruct", "ImageNet-1K")[0]
    inst = row["qry_inst"].replace("<|image_1|>", "")
    assert data.queries[0].query.raw_text == ("<|image_pad|> " + inst).replace(" \n", "\n") + "\n"
    assert data.queries[0].query.image_path == "image-tasks/" + row["qry_img_path"]
    assert [data.pool_names[i] for i in data.queries[0].candidates] == row["tgt_text"]
    assert list(data.queries[0].relevance) == [data.queries[0].candidates[0]]
    visdial = load("VisDial", v2_mirror).queries[0].query
    assert visdial.raw_text.endswith("\n\n") and not visdial.image_path
    webqa = load("WebQA", v2_mirror).queries[0].query
    assert webqa.raw_text.startswith("<|image_pad|>\nFind a Wikipedia image") and not webqa.image_path
    refcoco = load("RefCOCO-Matching", v2_mirror)
    row = rows(v2_mirror, "ziyjiang/MMEB_Test_Instruct", "RefCOCO-Matching")[0]
    names = [refcoco.pool_names[i] for i in refcoco.queries[0].candidates]
    assert names[:2] == [f"{row['tgt_img_path'][k]}:{row['tgt_text'][k]}" for k in range(2)]  # one crop, two texts
    cirr = load("CIRR", v2_mirror)
    target = cirr.pool[cirr.queries[0].candidates[0]]
    assert target.raw_text == "<|image_pad|>\nRepresent the given image."  # no caption: no final newline
    okvqa = load("OK-VQA", v2_mirror).queries[0].query
    assert okvqa.raw_text.startswith("<|image_pad|>\nRepresent the given image with the following question: ")


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_spellings_archives_and_determinism(tmp_path):
    tasks = ["DiDeMo", "EgoSchema", "Charades-STA", "UCF101", "ImageNet-1K"]
    official = write_v2_mirror(tmp_path / "a", tasks, seed=3)
    assert _digest(official) == _digest(write_v2_mirror(tmp_path / "b", tasks, seed=3))
    alternate = write_v2_mirror(tmp_path / "c", tasks, seed=3, spellings="alternate")
    assert (alternate / MEDIA / "video-tasks/frames/video_ret/data/ziyan/video_retrieval/DiDeMo/frames").is_dir()
    assert (alternate / MEDIA / "video-tasks/frames/video_qa/egoschema").is_dir()
    assert (alternate / MEDIA / "video-tasks/frames/video_mret/Charades-STA").is_dir()
    packed = write_v2_mirror(tmp_path / "d", tasks, seed=3, media="archives")
    assert (packed / MEDIA / "video-tasks/frames/video_qa.tar.gz-04").is_file()
    assert not (packed / MEDIA / "video-tasks/frames/video_qa").exists()
    for name in tasks:
        reference = load(name, official)
        for mirror in (alternate, packed):
            other = load(name, mirror)
            assert [q.query.raw_text for q in other.queries] == [q.query.raw_text for q in reference.queries]
            assert [len(q.query.frames) for q in other.queries] == [len(q.query.frames) for q in reference.queries]
            tail = lambda names: [str(n).rsplit("/", 2)[-2:] for n in names]
            assert tail(other.pool_names) == tail(reference.pool_names)
    assert (packed / MEDIA / "video-tasks/frames/video_qa/EgoSchema").is_dir()  # extracted on first use
    assert (packed / MEDIA / "image-tasks/ImageNet-1K").is_dir()  # the archive's top folder MMEB/ moved up


def test_datasets_load_dataset_reads_the_mirror(v2_mirror, tmp_path):
    datasets = pytest.importorskip("datasets")
    cache = str(tmp_path / "hf-cache")  # a fresh cache: datasets would reuse an older mirror's arrow files
    corpus = datasets.load_dataset(str(v2_mirror / "VLM2Vec/ViDoSeek"), "corpus", split="test", cache_dir=cache)
    assert corpus[0]["image"].size == (48, 40)  # decoded as an Image feature
    nextqa = datasets.load_dataset(str(v2_mirror / "VLM2Vec/NExTQA"), "MC", split="test", cache_dir=cache)
    assert len(nextqa) == len(load("NExTQA", v2_mirror).queries)
    k700 = datasets.load_dataset(str(v2_mirror / "VLM2Vec/Kinetics-700"), split="test", cache_dir=cache)
    assert k700.column_names == ["video_id", "pos_text"]

"""Bad MMEB-V2 input: one clear error naming the task, the row and the file (or the documented rule)."""

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmeb.errors import DataError
from mmeb.tasks import get_task

MEDIA = "TIGER-Lab/MMEB-V2"


@pytest.fixture
def mirror(v2_mirror, tmp_path):
    """A private copy to damage."""
    return shutil.copytree(v2_mirror, tmp_path / "mirror", symlinks=True)


def load(name, root):
    return get_task(f"MMEB-V2:{name}").load(data_dir=str(root))


def _parquet(root, repo, config="data", split="test"):
    return next((root / repo / config).glob(f"{split}-*.parquet"))


def _rewrite(path, change):
    rows = pq.read_table(path).to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_missing_frame_folder_names_task_row_file_and_spellings(mirror):
    path = _parquet(mirror, "VLM2Vec/DiDeMo")
    video = pq.read_table(path).to_pylist()[2]["video"].rsplit("/", 1)[1][:-4]
    shutil.rmtree(mirror / MEDIA / "video-tasks/frames/video_ret/DiDeMo" / video)
    with pytest.raises(DataError) as err:
        load("DiDeMo", mirror)
    message = str(err.value)
    assert "task DiDeMo" in message and f"row 2 of {path}" in message and repr(video) in message
    assert "video_ret/data/ziyan/video_retrieval/DiDeMo/frames" in message  # every spelling looked at


def test_empty_frame_folder(mirror):
    path = _parquet(mirror, "VLM2Vec/Kinetics-700")
    vid = pq.read_table(path).to_pylist()[1]["video_id"]
    folder = mirror / MEDIA / "video-tasks/frames/video_cls/K700" / vid
    for f in folder.iterdir():
        f.unlink()
    with pytest.raises(DataError, match=rf"task K700, row 1 of {path}: frame folder .*{vid} holds no frames"):
        load("K700", mirror)


def test_fewer_frames_than_requested_uses_all_of_them(mirror):
    path = _parquet(mirror, "VLM2Vec/Kinetics-700")
    vid = pq.read_table(path).to_pylist()[0]["video_id"]
    folder = mirror / MEDIA / "video-tasks/frames/video_cls/K700" / vid
    for f in sorted(folder.iterdir())[2:]:
        f.unlink()
    frames = load("K700", mirror).queries[0].query.frames
    assert [f.rsplit("/", 1)[1] for f in frames] == sorted(p.name for p in folder.iterdir())  # 2, no padding


def test_qrels_row_pointing_at_no_corpus_item(mirror):
    path = _parquet(mirror, "vidore/arxivqa_test_subsampled_beir", "qrels")
    _rewrite(path, lambda rows: rows.insert(3, {"query-id": 0, "corpus-id": 99999, "score": 1}))
    with pytest.raises(DataError, match=rf"task ViDoRe_arxivqa, row 3 of {path}: .*corpus-id 99999.* points at no "
                                        "corpus item"):
        load("ViDoRe_arxivqa", mirror)


def test_query_with_no_positive(mirror):
    qrels = _parquet(mirror, "vidore/arxivqa_test_subsampled_beir", "qrels")
    queries = _parquet(mirror, "vidore/arxivqa_test_subsampled_beir", "queries")

    def zero_query_2(rows):
        for r in rows:
            if r["query-id"] == 2:
                r["score"] = 0
    _rewrite(qrels, zero_query_2)
    with pytest.raises(DataError, match=rf"task ViDoRe_arxivqa, row 2 of {queries}: query-id 2 has no qrels row "
                                        "with score > 0"):
        load("ViDoRe_arxivqa", mirror)


def test_local_list_without_its_positive(mirror):
    path = _parquet(mirror, "VLM2Vec/SmthSmthV2")

    def drop_positive(rows):
        rows[4]["neg_text"] = [t for t in rows[4]["neg_text"] if t != rows[4]["pos_text"]]
    _rewrite(path, drop_positive)
    with pytest.raises(DataError, match=rf"task SmthSmthV2, row 4 of {path}: the query has no positive"):
        load("SmthSmthV2", mirror)


def test_corpus_image_that_does_not_decode(mirror):
    path = _parquet(mirror, "VLM2Vec/ViDoSeek", "corpus")

    def garble(rows):
        rows[5]["image"] = {"bytes": b"not an image at all", "path": None}
    _rewrite(path, garble)
    with pytest.raises(DataError, match=rf"task ViDoSeek-doc, row 5 of {path}: the corpus image does not decode"):
        load("ViDoSeek-doc", mirror)


def test_missing_repo_and_missing_config_say_what_to_do(mirror):
    shutil.rmtree(mirror / "VLM2Vec/MSVD")
    with pytest.raises(DataError, match=r"task MSVD: no snapshot of VLM2Vec/MSVD at .*huggingface-cli download"):
        load("MSVD", mirror)
    shutil.rmtree(mirror / "VLM2Vec/NExTQA/MC")
    with pytest.raises(DataError, match=r"task NExTQA: config 'MC' of VLM2Vec/NExTQA not found"):
        load("NExTQA", mirror)


def test_missing_image_file_at_encoding_names_task_row_and_file(mirror):
    from mmeb.evaluation import EvaluationFailed, evaluate

    path = _parquet(mirror, "ziyjiang/MMEB_Test_Instruct", "ImageNet-1K")
    image = pq.read_table(path).to_pylist()[3]["qry_img_path"]
    (mirror / MEDIA / "image-tasks" / image).unlink()

    class Model:
        def encode(self, inputs, **context):
            import numpy as np
            return np.ones((len(inputs), 4), dtype="float32")

    with pytest.raises(EvaluationFailed, match=rf"ImageNet-1K: task ImageNet-1K, row 3 of {path}: file .*{image} not "
                                               "found"):
        evaluate(Model(), "MMEB-V2:ImageNet-1K", data_dir=str(mirror), progress=False, num_workers=0)


def test_unknown_data_version(mirror):
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown MMEB-V2 data version 'v9'"):
        get_task("MMEB-V2:MomentSeeker").load(data_dir=str(mirror), data_version="v9")


def test_ids_stored_with_different_types_still_match(mirror):
    """A qrels config that stores the ids as text while queries / corpus use integers."""
    import pyarrow as pa

    path = _parquet(mirror, "vidore/arxivqa_test_subsampled_beir", "qrels")
    rows = pq.read_table(path).to_pylist()
    as_text = [{"query-id": str(r["query-id"]), "corpus-id": str(r["corpus-id"]), "score": r["score"]} for r in rows]
    reference = load("ViDoRe_arxivqa", mirror)
    pq.write_table(pa.Table.from_pylist(as_text), path)
    data = load("ViDoRe_arxivqa", mirror)
    assert [q.relevance for q in data.queries] == [q.relevance for q in reference.queries]


def test_frame_that_does_not_decode_names_task_row_and_file(mirror):
    from mmeb.evaluation import EvaluationFailed, evaluate

    path = _parquet(mirror, "VLM2Vec/MSVD")
    video = pq.read_table(path).to_pylist()[1]["video_id"]
    folder = mirror / MEDIA / "video-tasks/frames/video_ret/MSVD" / video
    frame = sorted(folder.iterdir())[0]
    frame.write_bytes(b"definitely not a jpeg")

    class Model:
        def encode(self, inputs, **context):
            import numpy as np
            return np.ones((len(inputs), 4), dtype="float32")

    with pytest.raises(EvaluationFailed, match=rf"task MSVD, candidate image '.*{video}/{frame.name}': not a readable "
                                               rf"image .*first used by row 1 of {path}"):
        evaluate(Model(), "MMEB-V2:MSVD", data_dir=str(mirror), progress=False, num_workers=0)


def test_target_instructions_that_do_not_match_the_candidate_list_are_refused(mirror):
    """tgt_inst is one string per row (the official parsers use it for every candidate); a per-candidate list
    of another length cannot be paired with the candidates - never a silently shorter candidate list."""
    path = _parquet(mirror, "ziyjiang/MMEB_Test_Instruct", "CIRR")

    def short_lists(rows):
        for row in rows:
            row["tgt_inst"] = [row["tgt_inst"]] * 2

    _rewrite(path, short_lists)
    with pytest.raises(DataError) as err:
        load("CIRR", mirror)
    assert "CIRR" in str(err.value) and "row 0" in str(err.value) and "tgt_inst" in str(err.value)


@pytest.mark.parametrize("task, repo, config, column, value", [
    ("NExTQA", "VLM2Vec/NExTQA", "MC", "answer", "Z"),  # not an index
    ("EgoSchema", "VLM2Vec/EgoSchema", "Subset", "answer", "7"),  # no 8th option
    ("MVBench", "VLM2Vec/MVBench", "action_sequence", "candidates", None),  # no option list
])
def test_a_malformed_value_names_task_row_and_file(mirror, task, repo, config, column, value):
    """MVBench concatenates its configs (one row each here): its row 1 is the first of action_sequence."""
    path = _parquet(mirror, repo, config, "train" if task == "MVBench" else "test")

    def damage(rows):
        for row in rows:
            row[column] = str(row[column]) if task == "NExTQA" else row[column]  # a text column, as some dumps
        rows[-1 if task == "MVBench" else 1][column] = value

    _rewrite(path, damage)
    with pytest.raises(DataError) as err:
        load(task, mirror)
    message = str(err.value)
    where = str(path.parent.parent) if task == "MVBench" else str(path)
    assert task in message and "row 1 " in message and where in message and column in message, message
    assert task != "MVBench" or "action_sequence" in message

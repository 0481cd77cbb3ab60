"""MMEB-V2 through the engine: what models receive, each unique input encoded once, scores equal to a brute-force
ranking over the raw files, results recorded under MMEB-V2/ with the NDCG rule and data version."""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmeb.evaluation import evaluate
from mmeb.tasks import get_task
from mmeb.testing.mirror_v2 import write_v2_mirror

sys.path.insert(0, str(Path(__file__).parent))
from v2_toy_model import V2ContentModel, content_key, vector

TASKS = ["ImageNet-1K", "K700", "SmthSmthV2", "Video-MME", "MSVD", "QVHighlight", "MomentSeeker",
         "ViDoRe_arxivqa", "ViDoSeek-doc"]
MEDIA = "TIGER-Lab/MMEB-V2"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return write_v2_mirror(tmp_path_factory.mktemp("v2-engine"), TASKS, seed=5)


def _open(root: Path, data, path: str):
    raw = data.images.pages.get(path) if path.startswith("corpus/") else (root / MEDIA / path).read_bytes()
    with Image.open(io.BytesIO(raw)) as image:
        image.load()
        return image.convert("RGB")


def _embed(root, data, item):
    image = _open(root, data, item.image_path) if item.image_path else None
    frames = [_open(root, data, f) for f in item.frames]
    v = vector(content_key(item.instruction, item.text, image, frames))
    return v / np.linalg.norm(v)


def _reference(root, data, ndcg_official=False):
    """Brute force: full sort of each query's candidates, metrics from the definitions."""
    pool = np.stack([_embed(root, data, item) for item in data.pool])
    per_query = []
    for q in data.queries:
        scores = pool @ _embed(root, data, q.query)
        cands = list(range(len(data.pool))) if q.candidates is None else q.candidates
        order = sorted(cands, key=lambda c: -scores[c])
        grades = q.relevance
        gains = dict(grades)
        if ndcg_official:
            shuffled = list(set(q.label_ids))
            by_label = dict(zip(q.label_ids, grades))
            gains = {by_label[label]: g for label, g in zip(shuffled, grades.values())}
        ideal = sorted(grades.values(), reverse=True)
        m = {}
        for k in (1, 5, 10):
            top = order[:k]
            m[f"hit@{k}"] = float(any(c in grades for c in top))
            m[f"recall@{k}"] = sum(c in grades for c in top) / len(grades)
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal[:k]))
            m[f"ndcg_linear@{k}"] = sum(gains.get(c, 0) / math.log2(i + 2) for i, c in enumerate(top)) / idcg
        per_query.append(m)
    return {name: sum(p[name] for p in per_query) / len(per_query) for name in per_query[0]}


def test_scores_equal_a_brute_force_ranking(mirror, tmp_path):
    model = V2ContentModel()
    results = evaluate(model, [f"MMEB-V2:{t}" for t in TASKS], data_dir=str(mirror), output_dir=str(tmp_path),
                       progress=False, num_workers=2, batch_size=4)
    assert [r.task_name for r in results] == TASKS
    for result in results:
        data = get_task(f"MMEB-V2:{result.task_name}").load(data_dir=str(mirror))
        want = _reference(mirror, data)
        for name, value in want.items():
            assert result.scores.metrics[name] == pytest.approx(value, abs=1e-9), (result.task_name, name)
        main = "ndcg_linear@5" if result.task_name.startswith(("ViDo", "VisRAG")) else "hit@1"
        assert result.main_metric == main and result.main_score == pytest.approx(want[main], abs=1e-9)
        assert result.benchmark == "MMEB-V2" and result.dataset.version == "v2.1"
        assert result.evaluation.ndcg == "correct"
        assert (tmp_path / "toy__v2-content/r1/MMEB-V2" / f"{result.task_name}.json").is_file()


def test_model_inputs_and_each_unique_input_encoded_once(mirror):
    model = V2ContentModel()
    evaluate(model, ["MMEB-V2:K700", "MMEB-V2:MSVD", "MMEB-V2:MomentSeeker", "MMEB-V2:ViDoSeek-doc"],
             data_dir=str(mirror), progress=False, num_workers=0)
    by_task = {}
    for task, role, x in model.inputs:
        by_task.setdefault((task, role), []).append(x)
    k700 = get_task("MMEB-V2:K700").load(data_dir=str(mirror))
    assert len(by_task[("K700", "candidate")]) == len(k700.pool) == 700  # the label pool, once each
    for x in by_task[("K700", "query")]:
        assert x.text == "" and x.instruction == "Recognize the category of the video content." and x.image is None
        assert x.raw_text == "<|video_pad|> Recognize the category of the video content."
        assert isinstance(x.frames, tuple) and 1 <= len(x.frames) <= 8 and x.frames[0].size == (32, 24)
    msvd = get_task("MMEB-V2:MSVD").load(data_dir=str(mirror))
    videos = by_task[("MSVD", "candidate")]
    assert len(videos) == len(msvd.pool) > 1 and len({x.text for x in videos}) == 1  # same "" text, other videos
    seeker = get_task("MMEB-V2:MomentSeeker").load(data_dir=str(mirror))
    assert len(by_task[("MomentSeeker", "candidate")]) == len(seeker.pool)  # shared clips encoded once
    assert any(x.image is not None and x.frames is None for x in by_task[("MomentSeeker", "query")])
    pages = by_task[("ViDoSeek-doc", "candidate")]
    assert all(x.image is not None and x.text == "" and x.frames is None for x in pages)


def test_ndcg_rule_is_recorded_and_changes_only_graded_scores(mirror, tmp_path):
    model = V2ContentModel()
    first = evaluate(model, ["MMEB-V2:ViDoSeek-doc", "MMEB-V2:ViDoRe_arxivqa"], data_dir=str(mirror),
                     output_dir=str(tmp_path), progress=False, num_workers=0)
    official = evaluate(model, ["MMEB-V2:ViDoSeek-doc", "MMEB-V2:ViDoRe_arxivqa"], data_dir=str(mirror),
                        output_dir=str(tmp_path), progress=False, num_workers=0, ndcg="official")
    assert [r.evaluation.ndcg for r in official] == ["official", "official"]  # recomputed, not reused
    data = get_task("MMEB-V2:ViDoSeek-doc").load(data_dir=str(mirror))
    assert official[0].scores.metrics["ndcg_linear@5"] == pytest.approx(
        _reference(mirror, data, ndcg_official=True)["ndcg_linear@5"], abs=1e-9)
    assert official[1].main_score == first[1].main_score  # binary qrels: the pairing cannot matter
    # another NDCG rule is another configuration: a folder of its own beside the default one
    (folder,) = (tmp_path / "toy__v2-content").glob("r1+*")
    stored = json.loads((folder / "MMEB-V2/ViDoSeek-doc.json").read_text())
    assert stored["evaluation"]["ndcg"] == "official" and stored["main_metric"] == "ndcg_linear@5"
    assert stored["scoring_key"]["evaluation"]["ndcg"] == "official"
    default = json.loads((tmp_path / "toy__v2-content/r1/MMEB-V2/ViDoSeek-doc.json").read_text())
    assert default["evaluation"]["ndcg"] == "correct"


def test_data_version_picks_the_repo_and_is_recorded(mirror):
    model = V2ContentModel()
    old, = evaluate(model, "MMEB-V2:MomentSeeker", data_dir=str(mirror), progress=False, num_workers=0,
                    data_version="v2.0.0")
    assert old.dataset.id == "VLM2Vec/MomentSeeker_1k8" and old.dataset.version == "v2.0.0"
    new, = evaluate(model, "MMEB-V2:MomentSeeker", data_dir=str(mirror), progress=False, num_workers=0)
    assert new.dataset.id == "VLM2Vec/MomentSeeker" and new.n_queries == old.n_queries - 2


@pytest.mark.slow
def test_cli_runs_all_78_tasks_on_a_mirror(tmp_path):
    mirror = write_v2_mirror(tmp_path / "mirror", n_queries=4)
    plugin = Path(__file__).parent / "v2_toy_model.py"
    done = subprocess.run([sys.executable, "-m", "mmeb", "run", "--model", f"{plugin}:V2ContentModel",
                           "--tasks", "MMEB-V2:all", "--data-dir", str(mirror), "--output-dir", str(tmp_path / "out"),
                           "--no-progress", "--num-workers", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = sorted((tmp_path / "out/toy__v2-content/r1/MMEB-V2").glob("*.json"))
    assert len(files) == 78
    for f in files:
        result = json.loads(f.read_text())
        assert 0.0 <= result["main_score"] <= 1.0 and result["benchmark"] == "MMEB-V2"


def test_warm_rerun_reads_no_frame_or_page_bytes(mirror, tmp_path):
    from mmeb.evaluation import RunSettings, run_evaluation

    settings = dict(data_dir=str(mirror), cache_dir=str(tmp_path / "cache"), progress=False, num_workers=0)
    tasks = ["MMEB-V2:MSVD", "MMEB-V2:ViDoSeek-doc", "MMEB-V2:ViDoRe_arxivqa"]
    cold = run_evaluation(V2ContentModel(), tasks, RunSettings(**settings))
    warm = run_evaluation(V2ContentModel(), tasks, RunSettings(**settings))
    assert cold.encode_stats["images_read"] > 0
    assert warm.encode_calls == 0 and warm.encode_stats["images_read"] == 0
    assert [r.main_score for r in warm.results] == [r.main_score for r in cold.results]


def test_v1_and_v2_tasks_of_the_same_name_run_side_by_side(tmp_path):
    from mmeb.testing.mirror import write_mirror

    data_dir = write_mirror(tmp_path / "data", ["ImageNet-1K"], n_queries=5)
    write_v2_mirror(data_dir, ["ImageNet-1K"])  # the two layouts coexist in one --data-dir
    results = evaluate(V2ContentModel(), ["ImageNet-1K", "MMEB-V2:ImageNet-1K"], data_dir=str(data_dir),
                       output_dir=str(tmp_path / "out"), progress=False, num_workers=0)
    assert [(r.task_name, r.benchmark, r.n_queries) for r in results] == [("ImageNet-1K", "MMEB-V1", 5),
                                                                          ("ImageNet-1K", "MMEB-V2", 6)]
    assert (tmp_path / "out/toy__v2-content/r1/ImageNet-1K.json").is_file()
    assert (tmp_path / "out/toy__v2-content/r1/MMEB-V2/ImageNet-1K.json").is_file()


def test_export_carries_every_official_metric(mirror):
    from mmeb.leaderboard.export import dataset_metrics

    result, = evaluate(V2ContentModel(), "MMEB-V2:ViDoSeek-doc", data_dir=str(mirror), progress=False,
                       num_workers=0)
    exported = dataset_metrics(result)
    for key in ("hit@1", "hit@5", "recall@5", "precision@10", "ndcg_linear@5", "ndcg_linear@10", "mrr@10"):
        assert exported[key] == result.scores.metrics[key], key
    assert exported["ndcg_linear@5"] == result.main_score and exported["num_data"] == result.n_queries

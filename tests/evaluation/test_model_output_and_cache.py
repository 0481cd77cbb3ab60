"""Bad model outputs fail loudly and write nothing; the embedding cache is reused and invalidated exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine_testdata import TIE_IMAGES, make_task, png, tie_rows
from mmeb.errors import ModelOutputError
from mmeb.evaluation import EvaluationFailed, RunSettings, evaluate, run_evaluation
from mmeb.evaluation.encoding import to_embedding_matrix
from toy_models import BadModel, ContentModel


@pytest.mark.parametrize("defect,role,expected", [
    ("rows", "candidate", "for 5 inputs"),
    ("nan", "query", "NaN or inf"),
    ("inf", "candidate", "NaN or inf"),
    ("not_array", "query", "not an array"),
    ("dim", "candidate", "query embeddings have dim 16 but candidate embeddings have dim 8"),
])
def test_bad_model_output_names_task_and_role_and_writes_nothing(tie_task, tmp_path, defect, role, expected):
    model = BadModel(defect, role)
    with pytest.raises(EvaluationFailed) as info:
        evaluate(model, [tie_task], output_dir=tmp_path, cache_dir=tmp_path / "cache", num_workers=0,
                 batch_size=5, progress=False)
    message = info.value.failures["TieTask"]
    assert "task TieTask" in message and expected in message
    if defect != "dim":
        assert f"role {role}" in message
    folder = tmp_path / "toy__bad-model" / "r1"
    assert not (folder / "TieTask.json").exists() and (folder / "TieTask.error.json").exists()
    if defect != "dim":  # a defective batch never reaches the cache; the good role (5 unique queries) may
        cached = sum(len(json.loads(p.read_text())["keys"]) for p in (tmp_path / "cache").rglob("*.manifest.json"))
        assert cached == {"query": 0, "candidate": 5}[role]


def test_output_conversion_accepts_numpy_torch_and_nested_lists():
    import torch

    for output in (np.ones((2, 3)), torch.ones(2, 3, dtype=torch.float16), [[1.0, 2.0], [3.0, 4.0]]):
        matrix = to_embedding_matrix(output, 2, "T", "query")
        assert matrix.dtype == torch.float32 and matrix.shape[0] == 2
    with pytest.raises(ModelOutputError, match="task T, role query"):
        to_embedding_matrix(np.ones(2), 2, "T", "query")  # 1-D
    with pytest.raises(ModelOutputError, match="not an array"):
        to_embedding_matrix(None, 2, "T", "query")


def _settings(tmp_path, **extra):
    return RunSettings(cache_dir=str(tmp_path / "cache"), num_workers=0, progress=False, **extra)


def test_cached_rerun_makes_zero_encode_calls_and_same_scores(tie_task, tmp_path):
    first = run_evaluation(ContentModel(), [tie_task], _settings(tmp_path))
    rerun_model = ContentModel()
    second = run_evaluation(rerun_model, [tie_task], _settings(tmp_path))
    assert first.encode_calls > 0 and second.encode_calls == 0 and rerun_model.calls == []
    assert first.results[0].scores == second.results[0].scores
    assert not list((tmp_path / "cache").rglob("*.pkl"))
    shard = next((tmp_path / "cache").rglob("shard-*.npy"))
    np.load(shard, allow_pickle=False)  # a plain array: loads without pickle


def test_changed_setting_never_reuses_stale_vectors(tie_task, tmp_path):
    run_evaluation(ContentModel(), [tie_task], _settings(tmp_path))
    scaled = ContentModel(scale=2.0)  # another setting -> another model identity
    report = run_evaluation(scaled, [tie_task], _settings(tmp_path, similarity="dot"))
    assert report.encode_calls > 0
    unscaled_dot = run_evaluation(ContentModel(), [tie_task], _settings(tmp_path, similarity="dot"))
    assert unscaled_dot.encode_calls == 0  # similarity is applied after the cache: vectors are reusable


def test_changed_instruction_or_image_bytes_is_encoded_again(tmp_path):
    rows = tie_rows()
    run_evaluation(ContentModel(), [make_task("T", rows, TIE_IMAGES)], _settings(tmp_path))
    new_images = dict(TIE_IMAGES, **{"a.png": png((1, 2, 3))})  # same path, other bytes
    model = ContentModel()
    run_evaluation(model, [make_task("T", rows, new_images)], _settings(tmp_path))
    encoded_paths = sum(n for _, _, n in model.calls)
    assert encoded_paths == 2  # the query with a.png and the candidate a.png; nothing else

    from mmeb.data.items import Item, QueryRow

    reworded = [QueryRow(Item(r.query.raw_text.replace("Find", "Seek"), "Seek", r.query.text, r.query.image_path),
                         r.candidates, r.row_index) for r in rows]
    model = ContentModel()
    run_evaluation(model, [make_task("T", reworded, TIE_IMAGES)], _settings(tmp_path))
    assert {role for _, role, _ in model.calls} == {"query"}

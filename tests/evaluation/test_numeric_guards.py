"""Scores from numbers that cannot be trusted are refused; cosine is scale-invariant for any finite vector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmeb.errors import ModelOutputError
from mmeb.evaluation import EvaluationFailed, evaluate
from mmeb.evaluation.ranking import normalise_rows, rank_candidates
from toy_models import ContentModel


class HugeModel(ContentModel):
    """Finite embeddings whose dot products overflow float32 (1e20 * 1e20 = 1e40 > 3.4e38)."""

    name = "toy/huge"

    def encode(self, inputs, **context):
        return super().encode(inputs, **context) * 1e20


def test_overflowing_dot_products_fail_the_task_instead_of_scoring_1(tie_task, tmp_path):
    with pytest.raises(EvaluationFailed) as info:
        evaluate(HugeModel(), [tie_task], similarity="dot", output_dir=tmp_path, num_workers=0, progress=False)
    message = info.value.failures["TieTask"]
    assert "task TieTask" in message and "not finite" in message
    assert not list(tmp_path.rglob("TieTask.json")) and list(tmp_path.rglob("TieTask.error.json"))


def test_cosine_scores_of_huge_vectors_equal_those_of_the_same_vectors_unscaled(tie_task):
    (plain,) = evaluate(ContentModel(), [tie_task], num_workers=0, progress=False, save_predictions=True)
    (huge,) = evaluate(HugeModel(), [tie_task], num_workers=0, progress=False, save_predictions=True)
    assert huge.scores == plain.scores and huge.predictions == plain.predictions


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1.0, 1e20, 5e37])
def test_normalise_rows_is_exact_for_any_finite_scale(scale):
    base = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [-1.0, 2.0, 2.0]])
    out = normalise_rows(base * scale)
    expected = torch.tensor([[0.6, 0.8, 0.0], [0.0, 0.0, 0.0], [-1 / 3, 2 / 3, 2 / 3]])
    assert torch.isfinite(out).all() and torch.allclose(out, expected, atol=1e-6)


def test_ranking_refuses_nan_scores():
    queries = torch.tensor([[1.0, 0.0]])
    candidates = torch.tensor([[float("nan"), 0.0], [1.0, 0.0]])
    with pytest.raises(ModelOutputError, match="query row 0"):
        rank_candidates(queries, candidates, [0], [[0, 1]])


def test_ranking_ignores_padding_but_not_real_infinities():
    queries = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.5, 0.0]])
    outcome = rank_candidates(queries, candidates, [0, 1], [[0, 1], [1]])  # row 1 is padded
    assert list(outcome.rank) == [1, 1]
    with pytest.raises(ModelOutputError):
        rank_candidates(queries, torch.tensor([[np.inf, 0.0], [0.5, 0.0]]), [0, 1], [[0, 1], [1]])

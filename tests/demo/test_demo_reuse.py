"""A rerun of the demo reuses a trained model only when it was trained with the recipe the demo asks for now: a
model from another recipe (an older mmeb's learning rate, say) is retrained, never shown as this recipe's."""

from __future__ import annotations

import json

from mmeb.demo import model as M


def _finished(path, config: dict) -> None:
    from mmeb.training.config import load_config

    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    recorded = load_config(config).model_dump(mode="json")
    (path / "mmeb_model.json").write_text(json.dumps({"format": "vlm2vec", "training": {"config": recorded}}))


def _config(tmp_path, **change):
    return M.train_config(base=tmp_path / "base", train_data=tmp_path / "data", subsets=["A"],
                          output_dir=tmp_path / "trained", steps=40, seed=0) | change


def test_a_model_of_the_same_recipe_is_reused(tmp_path):
    _finished(tmp_path / "trained", _config(tmp_path))
    assert M.is_trained(tmp_path / "trained", _config(tmp_path))


def test_a_model_of_another_recipe_is_not_reused(tmp_path):
    _finished(tmp_path / "trained", _config(tmp_path, learning_rate=2e-3))
    assert not M.is_trained(tmp_path / "trained", _config(tmp_path))

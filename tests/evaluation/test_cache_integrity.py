"""The embedding cache never serves vectors that do not belong to their keys; a bad --cache-dir fails first."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from mmeb.errors import ConfigError
from mmeb.evaluation import RunSettings, evaluate, run_evaluation
from mmeb.evaluation.cache import EmbeddingCache, binding
from toy_models import ContentModel

IDENTITY = {"name": "m", "revision": "r", "settings": {}}


def _shard(cache_dir):
    (manifest,) = cache_dir.rglob("*.manifest.json")
    return manifest, manifest.with_name(manifest.name.replace(".manifest.json", ".npy"))


def _put(cache_dir, vectors):
    cache = EmbeddingCache(cache_dir, IDENTITY)
    cache.put([f"k{i}" for i in range(len(vectors))], np.asarray(vectors, dtype=np.float32))
    return _shard(cache_dir)


def test_a_clean_shard_is_served(tmp_path):
    _put(tmp_path, [[1, 2], [3, 4]])
    found = EmbeddingCache(tmp_path, IDENTITY).get(["k1", "k0", "missing"])
    assert set(found) == {"k0", "k1"} and found["k1"].tolist() == [3, 4]


def _swap_rows(manifest, npy):
    data = json.loads(manifest.read_text())
    data["keys"] = data["keys"][::-1]  # keys re-bound to other vectors
    manifest.write_text(json.dumps(data))


def _tamper_vectors(manifest, npy):
    np.save(npy, np.asarray([[9, 9], [9, 9]], dtype=np.float32), allow_pickle=False)


def _non_finite(manifest, npy):
    np.save(npy, np.asarray([[np.nan, 1], [2, 3]], dtype=np.float32), allow_pickle=False)
    data = json.loads(manifest.read_text())
    data["sha256"] = binding(data["keys"], npy.read_bytes())  # even with a matching checksum
    manifest.write_text(json.dumps(data))


def _wrong_dim(manifest, npy):
    np.save(npy, np.ones((2, 3), dtype=np.float32), allow_pickle=False)
    data = json.loads(manifest.read_text())
    data["sha256"] = binding(data["keys"], npy.read_bytes())
    manifest.write_text(json.dumps(data))


@pytest.mark.parametrize("damage", [_tamper_vectors, _non_finite, _wrong_dim])
def test_a_damaged_shard_is_ignored_with_a_warning_and_removed(tmp_path, caplog, damage):
    manifest, npy = _put(tmp_path, [[1, 2], [3, 4]])
    damage(manifest, npy)
    with caplog.at_level(logging.WARNING, logger="mmeb"):
        assert EmbeddingCache(tmp_path, IDENTITY).get(["k0", "k1"]) == {}
    assert "ignored" in caplog.text and not manifest.exists() and not npy.exists()


def test_keys_rebound_to_other_rows_never_serve_a_wrong_vector(tmp_path):
    manifest, npy = _put(tmp_path, [[1, 2], [3, 4]])
    _swap_rows(manifest, npy)  # keys re-bound to other rows, vectors untouched
    found = EmbeddingCache(tmp_path, IDENTITY).get(["k0"])
    # the checksum covers the keys in their order and the vectors
    assert found == {}


def test_a_run_with_a_damaged_cache_gives_the_clean_scores_and_rewrites_it(tie_task, tmp_path):
    cache_dir = tmp_path / "cache"
    (clean,) = evaluate(ContentModel(), [tie_task], cache_dir=cache_dir, num_workers=0, progress=False)
    for npy in cache_dir.rglob("*.npy"):
        matrix = np.load(npy)
        np.save(npy, matrix[::-1].copy(), allow_pickle=False)  # same shape and values, wrong rows
    model = ContentModel()
    (again,) = evaluate(model, [tie_task], cache_dir=cache_dir, num_workers=0, progress=False)
    assert again.scores == clean.scores and model.calls  # encoded again, same scores
    model = ContentModel()
    evaluate(model, [tie_task], cache_dir=cache_dir, num_workers=0, progress=False)
    assert model.calls == []  # the rewritten shards are served


@pytest.mark.parametrize("make", ["file", "under_a_file"])
@pytest.mark.parametrize("option", ["cache_dir", "output_dir"])
def test_an_unusable_cache_or_output_dir_fails_in_one_line_before_any_encoding(tie_task, tmp_path, make, option):
    (tmp_path / "taken").write_text("not a folder")
    target = tmp_path / "taken" if make == "file" else tmp_path / "taken" / "sub"
    model = ContentModel()
    with pytest.raises(ConfigError) as info:
        run_evaluation(model, [tie_task], RunSettings(**{option: str(target)}, num_workers=0, progress=False))
    assert f"--{option.replace('_', '-')}" in str(info.value) and model.calls == []
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("manifest_text", ['{"keys": [["k0"], {"k": 1}], "n": 2}', '["keys"]',
                                           '{"keys": "k0", "n": 2}'])
def test_a_malformed_manifest_is_ignored_not_a_crash(tmp_path, caplog, manifest_text):
    manifest, npy = _put(tmp_path, [[1, 2], [3, 4]])
    manifest.write_text(manifest_text)
    with caplog.at_level(logging.WARNING, logger="mmeb"):
        assert EmbeddingCache(tmp_path, IDENTITY).get(["k0", "k1"]) == {}
    assert "ignored" in caplog.text and not manifest.exists() and not npy.exists()


@pytest.mark.parametrize("entry", [7, ["stamp"], ["s1", "ab" * 32, "wide", 3], ["s1", "not hex", 2, 3], {"a": 1}])
def test_a_malformed_image_identity_entry_is_relearnt_not_a_crash(tmp_path, entry):
    from mmeb.evaluation.image_identity import ImageIdentity

    class Store:
        location = "store"

        def stamp(self, path):
            return "s1"

    identity = ImageIdentity(tmp_path)
    file = identity._file("store")
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps({"location": "store", "images": {"a.png": entry, "b.png": ["s1", "cd" * 32, 2, 3]}}))
    facts = ImageIdentity(tmp_path).lookup(Store(), ["a.png", "b.png"])
    assert list(facts) == ["b.png"] and (facts["b.png"].width, facts["b.png"].height) == (2, 3)

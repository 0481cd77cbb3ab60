import re

import pytest

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.demo import tasks as T
from mmeb.demo.benchmark import BenchmarkConfig, generate, write_benchmark
from mmeb.demo.generators import held_out_combos
from mmeb.tasks import get_task, get_tasks

SMALL = BenchmarkConfig(seed=0, n_train=20, n_eval=12)


@pytest.fixture(scope="module")
def bench():
    return generate(SMALL)


def test_same_seed_same_bytes_other_seed_other_data():
    a, b, c = generate(SMALL), generate(SMALL), generate(BenchmarkConfig(seed=1, n_train=20, n_eval=12))
    assert a.eval_subsets == b.eval_subsets and a.eval_images == b.eval_images
    assert a.train_subsets == b.train_subsets
    assert a.eval_subsets != c.eval_subsets


def test_tasks_registered_under_their_own_benchmark():
    names = [t.name for t in get_tasks("synthetic:all")]
    assert names == list(T.TASK_NAMES)
    assert [t.name for t in get_tasks("synthetic:OOD")] == list(T.OOD_TASKS)
    assert not set(names) & {t.name for t in get_tasks("all")}  # MMEB-V1 selectors do not pick them up
    assert {t.metadata.meta_task for t in get_tasks("synthetic:all")} == {"classification", "vqa", "retrieval",
                                                                          "grounding"}
    assert all(get_task(n).metadata.train_subset == n for n in T.IND_TASKS)


def test_eval_rows_in_mmeb_style(bench):
    for name, rows in bench.eval_subsets.items():
        meta = get_task(name).metadata
        assert len(rows) == SMALL.n_eval
        for row in rows:
            assert len(row["tgt_text"]) == len(row["tgt_img_path"]) == meta.n_candidates, name
            # the positive's content appears once: a copy would be scored as the positive
            keys = list(zip(row["tgt_text"], row["tgt_img_path"]))
            assert keys.count(keys[0]) == 1, (name, keys[0])
            assert row["qry_text"].endswith("\n")
            if row["qry_img_path"]:
                assert row["qry_text"].startswith(f"{IMAGE_PLACEHOLDER}\n{meta.query_instruction}")
            else:
                assert row["qry_text"].startswith(meta.query_instruction) and IMAGE_PLACEHOLDER not in row["qry_text"]
            for text, path in keys:
                assert (text.startswith(IMAGE_PLACEHOLDER + "\n")) == bool(path), (name, text)
            for path in [row["qry_img_path"], *row["tgt_img_path"]]:
                assert not path or path in bench.eval_images


def test_held_out_combinations_never_reach_training_and_drive_the_ood_tasks(bench):
    held = [f"{c} {s}" for c, s in held_out_combos(SMALL.seed)]
    assert len({c for c, _ in held_out_combos(0)}) == 4  # four colours, one per shape
    train_text = " ".join(v for rows in bench.train_subsets.values() for r in rows for v in r.values())
    for label in held:
        assert label not in train_text
        assert not re.search(label.replace(" ", r" \w* ?"), train_text), label
    shapes_unseen = bench.eval_subsets["SynShapes-Unseen"]
    assert all(r["tgt_text"][0] in held for r in shapes_unseen)
    captions = bench.eval_subsets["SynCaptions-Unseen"]
    assert all(any(h.split()[0] + " " + h.split()[1] in r["qry_text"] for h in held) for r in captions)


def test_train_rows_only_for_ind_tasks_with_train_instructions(bench):
    assert set(bench.train_subsets) == set(T.IND_TASKS)
    grounding = bench.train_subsets["SynGrounding"][0]["qry"]
    assert T.GROUND_TRAIN in grounding and T.GROUND_EVAL not in grounding
    assert all(r["qry_image_path"].startswith("images/") for r in bench.train_subsets["SynShapes"])


def test_written_layouts_load_with_the_real_loaders(tmp_path):
    manifest = write_benchmark(tmp_path, SMALL)
    assert manifest["revision"].startswith("synthetic-seed0-")
    for name in T.TASK_NAMES:
        data = get_task(name).load(data_dir=tmp_path / "eval")
        assert len(data) == SMALL.n_eval and data.revision.startswith("local-")  # a content fingerprint
        row = data.rows[0]
        assert row.query.instruction == get_task(name).metadata.query_instruction
        path = row.query.image_path or row.candidates[0].image_path
        assert data.images.open(path).mode == "RGB"
    from mmeb.training.data import load_train_data  # the trainer's own reader checks every image up front

    train = load_train_data(str(tmp_path / "train"), {n: 1.0 for n in T.IND_TASKS})
    assert train.provenance["rows_per_subset"] == {n: SMALL.n_train for n in T.IND_TASKS}

    stamp = (tmp_path / "benchmark.json").stat().st_mtime_ns
    assert write_benchmark(tmp_path, SMALL) == manifest  # reused, not rewritten
    assert (tmp_path / "benchmark.json").stat().st_mtime_ns == stamp


def test_vocabulary_covers_every_word_for_the_reference_tokenizer(bench):
    from mmeb.testing.models import word_tokenizer

    tok = word_tokenizer(bench.vocabulary(), ["<|image_pad|>"])
    texts = [t for rows in bench.eval_subsets.values() for r in rows for t in [r["qry_text"], *r["tgt_text"]]]
    ids = [i for t in texts for i in tok(t)["input_ids"]]
    assert tok.unk_token_id not in ids

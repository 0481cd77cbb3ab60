"""Loading tasks from a local mirror in the Hub layout (zipped and extracted images)."""

import pickle

import pytest

from mmeb.data import check_images, load_task_data
from mmeb.data.images import FolderImageStore, ZipImageStore
from mmeb.testing.mirror import DEFAULT_MIRROR_TASKS
from mmeb.tasks import get_task


@pytest.mark.parametrize("name", DEFAULT_MIRROR_TASKS)
def test_every_mirrored_task_loads_with_positive_first(mirror_zip, name):
    data = get_task(name).load(data_dir=mirror_zip)
    meta = get_task(name).metadata
    assert data.task_name == name and len(data) == 24 and data.source == f"local:{mirror_zip}"
    assert data.revision.startswith("local-") and data.files[0].endswith(f"{name}/test-00000-of-00001.parquet")
    for row in data.rows:
        assert row.query.instruction == meta.query_instruction  # the declared prefix is found in every row
        assert 2 <= len(row.candidates) <= 40
        assert all(c.instruction == meta.target_instruction for c in row.candidates)
        assert bool(row.query.image_path) == ("image" in meta.query_modality)
        assert all(bool(c.image_path) == ("image" in meta.target_modality) for c in row.candidates)
    assert [r.row_index for r in data.rows] == list(range(24))
    assert check_images(data) > 0


def test_quirks_survive_loading(mirror_zip):
    webqa = load_task_data(get_task("WebQA").metadata, data_dir=mirror_zip)
    assert all(r.query.raw_text.startswith("<|image_1|>\n") and not r.query.has_image for r in webqa.rows)
    visdial = load_task_data(get_task("VisDial").metadata, data_dir=mirror_zip)
    assert all(r.query.raw_text.endswith("\n\n") and not r.query.text.endswith("\n") for r in visdial.rows)
    objectnet = load_task_data(get_task("ObjectNet").metadata, data_dir=mirror_zip)
    assert any([c.text for c in r.candidates[1:]].count(r.candidates[0].text) for r in objectnet.rows)
    matching = load_task_data(get_task("RefCOCO-Matching").metadata, data_dir=mirror_zip)
    for row in matching.rows:  # the positive's crop again, with another text
        pos, other = row.candidates[0], row.candidates[1]
        assert pos.image_path == other.image_path and pos.key != other.key


def test_candidate_counts_differ_between_tasks(mirror_zip):
    counts = {n: len(get_task(n).load(data_dir=mirror_zip).rows[0].candidates) for n in DEFAULT_MIRROR_TASKS}
    assert len(set(counts.values())) >= 6 and counts["HatefulMemes"] == 2 and max(counts.values()) < 1000


@pytest.mark.parametrize("mode, top", [("zip", None), ("zip", "eval_images"), ("folder", None),
                                       ("folder", "eval_images")])
def test_images_zipped_or_extracted_with_or_without_top_folder(mirror_variants, mode, top):
    data = get_task("RefCOCO-Matching").load(data_dir=mirror_variants[(mode, top)])
    assert isinstance(data.images, ZipImageStore if mode == "zip" else FolderImageStore)
    assert check_images(data, decode=True) > 0
    image = data.images.open(data.rows[0].query.image_path)
    assert image.mode == "RGB" and 32 <= image.size[0] <= 64


def test_env_var_is_the_fallback_data_dir(mirror_zip, monkeypatch):
    monkeypatch.setenv("MMEB_DATA_DIR", str(mirror_zip))
    assert len(get_task("OK-VQA").load()) == 24


def test_format_is_detected_from_content_not_extension(mirror_zip):
    data = get_task("CIRR").load(data_dir=mirror_zip)
    paths = {c.image_path for r in data.rows for c in r.candidates}
    mislabelled = [p for p in paths
                   if data.images.read_bytes(p).startswith(b"\x89PNG") != p.endswith(".png")]
    assert mislabelled, "the mirror should hold images with a misleading extension"
    assert all(data.images.open(p).mode == "RGB" for p in mislabelled)


def test_stores_are_picklable_and_reopen_lazily(mirror_variants):
    for key in [("zip", "eval_images"), ("folder", None)]:
        data = get_task("ImageNet-1K").load(data_dir=mirror_variants[key])
        path = data.rows[0].query.image_path
        before = data.images.read_bytes(path)  # opens the zip in this process
        clone = pickle.loads(pickle.dumps(data.images))
        assert clone.read_bytes(path) == before and path in clone


def test_macos_archive_with_resource_fork_folder(tmp_path):
    import zipfile

    from mmeb.testing.mirror import write_mirror

    root = write_mirror(tmp_path, ["NIGHTS"], n_queries=2, top_folder="eval_images")
    with zipfile.ZipFile(root / "images.zip", "a") as zf:
        zf.writestr("__MACOSX/eval_images/._x.png", b"resource fork")
    data = get_task("NIGHTS").load(data_dir=root)
    assert check_images(data, decode=True) > 0

"""The 36 MMEB tasks, their metadata and task selection."""

from collections import Counter

import pytest
from pydantic import ValidationError

from mmeb.errors import UnknownNameError
from mmeb.tasks import TASK_NAMES, Task, TaskMetadata, get_task, get_tasks, register_task


def test_all_36_in_canonical_order_with_spec_counts():
    tasks = get_tasks()
    assert [t.name for t in tasks] == list(TASK_NAMES)
    assert len(set(TASK_NAMES)) == 36
    assert Counter(t.metadata.split for t in tasks) == {"IND": 20, "OOD": 16}
    assert Counter(t.metadata.meta_task for t in tasks) == {
        "classification": 10, "vqa": 10, "retrieval": 12, "grounding": 4}


def test_ind_tasks_are_exactly_those_with_a_training_subset():
    for task in get_tasks():
        m = task.metadata
        assert (m.split == "IND") == (m.train_subset is not None), m.name
    assert get_task("ImageNet-1K").metadata.train_subset == "ImageNet_1K"  # underscore on MMEB-train


@pytest.mark.parametrize("name, field, value", [
    ("MSCOCO", "query_instruction", "Crop the image to to isolate the object labeled as"),
    ("VisDial", "target_instruction", "Represent the given image"),
    ("Wiki-SS-NQ", "target_instruction", "Represent the given image"),
    ("CIRR", "target_instruction", "Represent the given image."),
    ("RefCOCO", "query_instruction", "Select the portion of the image that follows the language expressions."),
    ("RefCOCO-Matching", "query_instruction",
     "Select the portion of the image that follows the language expressions:"),
    ("N24News", "query_modality", "image+text"),
    ("N24News", "target_modality", "text"),
    ("HatefulMemes", "n_candidates", 2),
    ("ObjectNet", "n_candidates", 313),
    ("WebQA", "query_modality", "text"),
    ("OVEN", "target_modality", "image+text"),
    ("GQA", "query_instruction", "Represent the given image with the following question:"),
    ("Place365", "split", "OOD"),
])
def test_spec_values(name, field, value):
    assert getattr(get_task(name).metadata, field) == value


def test_text_targets_have_no_instruction_and_image_targets_do():
    for task in get_tasks():
        m = task.metadata
        assert (m.target_instruction == "") == (m.target_modality == "text"), m.name
        assert m.dataset_id == "TIGER-Lab/MMEB-eval" and m.description


@pytest.mark.parametrize("selectors, expected", [
    ("ood", 16), ("IND", 20), ("classification", 10), ("VQA", 10), ("retrieval", 12), ("grounding", 4),
    ("all", 36), (None, 36), ([], 36), (["grounding", "OOD"], 16 + 1), ("vqa,grounding", 14),
    ("MMEB-V1:OOD", 16), ("mmeb-v1:retrieval", 12),
])
def test_group_selectors(selectors, expected):
    assert len(get_tasks(selectors)) == expected


def test_names_are_case_insensitive_deduplicated_and_ordered():
    tasks = get_tasks(["msCOCO_T2I", "imagenet-1k", "ImageNet-1K", "retrieval"])
    names = [t.name for t in tasks]
    assert names[0] == "ImageNet-1K" and names.count("MSCOCO_t2i") == 1 and len(names) == 13
    assert names == sorted(names, key=TASK_NAMES.index)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match=r"unknown task 'ImageNet1K'.*Did you mean: ImageNet-1K"):
        get_tasks("ImageNet1K")
    with pytest.raises(UnknownNameError, match="RefCOCO-Matching"):
        get_task("refcoco-matchin")
    with pytest.raises(UnknownNameError, match="unknown benchmark 'nosuch'"):
        get_tasks("nosuch:all")
    with pytest.raises(UnknownNameError, match="unknown task group 'ODD'.*OOD"):
        get_tasks("MMEB-V1:ODD")


def test_metadata_rejects_unknown_fields_and_bad_values():
    base = dict(name="X", meta_task="vqa", split="IND", query_modality="image", target_modality="text",
                query_instruction="q", target_instruction="", n_candidates=3, description="d")
    TaskMetadata(**base)
    with pytest.raises(ValidationError, match="n_candidate"):
        TaskMetadata(**base, n_candidate=3)
    with pytest.raises(ValidationError):
        TaskMetadata(**{**base, "split": "ind"})


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    import mmeb.tasks as registry

    registry.registered_tasks()  # discover the built-ins first
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_register_other_benchmark_selects_within_it(scratch_registry):
    @register_task
    class ToyAlpha(Task):
        metadata = TaskMetadata(name="ToyAlpha", benchmark="toybench", meta_task="vqa", split="OOD",
                                query_modality="image", target_modality="text", query_instruction="q",
                                target_instruction="", n_candidates=3, description="toy")

    assert [t.name for t in get_tasks("toybench:all")] == ["ToyAlpha"]
    assert [t.name for t in get_tasks("toybench:OOD")] == ["ToyAlpha"]
    assert get_tasks("toybench:IND") == []
    assert "ToyAlpha" not in [t.name for t in get_tasks("OOD")]  # plain groups mean MMEB-V1
    assert get_task("toyalpha").metadata.benchmark == "toybench"
    with pytest.raises(ValueError, match="already registered"):
        @register_task
        class ToyAlpha2(Task):  # a second class under a name taken in the same benchmark
            metadata = TaskMetadata(**{**ToyAlpha.metadata.model_dump(), "name": "TOYALPHA"})

    @register_task
    class ImageNet1K(Task):  # noqa: F811 - the same name in another benchmark is fine
        metadata = TaskMetadata(**{**ToyAlpha.metadata.model_dump(), "name": "ImageNet-1K"})

    assert get_task("ImageNet-1K").metadata.benchmark == "MMEB-V1"  # a bare name means MMEB-V1 first
    assert get_task("toybench:ImageNet-1K").metadata.benchmark == "toybench"
    assert [t.metadata.benchmark for t in get_tasks("toybench:imagenet-1k")] == ["toybench"]


class _ToyEntryTask(Task):
    metadata = TaskMetadata(name="ToyFromEntryPoint", benchmark="entrybench", meta_task="retrieval", split="OOD",
                            query_modality="text", target_modality="image", query_instruction="q",
                            target_instruction="", n_candidates=2, description="toy")


class _FakeEntryPoint:
    def __init__(self, name, value, loaded):
        self.name, self.value, self._loaded = name, value, loaded

    def load(self):
        if isinstance(self._loaded, Exception):
            raise self._loaded
        return self._loaded


def _discover_with(monkeypatch, *fake_entry_points):
    import mmeb.tasks as registry

    registry.registered_tasks()
    builtins = {k: c for k, c in registry._REGISTRY.items() if c.__module__.startswith("mmeb.tasks.")}
    monkeypatch.setattr(registry, "_REGISTRY", builtins)  # as if only the core's own modules had been imported
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "entry_points",
                        lambda group: list(fake_entry_points) if group == "mmeb.tasks" else [])
    return registry


def test_installed_packages_contribute_benchmarks_through_the_entry_point_group(monkeypatch):
    registry = _discover_with(monkeypatch, _FakeEntryPoint("toy", "toypkg.tasks:TASKS", [_ToyEntryTask]))
    assert [t.name for t in get_tasks("entrybench:all")] == ["ToyFromEntryPoint"]
    assert registry.registered_tasks()[-1] is _ToyEntryTask  # after the built-ins
    assert [t.name for t in get_tasks()] == list(TASK_NAMES)


def test_without_the_entry_point_the_core_does_not_know_the_demo(monkeypatch):
    _discover_with(monkeypatch)
    with pytest.raises(UnknownNameError, match="unknown benchmark 'synthetic'"):
        get_tasks("synthetic:all")


@pytest.mark.parametrize("loaded, message", [
    (ImportError("No module named 'toypkg'"), "failed to load: ImportError"),
    ([object], "must name a Task class"),
])
def test_a_broken_entry_point_names_itself(monkeypatch, loaded, message):
    from mmeb.errors import MMEBError

    _discover_with(monkeypatch, _FakeEntryPoint("toy", "toypkg.tasks:TASKS", loaded))
    with pytest.raises(MMEBError, match=message) as info:
        get_tasks()
    assert "'toy' (toypkg.tasks:TASKS)" in str(info.value)


def test_the_demo_benchmark_is_declared_as_an_entry_point():
    import tomllib
    from pathlib import Path

    from mmeb.demo.tasks import TASK_CLASSES

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    value = pyproject["project"]["entry-points"]["mmeb.tasks"]["synthetic"]
    module, _, attribute = value.partition(":")
    assert (module, attribute) == ("mmeb.demo.tasks", "TASK_CLASSES") and len(TASK_CLASSES) == 11

"""Mirrors of MMEB-eval in the Hub layout, generated once per session (read-only for tests)."""

import pytest

from mmeb.testing.mirror import write_mirror


@pytest.fixture(scope="session")
def mirror_zip(tmp_path_factory):
    return write_mirror(tmp_path_factory.mktemp("mirror-zip"))


@pytest.fixture(scope="session")
def mirror_variants(tmp_path_factory, mirror_zip):
    """The same content with the images zipped or extracted, with or without one top-level folder."""
    few = ["ImageNet-1K", "WebQA", "RefCOCO-Matching"]
    return {
        ("zip", None): mirror_zip,
        ("zip", "eval_images"): write_mirror(tmp_path_factory.mktemp("m"), few, images="zip",
                                             top_folder="eval_images"),
        ("folder", None): write_mirror(tmp_path_factory.mktemp("m"), few, images="folder"),
        ("folder", "eval_images"): write_mirror(tmp_path_factory.mktemp("m"), few, images="folder",
                                                top_folder="eval_images"),
    }

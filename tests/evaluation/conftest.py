"""Engine test fixtures; helpers live in engine_testdata.py, toy models in toy_models.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # engine_testdata / toy_models importable (plug-in module form)

from engine_testdata import TIE_IMAGES, make_task, tie_rows  # noqa: E402


@pytest.fixture
def tie_task():
    return make_task("TieTask", tie_rows(), TIE_IMAGES)

"""Fixtures of the leaderboard tests."""

from pathlib import Path

import pytest


@pytest.fixture
def results_dir(tmp_path) -> Path:
    root = tmp_path / "results"
    root.mkdir()
    return root

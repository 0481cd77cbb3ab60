"""docs/training.md promises every config key in its YAML block: the block names exactly TrainConfig's fields, and
its values are valid settings."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mmeb.training.config import TrainConfig, load_config


def test_the_documented_config_block_lists_every_key_and_loads():
    text = (Path(__file__).parents[2] / "docs" / "training.md").read_text()
    block = yaml.safe_load(re.search(r"## Config.*?```yaml\n(.*?)```", text, re.S).group(1))
    assert set(block) == set(TrainConfig.model_fields)
    load_config(block)

"""The shipped DeepSpeed ZeRO-2 config leaves every score-changing setting to the training config: the Trainer fills
each "auto" from TrainingArguments, and without a "scheduler" section it builds the schedule from
``lr_scheduler`` / ``warmup_steps`` (transformers' ``deepspeed_optim_sched``). A "scheduler" section would replace
it with DeepSpeed's WarmupDecayLR (logarithmic warmup by default) whatever ``lr_scheduler`` says."""

from __future__ import annotations

import json
from importlib.resources import files


def _shipped() -> dict:
    return json.loads((files("mmeb.training") / "configs" / "deepspeed_zero2.json").read_text())


def test_schedule_comes_from_the_training_config():
    assert "scheduler" not in _shipped()


def test_zero2_with_every_size_and_optimizer_setting_from_the_trainer():
    config = _shipped()
    assert config["zero_optimization"]["stage"] == 2
    for key in ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps",
                "gradient_clipping"):
        assert config[key] == "auto", key
    assert all(v == "auto" for v in config["optimizer"]["params"].values())

"""VLM2Vec contrastive training (``mmeb train``): the paper's recipe on the sentence-transformers Trainer.

    from mmeb.training import train, TrainConfig
    out_dir = train({"model": "Qwen/Qwen2-VL-2B-Instruct", "subsets": ["VOC2007"], "output_dir": "runs/q"})

Modules: ``config`` (TrainConfig), ``data`` (MMEB-train reader), ``layout`` (writer of that layout),
``encoder`` (the VLM as a sentence-transformers module, late processing), ``model`` (VLM + PEFT),
``collate``, ``trainer`` (train()), ``checkpoint`` (resume + export). Heavy imports happen on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mmeb.training.config import TrainConfig
    from mmeb.training.trainer import train

__all__ = ["TrainConfig", "train", "load_config", "require_train_extra"]

#: what the trainer imports beyond mmeb's core dependencies (the ``train`` extra)
TRAIN_EXTRA_MODULES = ("sentence_transformers", "peft", "accelerate")


def require_train_extra(what: str = "mmeb train") -> None:
    """One clear line instead of an import traceback when the ``train`` extra is not installed."""
    import importlib

    from mmeb.errors import ConfigError

    for module in TRAIN_EXTRA_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            raise ConfigError(f"{what} needs {module}, which is not installed: pip install 'mmeb[train]'") from None


def __getattr__(name: str) -> Any:
    if name in ("TrainConfig", "load_config"):
        from mmeb.training import config

        return getattr(config, name)
    if name == "train":
        from mmeb.training.trainer import train

        return train
    raise AttributeError(f"module 'mmeb.training' has no attribute {name!r}")

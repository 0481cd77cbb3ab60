"""Model adapters: ``load_model(spec)`` turns a registered name, ``st:<id>``, a checkpoint directory, a Hub
id or a plug-in spec into an object the engine can encode with; ``list_models()`` is the registry."""

from __future__ import annotations

from mmeb.models.loading import load_model
from mmeb.models.protocol import EmbeddingModel, ModelInput
from mmeb.models.registry import ModelEntry, list_models

__all__ = ["load_model", "list_models", "ModelEntry", "ModelInput", "EmbeddingModel"]

"""Small deterministic models for the engine tests (also loaded as plug-ins by file path).

Embeddings depend only on content (instruction, text, image pixels), so an independent computation can
reproduce every score. ``TWINS`` maps a text to another text whose embedding it copies exactly.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import torch

DIM = 16
TWINS = {"twin of gold": "gold"}  # a distinct candidate with the positive's exact embedding


def _seeded(material: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def content_vector(instruction: str, text: str, image) -> np.ndarray:
    """Mostly the payload (so a query finds the candidate with its text/image), a little the instruction."""
    vector = _seeded("text:" + TWINS.get(text, text))
    if image is not None:
        vector += _seeded("image:" + hashlib.sha256(np.asarray(image).tobytes()).hexdigest())
    return vector + 0.05 * _seeded("instruction:" + instruction)


class ContentModel:
    """Protocol path only: encode() returns numpy."""

    name = "toy/content-model"
    revision = "r1"

    def __init__(self, scale: float = 1.0):
        self.settings = {"scale": scale, "pooling": "none"}
        self.calls: list[tuple[str, str, int]] = []

    def encode(self, inputs, **context):
        self.calls.append((context["task_name"], context["role"], len(inputs)))
        log = os.environ.get("TOY_CALL_LOG")  # lets a multi-process test see which rank encoded what
        if log:
            with open(f"{log}.{os.environ.get('RANK', '0')}", "a") as handle:
                handle.write(f"{context['task_name']} {context['role']} {len(inputs)}\n")
        return np.stack([content_vector(x.instruction, x.text, x.image) for x in inputs]) * self.settings["scale"]


class FastPathModel(ContentModel):
    """Also offers prepare (runs in DataLoader workers) + embed (main process); encode = embed(prepare)."""

    name = "toy/fast-path-model"

    def __init__(self):
        super().__init__()
        self.embed_calls = 0

    def prepare(self, inputs, *, task_name, role):
        return {"vectors": torch.from_numpy(np.stack([content_vector(x.instruction, x.text, x.image) for x in inputs]))}

    def embed(self, batch):
        self.embed_calls += 1
        return batch["vectors"] * self.settings["scale"]

    def encode(self, inputs, **context):
        self.calls.append((context["task_name"], context["role"], len(inputs)))
        return self.embed(self.prepare(inputs, task_name=context["task_name"], role=context["role"]))


class BadModel(ContentModel):
    """Returns a defective output for one role; ``defect`` picks which."""

    name = "toy/bad-model"

    def __init__(self, defect: str = "nan", role: str = "candidate"):
        super().__init__()
        self.defect, self.bad_role = defect, role

    def encode(self, inputs, **context):
        good = super().encode(inputs, **context)
        if context["role"] != self.bad_role:
            return good
        if self.defect == "rows":
            return good[:-1] if len(good) > 1 else np.concatenate([good, good])
        if self.defect == "nan":
            good[0, 0] = np.nan
            return good
        if self.defect == "inf":
            good[-1, -1] = np.inf
            return good
        if self.defect == "not_array":
            return {"embeddings": good}
        if self.defect == "dim":
            return good[:, : DIM // 2]
        raise ValueError(self.defect)


def make_content_model():
    """A factory for the ``package.module:factory`` plug-in form."""
    return ContentModel()

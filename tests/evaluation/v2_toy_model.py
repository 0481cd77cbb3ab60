"""A deterministic content model for the MMEB-V2 engine tests (also a plug-in by file path): every distinct
input (instruction, text, image pixels, frame pixels) gets its own random direction, so there are no ties and an
independent computation can reproduce every score."""

from __future__ import annotations

import hashlib

import numpy as np

DIM = 24


def content_key(instruction: str, text: str, image, frames) -> str:
    h = hashlib.sha256(f"{instruction}\x00{text}".encode())
    for picture in ([image] if image is not None else []) + list(frames or ()):
        h.update(np.asarray(picture).tobytes())
    return h.hexdigest()


def vector(key: str) -> np.ndarray:
    seed = int(key[:16], 16)
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


class V2ContentModel:
    name = "toy/v2-content"
    revision = "r1"

    def __init__(self):
        self.inputs = []  # (task, role, ModelInput)

    def encode(self, inputs, **context):
        self.inputs.extend((context["task_name"], context["role"], x) for x in inputs)
        return np.stack([vector(content_key(x.instruction, x.text, x.image, x.frames)) for x in inputs])

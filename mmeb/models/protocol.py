"""The model protocol: what the evaluation engine calls. Any object with ``encode`` qualifies.

    class MyModel:
        def encode(self, inputs: list[ModelInput], **context) -> array [len(inputs), dim]

``context`` holds at least ``task_name`` and ``role`` ("query" or "candidate"), and may hold
``batch_size`` and ``device``. The return value may be a numpy array or a torch tensor.
Optional attributes the engine reads when present (all recorded in result files):

    name: str            - model name for results (default: the class name)
    revision: str        - model revision / commit
    settings: dict       - every score-changing setting (prompt format, pooling, dtype, ...)
    to(device)           - move the model to a device before encoding
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

Role = Literal["query", "candidate"]


@dataclass(frozen=True, slots=True)
class ModelInput:
    """One input to encode.

    instruction: the task instruction ("" when the item carries none, e.g. bare labels).
    text:        payload text only (label, query, caption; "" for a video-classification query or a page /
                 clip target), without instruction or image token.
    image:       a single image (photo, document page, MomentSeeker image query) as decoded from its file,
                 in the file's own mode (P, RGBA, L, ...), or None. Call ``image.convert("RGB")`` when you need RGB.
    raw_text:    the full official string exactly as in the data, with the ``<|image_1|>`` placeholder.
    frames:      a video as a tuple of PIL images in temporal order, decoded and not resized, or None.
    """

    instruction: str
    text: str
    image: "Image.Image | None"
    raw_text: str
    frames: "tuple[Image.Image, ...] | None" = None


@runtime_checkable
class EmbeddingModel(Protocol):
    def encode(self, inputs: list[ModelInput], **context: Any) -> Any: ...


def refuse_video(inputs: list[ModelInput], *, model: str, recipe: str, task_name: str = "") -> None:
    """A recipe without a video path refuses video items in one line: embedding only their text (or nothing)
    would be a silently wrong score."""
    if any(inp.frames is not None for inp in inputs):
        from mmeb.errors import ConfigError

        raise ConfigError(f"{model}: task {task_name or '?'} has video inputs (frames), which the {recipe} recipe in "
                          "mmeb does not form; run image and visual-document tasks with this model.")

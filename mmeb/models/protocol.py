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
    text:        payload text without instruction or image token.
    image:       decoded RGB image, or None.
    raw_text:    the string exactly as in the data, with the ``<|image_1|>`` placeholder.
    """

    instruction: str
    text: str
    image: "Image.Image | None"
    raw_text: str


@runtime_checkable
class EmbeddingModel(Protocol):
    def encode(self, inputs: list[ModelInput], **context: Any) -> Any: ...

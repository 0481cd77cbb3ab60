"""The in-memory form of a task's evaluation data (the contract between loading and evaluation).

One MMEB row = one query + its own candidate list; candidate 0 is the positive.
Every side is an :class:`Item` that keeps the string exactly as stored (``raw_text``,
with the ``<|image_1|>`` placeholder and trailing newlines) next to its parsed parts.
Images are not decoded here: an item holds the image *path*, and the task's
:class:`ImageStore` reads bytes / decodes on demand (in DataLoader workers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

#: the Phi-3.5-V image placeholder the released MMEB strings carry
IMAGE_PLACEHOLDER = "<|image_1|>"


class SubsetSpec(Protocol):
    """What the loader needs to know about a task (``mmeb.tasks.TaskMetadata`` has these fields): where its
    subset lives and the instruction prefixes that split a stored string into instruction and payload."""

    name: str  # the subset (folder / Hub config) name
    dataset_id: str
    dataset_revision: str
    query_instruction: str
    target_instruction: str


@dataclass(frozen=True, slots=True)
class Item:
    """One query or candidate.

    raw_text:    the string byte-exact as in the data (placeholder, whitespace and all).
    instruction: the task instruction part ("" when the item carries none, e.g. bare labels).
    text:        the payload without instruction, placeholder or surrounding whitespace.
    image_path:  path relative to the image root; "" when the item has no image. Note an
                 item can carry the placeholder in raw_text yet have no image (WebQA, EDIS).
    frames:      a video: the paths (relative to the image root) of its frames in temporal order, already
                 sampled; () when the item has no video. Part of the identity: two videos with the same
                 (empty) text are different items.
    """

    raw_text: str
    instruction: str
    text: str
    image_path: str = ""
    frames: tuple[str, ...] = ()

    @property
    def has_image(self) -> bool:
        return bool(self.image_path)

    @property
    def has_frames(self) -> bool:
        return bool(self.frames)

    @property
    def key(self) -> tuple:
        """Content identity within a task: equal keys are the same input to a model."""
        return (self.raw_text, self.instruction, self.text, self.image_path, self.frames)


@dataclass(slots=True)
class QueryRow:
    """A query and its candidate list; ``candidates[0]`` is the positive."""

    query: Item
    candidates: list[Item]
    row_index: int = 0  # row number in the source file (for error messages)


@runtime_checkable
class ImageStore(Protocol):
    """Reads images by the relative paths stored in the data (zip in place or a folder)."""

    def read_bytes(self, path: str) -> bytes: ...

    def open(self, path: str) -> "Image.Image":
        """Decode to a PIL image in the file's own mode (format detected from content, not extension)."""
        ...

    def __contains__(self, path: str) -> bool: ...


@dataclass
class TaskData:
    """One task's loaded test split."""

    task_name: str
    rows: list[QueryRow]
    images: ImageStore | None
    dataset_id: str
    revision: str  # the resolved revision (a commit hash when loaded from the Hub)
    source: str  # where it came from: "hub:<cache dir>" or "local:<dir>" or "synthetic:<dir>"
    files: list[str] = field(default_factory=list)  # files read (for error messages / provenance)
    null_texts: int = 0  # texts stored as null in the data (read as "")

    def __len__(self) -> int:
        return len(self.rows)

"""In-memory tasks for the engine tests: no mirror, no Hub - rows, images and metadata built here."""

from __future__ import annotations

import io

from mmeb.data.items import Item, QueryRow, TaskData
from mmeb.tasks.base import Task, TaskMetadata



class MemoryImageStore:
    def __init__(self, images: dict[str, bytes]):
        self.images = images

    def read_bytes(self, path: str) -> bytes:
        return self.images[path]

    def open(self, path: str):
        from PIL import Image

        with Image.open(io.BytesIO(self.images[path])) as image:
            return image.convert("RGB")

    def __contains__(self, path: str) -> bool:
        return path in self.images


def png(color: tuple[int, int, int], size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def text_item(text: str, instruction: str = "") -> Item:
    raw = f"{instruction} {text}\n" if instruction else text
    return Item(raw_text=raw, instruction=instruction, text=text)


def image_item(path: str, text: str = "", instruction: str = "Represent the given image.") -> Item:
    return Item(raw_text=f"<|image_1|>\n{instruction} {text}\n", instruction=instruction, text=text, image_path=path)


def make_task(name: str, rows: list[QueryRow], images: dict[str, bytes] | None = None, *,
              meta_task: str = "retrieval", fail: Exception | None = None) -> Task:
    """A Task object whose load() returns the given rows (or raises ``fail``)."""
    metadata = TaskMetadata(name=name, benchmark="engine-tests", meta_task=meta_task, split="OOD",
                            query_modality="image+text", target_modality="image+text",
                            query_instruction="Find", target_instruction="", n_candidates=max(
                                (len(r.candidates) for r in rows), default=1),
                            n_queries=max(1, len(rows)), dataset_id="test/engine", description="engine test task")

    def load(self, data_dir=None, **kwargs):
        if fail is not None:
            raise fail
        return TaskData(task_name=name, rows=rows, images=MemoryImageStore(images or {}), dataset_id="test/engine",
                        revision="rev-test", source="synthetic:memory")

    return type(f"Task_{name.replace('-', '_')}", (Task,), {"metadata": metadata, "load": load})()


def tie_rows() -> list[QueryRow]:
    """Row 0: a copy of the positive ranks alongside it (counts as correct).
    Row 1: a distinct candidate with the positive's exact embedding (the query scores 1/2 at best).
    Rows 2+: ordinary rows with repeated distractors, some with images."""
    q = lambda t: text_item(t, "Find")  # noqa: E731
    return [
        QueryRow(q("gold"), [text_item("gold"), text_item("lead"), text_item("gold"), text_item("tin")], 0),
        QueryRow(q("gold"), [text_item("gold"), text_item("twin of gold"), text_item("iron")], 1),
        QueryRow(q("iron"), [text_item("tin"), text_item("iron"), text_item("iron"), text_item("lead")], 2),
        QueryRow(q("tin"), [text_item("tin"), text_item("copper"), text_item("zinc")], 3),
        QueryRow(image_item("a.png", "which metal", "Find"),
                 [image_item("b.png"), image_item("a.png"), image_item("c.png"), image_item("b.png")], 4),
        QueryRow(image_item("c.png", "", "Find"), [text_item("lead"), image_item("c.png"), text_item("zinc")], 5),
    ]


TIE_IMAGES = {"a.png": png((200, 10, 10)), "b.png": png((10, 200, 10)), "c.png": png((10, 10, 200), size=12)}

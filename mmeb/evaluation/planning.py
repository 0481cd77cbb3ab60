"""Plan one role of one task: which items need the model, in which batches - reading each image once.

For every image the plan needs its content hash (cache key, content identity) and its size (batch order,
token budget). Both come from the store's remembered facts when the image is unchanged
(:mod:`mmeb.evaluation.image_identity`: no bytes read), otherwise from one read of the bytes: sha256 and the
header size are taken from those bytes, which stay in memory (``held``) until the worker decodes them. Only
past ``HELD_BYTES_LIMIT`` per role are bytes dropped and read again when decoded (then their hash is checked).
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from mmeb.data.items import ImageStore, Item
from mmeb.errors import DataError
from mmeb.evaluation.cache import item_key
from mmeb.evaluation.image_identity import ImageFacts, ImageIdentity

#: compressed image bytes kept in memory per role between the read and the decode
HELD_BYTES_LIMIT = 2 * 2**30


@dataclass
class RolePlan:
    keys: list[str]  # cache key per item: task, role, texts and the image's sha256 (content identity)
    cached: dict[str, np.ndarray]  # key -> vector found in the cache
    batches: list[list[int]]  # all batches of item rows to encode (one representative per missing key)
    same: dict[int, list[int]]  # representative row -> every row with its key
    facts: dict[str, ImageFacts]  # image path -> facts
    held: dict[str, bytes] = field(default_factory=dict)  # image path -> the bytes read while planning
    images_read: int = 0


def read_image(images: ImageStore | None, item: Item, task_name: str, role: str, path: str | None = None) -> bytes:
    """The bytes of ``path`` (default: the item's image; a video's frames are read one by one)."""
    path = item.image_path if path is None else path
    if images is None:
        raise DataError(f"task {task_name}: {role} {item.raw_text[:60]!r} names image {path!r} "
                        "but the task data has no image store")
    try:
        return images.read_bytes(path)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"task {task_name}, {role} image {path!r}: cannot read it ({exc})") from exc


def learn(data: bytes, item: Item, task_name: str, role: str, path: str | None = None) -> ImageFacts:
    """sha256 and size from bytes already in memory (PIL parses the header only)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception as exc:
        raise DataError(f"task {task_name}, {role} image {path or item.image_path!r}: not a readable image "
                        f"({exc})") from exc
    return ImageFacts(hashlib.sha256(data).hexdigest(), int(width), int(height))


def media_paths(item: Item) -> tuple[str, ...]:
    """Every file an item's content depends on: its image, then its video frames in order."""
    frames = tuple(getattr(item, "frames", ()))
    return ((item.image_path,) if item.has_image else ()) + frames


def content_digest(item: Item, facts: dict[str, ImageFacts]) -> str | None:
    """The item's media identity: its image's sha256, or (a video) one digest over every file in order."""
    paths = media_paths(item)
    if not getattr(item, "frames", ()):
        return facts[item.image_path].sha256 if item.has_image else None
    digest = hashlib.sha256(b"frames")
    for path in paths:
        digest.update(bytes.fromhex(facts[path].sha256))
    return "frames:" + digest.hexdigest()


def plan_role(items: Sequence[Item], images: ImageStore | None, *, task_name: str, role: str,
              identity: ImageIdentity, cache_get: Callable[[list[str]], dict], readers: Executor | None,
              batch_size: int, max_batch_tokens: int | None = None, token_count: Callable | None = None
              ) -> RolePlan:
    first_item: dict[str, Item] = {}
    for item in items:
        for path in media_paths(item):
            first_item.setdefault(path, item)
    facts = identity.lookup(images, list(first_item)) if images is not None else {}

    def key(item: Item) -> str | None:
        if any(path not in facts for path in media_paths(item)):
            return None
        return item_key(task_name=task_name, role=role, instruction=item.instruction, text=item.text,
                        raw_text=item.raw_text, image_sha256=content_digest(item, facts))

    keys = [key(item) for item in items]
    cached = cache_get([k for k in keys if k is not None])
    # read an image when its facts are unknown or some item using it has no cached vector
    to_read = sorted({path for item, k in zip(items, keys) if k is None or k not in cached
                      for path in media_paths(item)})

    def read(path: str) -> tuple[str, str | None, bytes, ImageFacts]:
        stamp = images.stamp(path) if callable(getattr(images, "stamp", None)) else None  # before the read
        data = read_image(images, first_item[path], task_name, role, path)
        try:
            return path, stamp, data, learn(data, first_item[path], task_name, role, path)
        except DataError as exc:  # a store that knows the row using the file says so (MMEB-V2 frames)
            origin = images.origin_of(path) if callable(getattr(images, "origin_of", None)) else None
            if origin:
                raise DataError(f"{exc}; first used by {origin}") from exc
            raise

    held: dict[str, bytes] = {}
    budget = HELD_BYTES_LIMIT
    results = readers.map(read, to_read) if readers is not None and len(to_read) > 1 else map(read, to_read)
    for path, stamp, data, learnt in results:
        facts[path] = learnt
        identity.record(images, path, stamp, learnt)
        if len(data) <= budget:
            held[path] = data
            budget -= len(data)
    if to_read:
        identity.save()

    unknown = [i for i, k in enumerate(keys) if k is None]
    for i in unknown:
        keys[i] = key(items[i])
    cached.update(cache_get([keys[i] for i in unknown]))
    same: dict[int, list[int]] = {}
    first_row: dict[str, int] = {}
    for row, k in enumerate(keys):
        if k in cached:
            continue
        rep = first_row.setdefault(k, row)
        same.setdefault(rep, []).append(row)
    reps = sorted(same)
    pixels = np.asarray([sum(facts[p].pixels for p in media_paths(items[i])) for i in reps], dtype=np.int64)
    rep_items = [items[i] for i in reps]
    if max_batch_tokens:
        costs = [sum(item_tokens(item, facts.get(p), token_count) for p in media_paths(item)) or
                 item_tokens(item, None, token_count) for item in rep_items]
        local = plan_token_batches(rep_items, costs, max_batch_tokens)
    else:
        local = plan_batches(rep_items, pixels, batch_size)
    batches = [[reps[j] for j in batch] for batch in local]
    needed = {path for i in reps for path in media_paths(items[i])}
    return RolePlan(keys=keys, cached=cached, batches=batches, same=same, facts=facts,
                    held={p: d for p, d in held.items() if p in needed}, images_read=len(to_read))


def plan_batches(items: Sequence[Item], pixels: np.ndarray, batch_size: int) -> list[list[int]]:
    """Similar sizes together (less padding), largest first (an out-of-memory batch fails at once)."""
    order = sorted(range(len(items)), key=lambda i: (-int(pixels[i]), -len(items[i].raw_text), i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def item_tokens(item: Item, facts: ImageFacts | None, token_count: Callable | None = None) -> int:
    """Tokens one item puts into a VLM forward: the model's own count when it offers ``token_count(width,
    height, text)``, else one token per 28 x 28 px (Qwen2-VL's merged patch) plus ~4 characters per token."""
    width, height = (facts.width, facts.height) if facts is not None else (0, 0)
    if token_count is not None:
        return max(1, int(token_count(width, height, item.raw_text)))
    return max(1, (width * height) // (28 * 28) + len(item.raw_text) // 4 + 1)


def plan_token_batches(items: Sequence[Item], costs: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Size-sorted batches whose padded size (items x the largest item's tokens) stays within ``max_tokens``;
    an item larger than the budget goes alone."""
    order = sorted(range(len(items)), key=lambda i: (-int(costs[i]), -len(items[i].raw_text), i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * int(costs[current[0]]) > max_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches

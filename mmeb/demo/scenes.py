"""Rendering of the synthetic scenes: coloured shapes on a noisy background, and small text documents.

Everything is a pure function of its arguments (no global random state), so a benchmark generated from a
seed is byte-identical on every machine: PNG encoding of the same pixels is deterministic.
Images are small on purpose (56-84 px): the reference model is trained on two CPU cores in minutes.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 165, 60),
    "blue": (45, 85, 225),
    "yellow": (235, 205, 40),
    "purple": (145, 60, 185),
    "orange": (245, 135, 25),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "cross")
#: shape radius as a fraction of the canvas side, alone on a canvas / one of several (a column each)
SIZES: dict[str, float] = {"small": 0.17, "large": 0.28}
SIZES_IN_COLUMN: dict[str, float] = {"small": 0.09, "large": 0.145}
#: horizontal slots of a multi-object scene (one object per slot)
COLUMNS: tuple[str, ...] = ("left", "middle", "right")

SCENE_PX = 84  # multi-object scenes: 6x6 Qwen2-VL patches of 14 px
OBJECT_PX = 56  # single objects and crops: the smallest Qwen2-VL input (4x4 patches)


@dataclass(frozen=True)
class Shape:
    colour: str
    shape: str
    size: str
    cx: float  # centre, as a fraction of the canvas
    cy: float
    r: float  # radius, fraction of the canvas
    column: str = ""  # "" for single-object scenes

    @property
    def label(self) -> str:
        """The class name: colour and shape (size and position are not part of the identity)."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]
    background: tuple[int, int, int]
    noise_seed: int
    px: int = SCENE_PX


def random_background(rng: random.Random) -> tuple[int, int, int]:
    """A light grey with a faint tint: never confusable with a shape colour."""
    base = rng.randint(200, 235)
    return tuple(min(255, base + rng.randint(-8, 8)) for _ in range(3))  # type: ignore[return-value]


def single_object_scene(rng: random.Random, colour: str, shape: str, size: str | None = None) -> Scene:
    size = size or rng.choice(list(SIZES))
    r = SIZES[size]
    obj = Shape(colour, shape, size, cx=rng.uniform(r + 0.05, 0.95 - r), cy=rng.uniform(r + 0.05, 0.95 - r), r=r)
    return Scene((obj,), random_background(rng), rng.getrandbits(32), px=OBJECT_PX)


def multi_object_scene(rng: random.Random, combos: list[tuple[str, str]]) -> Scene:
    """One object per column (left to right in the order given), sizes and heights random."""
    if not 1 <= len(combos) <= len(COLUMNS):
        raise ValueError(f"a scene holds 1..{len(COLUMNS)} objects, got {len(combos)}")
    columns = sorted(rng.sample(range(len(COLUMNS)), len(combos)))
    shapes = []
    for (colour, shape), col in zip(combos, columns):
        size = rng.choice(list(SIZES))
        r = SIZES_IN_COLUMN[size]
        cx = (col + 0.5) / len(COLUMNS) + rng.uniform(-0.015, 0.015)
        cy = rng.uniform(r + 0.05, 0.95 - r)
        shapes.append(Shape(colour, shape, size, cx, cy, r, column=COLUMNS[col]))
    return Scene(tuple(shapes), random_background(rng), rng.getrandbits(32))


def jitter(scene: Scene, rng: random.Random) -> Scene:
    """The 'same' scene seen again: objects nudged a little, new background noise (the NIGHTS-style positive)."""
    moved = tuple(replace(s, cx=s.cx + rng.uniform(-0.015, 0.015), cy=s.cy + rng.uniform(-0.03, 0.03))
                  for s in scene.shapes)
    return Scene(moved, random_background(rng), rng.getrandbits(32), px=scene.px)


def _noisy_canvas(px: int, background: tuple[int, int, int], noise_seed: int) -> Image.Image:
    noise = np.random.default_rng(noise_seed).integers(-10, 11, size=(px, px, 1))
    pixels = np.clip(np.asarray(background, dtype=np.int64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def _bbox(s: Shape, px: int) -> tuple[int, int, int, int]:
    r = s.r * px
    return (round(s.cx * px - r), round(s.cy * px - r), round(s.cx * px + r), round(s.cy * px + r))


def _draw_shape(draw: ImageDraw.ImageDraw, s: Shape, px: int) -> None:
    x0, y0, x1, y1 = _bbox(s, px)
    fill = COLOURS[s.colour]
    if s.shape == "circle":
        draw.ellipse((x0, y0, x1, y1), fill=fill)
    elif s.shape == "square":
        inset = (x1 - x0) * 0.1  # a square of the same radius looks bigger than a circle; even them out
        draw.rectangle((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=fill)
    elif s.shape == "triangle":
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
    elif s.shape == "cross":
        w = (x1 - x0) / 3
        draw.rectangle((x0, y0 + w, x1, y1 - w), fill=fill)
        draw.rectangle((x0 + w, y0, x1 - w, y1), fill=fill)
    else:
        raise ValueError(f"unknown shape {s.shape!r}; known: {', '.join(SHAPES)}")


def render(scene: Scene) -> Image.Image:
    image = _noisy_canvas(scene.px, scene.background, scene.noise_seed)
    draw = ImageDraw.Draw(image)
    for s in scene.shapes:
        _draw_shape(draw, s, scene.px)
    return image


def crop(scene: Scene, index: int, image: Image.Image | None = None) -> Image.Image:
    """The region of one object (with a margin), resized to the object size: a grounding candidate.
    ``image`` is the scene's rendering when the caller has it already."""
    image = image if image is not None else render(scene)
    x0, y0, x1, y1 = _bbox(scene.shapes[index], scene.px)
    m = (x1 - x0) // 4
    box = (max(0, x0 - m), max(0, y0 - m), min(scene.px, x1 + m), min(scene.px, y1 + m))
    return image.crop(box).resize((OBJECT_PX, OBJECT_PX), Image.Resampling.BILINEAR)


def render_document(fields: list[tuple[str, str]], rng: random.Random, px: int = SCENE_PX) -> Image.Image:
    """A small form: one `key value` line per field, in a large default font (a DocVQA-style page)."""
    page = tuple(rng.randint(240, 255) for _ in range(3))
    image = _noisy_canvas(px, page, rng.getrandbits(32))  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    line_h = px // (len(fields) + 1)
    for i, (key, value) in enumerate(fields):
        y = line_h // 2 + i * line_h + rng.randint(-2, 2)
        draw.text((4 + rng.randint(0, 3), y), f"{key} {value}", fill=(20, 20, 20), font=font)
    return image


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)  # noisy pixels barely compress; level 1 is 3x faster
    return buf.getvalue()

"""One example generator per synthetic task: scenes -> (query, positive, negatives) in real MMEB strings.

A generator returns ``Example`` objects whose sides are finished MMEB strings (``<|image_1|>\\n`` placeholder,
instruction, payload, trailing newline; bare labels for text candidates) plus image paths already stored in
the ``ImageBank``. ``benchmark.py`` turns them into MMEB-eval rows (positive first) or MMEB-train rows.

Candidate lists never hold a second copy of the positive's content: with the fractional tie rule that copy
would count as the positive, and a demo must measure the model, not the list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from mmeb.data.items import IMAGE_PLACEHOLDER
from mmeb.demo import scenes as S
from mmeb.demo import tasks as T

Combo = tuple[str, str]  # (colour, shape)


@dataclass(frozen=True)
class Side:
    text: str  # the MMEB string, byte-exact
    image: str = ""  # path in the ImageBank, "" for text-only

    @property
    def key(self) -> tuple[str, str]:
        return (self.text, self.image)


@dataclass(frozen=True)
class Example:
    query: Side
    positive: Side
    negatives: tuple[Side, ...]


@dataclass
class ImageBank:
    """PNG bytes by relative path; the path prefix separates tasks and splits."""

    prefix: str
    images: dict[str, bytes] = field(default_factory=dict)

    def add(self, image) -> str:
        path = f"{self.prefix}/{len(self.images):05d}.png"
        self.images[path] = S.png_bytes(image)
        return path


@dataclass
class Context:
    rng: random.Random
    bank: ImageBank
    seen: list[Combo]  # combinations training data may show
    unseen: list[Combo]  # held out of all IND data; the OOD tasks are built on them
    split: str  # "train" or "eval" (MMEB grounding uses another instruction for training)
    n_candidates: int


def held_out_combos(seed: int) -> list[Combo]:
    """One unseen colour per shape, four different colours: every colour and shape still appears in training."""
    colours = list(S.COLOURS)
    random.Random(f"{seed}:held-out").shuffle(colours)
    return [(colours[i], shape) for i, shape in enumerate(S.SHAPES)]


# ---------------------------------------------------------------- strings

def image_query(instruction: str, payload: str = "") -> str:
    return f"{IMAGE_PLACEHOLDER}\n{instruction}{' ' + payload if payload else ''}\n"


def text_query(instruction: str, payload: str) -> str:
    return f"{instruction} {payload}\n"


def image_target(instruction: str = T.IMAGE_TARGET) -> str:
    return f"{IMAGE_PLACEHOLDER}\n{instruction}\n"


#: how captions and questions name a column of a scene
WHERE = {"left": "on the left", "middle": "in the middle", "right": "on the right"}


def caption(scene: S.Scene) -> str:
    text = " and ".join(f"a {s.size} {s.colour} {s.shape} {WHERE[s.column]}" for s in scene.shapes)
    return text[0].upper() + text[1:] + "."


def label(combo: Combo) -> str:
    return f"{combo[0]} {combo[1]}"


# ---------------------------------------------------------------- helpers

def _distinct_combos(ctx: Context, k: int, must: Combo | None = None) -> list[Combo]:
    """k seen combos with pairwise different colours and shapes (so 'the circle' names one object)."""
    picked = [must] if must else []
    while len(picked) < k:
        c = ctx.rng.choice(ctx.seen)
        if all(c[0] != p[0] and c[1] != p[1] for p in picked):
            picked.append(c)
    ctx.rng.shuffle(picked)
    return picked


def _pick_others(rng: random.Random, pool: list, n: int, exclude: set) -> list:
    choices = [p for p in pool if p not in exclude]
    return rng.sample(choices, min(n, len(choices)))


def _scene_pool(ctx: Context, n: int, with_unseen: bool) -> list[tuple[S.Scene, str]]:
    """n distinct-caption scenes of 1-3 objects, rendered and stored: candidates are shared between queries."""
    pool, captions = [], set()
    while len(pool) < n:
        k = ctx.rng.randint(1, 3)
        must = ctx.rng.choice(ctx.unseen) if with_unseen else None
        scene = S.multi_object_scene(ctx.rng, _distinct_combos(ctx, k, must))
        if caption(scene) in captions:
            continue
        captions.add(caption(scene))
        pool.append((scene, ctx.bank.add(S.render(scene))))
    return pool


def _answer_candidates(rng: random.Random, answer: str, same_type: list[str], other: list[str], n: int) -> list[str]:
    """Negatives of the answer's own type first (a colour question gets the other colours), then the rest."""
    negs = [a for a in same_type if a != answer]
    rng.shuffle(negs)
    fill = [a for a in other if a != answer and a not in negs]
    rng.shuffle(fill)
    return (negs + fill)[: n - 1]


# ---------------------------------------------------------------- generators (one per task)

def gen_shapes(ctx: Context, n: int, combos_for_queries: list[Combo] | None = None) -> list[Example]:
    query_combos = combos_for_queries or ctx.seen
    universe = [label(c) for c in (ctx.seen + ctx.unseen if combos_for_queries else ctx.seen)]
    out = []
    for _ in range(n):
        combo = ctx.rng.choice(query_combos)
        path = ctx.bank.add(S.render(S.single_object_scene(ctx.rng, *combo)))
        negs = _pick_others(ctx.rng, universe, ctx.n_candidates - 1, {label(combo)})
        out.append(Example(Side(image_query(T.CLASSIFY), path), Side(label(combo)), tuple(Side(x) for x in negs)))
    return out


def gen_shapes_unseen(ctx: Context, n: int) -> list[Example]:
    return gen_shapes(ctx, n, combos_for_queries=ctx.unseen)


_COUNTS = ["one", "two", "three"]


def gen_scene_qa(ctx: Context, n: int, about_unseen: bool = False) -> list[Example]:
    colours, shapes = list(S.COLOURS), list(S.SHAPES)
    labels = [label(c) for c in (ctx.seen + ctx.unseen if about_unseen else ctx.seen)]
    out = []
    for _ in range(n):
        must = ctx.rng.choice(ctx.unseen) if about_unseen else None
        combos = _distinct_combos(ctx, ctx.rng.randint(2, 3), must)
        scene = S.multi_object_scene(ctx.rng, combos)
        target = next(s for s in scene.shapes if (s.colour, s.shape) == must) if must else ctx.rng.choice(scene.shapes)
        kind = ctx.rng.choice(["colour", "shape", "where"] if about_unseen else ["colour", "shape", "where", "count"])
        if kind == "colour":
            q, a, same = f"What color is the {target.shape}?", target.colour, colours
        elif kind == "shape":
            q, a, same = f"What shape is {target.colour}?", target.shape, shapes
        elif kind == "where":
            q, a, same = f"What is {WHERE[target.column]}?", target.label, labels
        else:
            q, a, same = "How many shapes are there?", _COUNTS[len(scene.shapes) - 1], _COUNTS
        path = ctx.bank.add(S.render(scene))
        negs = _answer_candidates(ctx.rng, a, same, colours + shapes + _COUNTS + labels, ctx.n_candidates)
        out.append(Example(Side(image_query(T.VQA, q), path), Side(a), tuple(Side(x) for x in negs)))
    return out


def gen_scene_qa_unseen(ctx: Context, n: int) -> list[Example]:
    return gen_scene_qa(ctx, n, about_unseen=True)


DOC_FIELDS: dict[str, list[str]] = {
    "name": ["anna", "ben", "carl", "dana", "eva", "finn"],
    "city": ["paris", "rome", "oslo", "lima", "cairo", "delhi"],
    "code": ["k7", "m2", "x9", "p4", "r5", "t3"],
}


def gen_doc_qa(ctx: Context, n: int) -> list[Example]:
    out = []
    for _ in range(n):
        values = {k: ctx.rng.choice(v) for k, v in DOC_FIELDS.items()}
        path = ctx.bank.add(S.render_document(list(values.items()), ctx.rng))
        key = ctx.rng.choice(list(DOC_FIELDS))
        # the other fields of the same page are the hardest negatives: the model must read the right line
        others = [v for k, v in values.items() if k != key]
        negs = _answer_candidates(ctx.rng, values[key], DOC_FIELDS[key], others, ctx.n_candidates)
        out.append(Example(Side(image_query(T.VQA, f"What is the {key}?"), path), Side(values[key]),
                           tuple(Side(x) for x in negs)))
    return out


def gen_captions_t2i(ctx: Context, n: int, with_unseen: bool = False) -> list[Example]:
    pool = _scene_pool(ctx, n, with_unseen)
    out = []
    for i, (scene, path) in enumerate(pool):
        others = _pick_others(ctx.rng, range(len(pool)), ctx.n_candidates - 1, {i})
        negs = tuple(Side(image_target(), pool[j][1]) for j in others)
        out.append(Example(Side(text_query(T.T2I, caption(scene))), Side(image_target(), path), negs))
    return out


def gen_captions_unseen(ctx: Context, n: int) -> list[Example]:
    return gen_captions_t2i(ctx, n, with_unseen=True)


def gen_captions_i2t(ctx: Context, n: int) -> list[Example]:
    pool = _scene_pool(ctx, n, with_unseen=False)
    out = []
    for i, (scene, path) in enumerate(pool):
        others = _pick_others(ctx.rng, range(len(pool)), ctx.n_candidates - 1, {i})
        # released i2t captions end with a newline (bare labels and answers do not)
        negs = tuple(Side(caption(pool[j][0]) + "\n") for j in others)
        out.append(Example(Side(image_query(T.I2T), path), Side(caption(scene) + "\n"), negs))
    return out


def gen_similar(ctx: Context, n: int) -> list[Example]:
    pool = _scene_pool(ctx, n, with_unseen=False)
    out = []
    for i, (scene, path) in enumerate(pool):
        again = ctx.bank.add(S.render(S.jitter(scene, ctx.rng)))
        others = _pick_others(ctx.rng, range(len(pool)), ctx.n_candidates - 1, {i})
        negs = tuple(Side(image_target(), pool[j][1]) for j in others)
        out.append(Example(Side(image_query(T.I2I), path), Side(image_target(), again), negs))
    return out


def _crop_scenes(ctx: Context, n: int) -> list[tuple[S.Scene, str, list[str]]]:
    """n three-object scenes, each stored with the crops of its objects (the grounding candidates)."""
    out = []
    for _ in range(n):
        scene = S.multi_object_scene(ctx.rng, _distinct_combos(ctx, 3))
        image = S.render(scene)
        path = ctx.bank.add(image)
        out.append((scene, path, [ctx.bank.add(S.crop(scene, i, image)) for i in range(len(scene.shapes))]))
    return out


def gen_grounding(ctx: Context, n: int, refexp: bool = False) -> list[Example]:
    crops = _crop_scenes(ctx, n)
    all_crops = [(s.label, path) for sc, _, paths in crops for s, path in zip(sc.shapes, paths)]
    target_text = image_target(T.CROP_TARGET)
    out = []
    for scene, scene_path, paths in crops:
        i = ctx.rng.randrange(len(scene.shapes))
        obj = scene.shapes[i]
        if refexp:
            text = image_query(T.REFEXP, f'"the {obj.size} {obj.label} {WHERE[obj.column]}"')
        else:
            instruction = T.GROUND_EVAL if ctx.split == "eval" else T.GROUND_TRAIN
            text = image_query(instruction, f'"{obj.label}"')
        in_scene = [p for j, p in enumerate(paths) if j != i]
        elsewhere = [p for lab, p in all_crops if lab != obj.label and p not in paths]
        negs = in_scene + ctx.rng.sample(elsewhere, ctx.n_candidates - 1 - len(in_scene))
        out.append(Example(Side(text, scene_path), Side(target_text, paths[i]),
                           tuple(Side(target_text, p) for p in negs)))
    return out


def gen_refexp(ctx: Context, n: int) -> list[Example]:
    return gen_grounding(ctx, n, refexp=True)


GENERATORS: dict[str, Callable[[Context, int], list[Example]]] = {
    "SynShapes": gen_shapes,
    "SynSceneQA": gen_scene_qa,
    "SynDocQA": gen_doc_qa,
    "SynCaptions_t2i": gen_captions_t2i,
    "SynCaptions_i2t": gen_captions_i2t,
    "SynSimilar": gen_similar,
    "SynGrounding": gen_grounding,
    "SynShapes-Unseen": gen_shapes_unseen,
    "SynSceneQA-Unseen": gen_scene_qa_unseen,
    "SynCaptions-Unseen": gen_captions_unseen,
    "SynRefExp": gen_refexp,
}

"""The 18 video tasks (spec 3.3-3.6): classification, QA, retrieval, moment retrieval. Queries and candidates
carry their sampled frames (``Item.frames``, media-root-relative paths); names as the official parsers name
candidates (label text, option string, video id, clip folder)."""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources

from mmeb.data.items import Item
from mmeb.data.v2.build import Context, official_string


@cache
def video_labels() -> dict[str, list[str]]:
    """The official label lists (K700 700, SmthSmthV2 174, HMDB51 51, UCF101 101, Breakfast 10)."""
    text = resources.files("mmeb.tasks.v2").joinpath("video_labels.json").read_text(encoding="utf-8")
    return json.loads(text)["labels"]


def _text_candidate(ctx: Context, name: str, text: str | None = None) -> int:
    text = name if text is None else text
    return ctx.pool.add(name, lambda: Item(raw_text=text, instruction="", text=text))


def _video_query(ctx: Context, row: int, folder: str, payload: str = "", num_frames: int | None = -1) -> Item:
    meta = ctx.meta
    return Item(raw_text=official_string(meta.query_instruction, payload, video=True),
                instruction=meta.query_instruction, text=payload, frames=ctx.frames(folder, row, num_frames))


def _field(ctx: Context, values: dict, column: str, row: int):
    if column not in values:
        raise ctx.error(row, f"column {column!r} is missing (has {', '.join(values)})")
    return values[column]


# -- classification ------------------------------------------------------------------------------------------

def parse_classification(ctx: Context, rows: list[dict]) -> None:
    local = ctx.meta.ranking == "local"  # SmthSmthV2 ranks its own neg_text list
    for row, values in ctx.each(rows):
        label = str(_field(ctx, values, "pos_text", row))
        query = _video_query(ctx, row, str(_field(ctx, values, "video_id", row)))
        if local:
            names = [str(n) for n in _field(ctx, values, "neg_text", row)]
            for name in names:
                _text_candidate(ctx, name)
        else:
            names = None
        _text_candidate(ctx, label)
        ctx.add_query(row, query, [label], names)
    if not local:  # the pool: every row's label first, then the task's full label list
        for label in video_labels()[ctx.meta.name]:
            _text_candidate(ctx, label)


# -- question answering ----------------------------------------------------------------------------------------

def _strip_letter(option: str) -> str:
    """``A. text`` -> ``text`` as the official parsers cut it (from the first ". ", then strip dots/spaces)."""
    return option[option.find(". "):].strip(". ")


def _qa(ctx: Context, row: int, folder: str, payload: str, names: list[str], texts: list[str], label: str,
        rstrip: bool = False) -> None:
    query = _video_query(ctx, row, folder, payload)
    if rstrip:
        query = Item(raw_text=query.raw_text.rstrip(), instruction=query.instruction, text=payload.rstrip(),
                     frames=query.frames)
    for name, text in zip(names, texts):
        _text_candidate(ctx, name, text)
    ctx.add_query(row, query, [label], names)


def parse_mvbench(ctx: Context, rows: list[dict]) -> None:
    for row, values in ctx.each(rows):
        question, candidates = str(values["question"]), [str(c) for c in values["candidates"]]
        answer = str(values["answer"])
        options = [f"({chr(ord('A') + i)}) {c}" for i, c in enumerate(candidates)]
        payload = f"{question}\nOptions:\n" + "".join(o + "\n" for o in options)
        position = candidates.index(answer) if answer in candidates else -1
        label = f"({chr(ord('A') + position)}) {answer}"
        folder = f"{values['subset']}/{values['video']}"
        _qa(ctx, row, folder, payload, options, options, label, rstrip=True)


def parse_videomme(ctx: Context, rows: list[dict]) -> None:
    for row, values in ctx.each(rows):
        options = [str(o) for o in values["options"]]
        payload = str(values["question"]) + "\n" + "\n".join(options)
        answer = str(values["answer"]).strip()
        if answer not in ("A", "B", "C", "D") or "ABCD".index(answer) >= len(options):
            raise ctx.error(row, f"answer {answer!r} does not name one of the {len(options)} options")
        _qa(ctx, row, str(values["videoID"]), payload, options, [_strip_letter(o) for o in options],
            options["ABCD".index(answer)])


def parse_nextqa(ctx: Context, rows: list[dict]) -> None:
    for row, values in ctx.each(rows):
        answers = [str(values[f"a{i}"]) for i in range(5)]
        payload = f"{values['question']}\nOptions:\n" + "\n".join(
            f"({chr(ord('A') + i)}) {a}" for i, a in enumerate(answers))
        _qa(ctx, row, str(values["video"]), payload, answers, answers, answers[int(values["answer"])])


def parse_egoschema(ctx: Context, rows: list[dict]) -> None:
    for row, values in ctx.each(rows):
        options = [str(o) for o in values["option"]]
        payload = str(values["question"]) + " ".join(options)
        _qa(ctx, row, str(values["video_idx"]), payload, options, [_strip_letter(o) for o in options],
            options[int(values["answer"])])


def parse_activitynetqa(ctx: Context, rows: list[dict]) -> None:
    for row, values in ctx.each(rows):
        payload = f"{values['question']}? (A) yes; (B) no."
        _qa(ctx, row, f"v_{values['video_name']}", payload, ["yes", "no"], ["yes", "no"], str(values["answer"]))


# -- retrieval ------------------------------------------------------------------------------------------------

#: parser -> (video id of a row, caption of a row)
_RETRIEVAL_FIELDS = {
    "didemo": (lambda v: os.path.splitext(os.path.basename(str(v["video"])))[0], lambda v: v["caption"]),
    "msrvtt": (lambda v: str(v["video_id"]), lambda v: v["caption"]),
    "msvd": (lambda v: str(v["video_id"]), lambda v: v["caption"][0]),
    "vatex": (lambda v: str(v["videoID"]), lambda v: v["enCap"][0]),
    "youcook2": (lambda v: str(v["id"]), lambda v: v["sentence"]),
}


def parse_retrieval(ctx: Context, rows: list[dict]) -> None:
    meta = ctx.meta
    video_of, caption_of = _RETRIEVAL_FIELDS[meta.parser]
    for row, values in ctx.each(rows):
        try:
            video, caption = video_of(values), str(caption_of(values))
        except (KeyError, IndexError, TypeError) as exc:
            raise ctx.error(row, f"cannot read the video id / caption ({type(exc).__name__}: {exc})") from exc
        ctx.pool.add(video, lambda v=video, r=row: Item(
            raw_text=official_string(meta.target_instruction, video=True), instruction=meta.target_instruction,
            text="", frames=ctx.frames(v, r)))
        query = Item(raw_text=official_string(meta.query_instruction, caption),
                     instruction=meta.query_instruction, text=caption)
        ctx.add_query(row, query, [video], None)


# -- moment retrieval ---------------------------------------------------------------------------------------------

def _clip(ctx: Context, name: str, frames: tuple[str, ...], instruction: str) -> int:
    return ctx.pool.add(name, lambda: Item(raw_text=official_string(instruction, video=True),
                                           instruction=instruction, text="", frames=frames))


def parse_moment_retrieval(ctx: Context, rows: list[dict]) -> None:
    meta = ctx.meta
    for row, values in ctx.each(rows):
        video = os.path.splitext(os.path.basename(str(values["video_path"])))[0]
        folder = ctx.folder(video, row)
        query_text = str(values["query"])
        query_dir = folder / "query"
        if not query_dir.is_dir():
            raise ctx.error(row, f"no query/ folder in {folder} (the query video's frames)")
        query = Item(raw_text=official_string(meta.query_instruction, query_text, video=True),
                     instruction=meta.query_instruction, text=query_text,
                     frames=ctx.frames_in(query_dir, row, meta.num_frames))
        names, positives = [], []
        for clip in sorted(e.name for e in os.scandir(folder) if e.is_dir() and e.name != "query"):
            name = (folder / clip).relative_to(ctx.media_root).as_posix()
            _clip(ctx, name, ctx.frames_in(folder / clip, row, meta.num_frames), meta.target_instruction)
            names.append(name)
            if clip.startswith("positive"):
                positives.append(name)
        if not names:
            raise ctx.error(row, f"no clip folders in {folder}")
        ctx.add_query(row, query, positives, names)


def _seeker_folder(path: str) -> str:
    return "video_frames/" + path.replace("/", "_").split(".mp4")[0]


def parse_momentseeker(ctx: Context, rows: list[dict]) -> None:
    meta = ctx.meta
    for row, values in ctx.each(rows):
        text, media = str(values["query"]), str(values.get("input_frames") or "")
        if media.endswith(".mp4"):
            instruction = meta.query_instructions["video"]
            query = Item(raw_text=official_string(instruction, text, video=True), instruction=instruction,
                         text=text, frames=ctx.frames(_seeker_folder(media), row, None))
        elif media.endswith(".jpg"):
            instruction = meta.query_instructions["image"]
            image = ctx.image(f"{ctx.folder('', row).relative_to(ctx.media_root).as_posix()}/query_{media}", row)
            query = Item(raw_text=official_string(instruction, text, image=True), instruction=instruction,
                         text=text, image_path=image)
        else:
            instruction = meta.query_instructions["text"]
            query = Item(raw_text=official_string(instruction, text), instruction=instruction, text=text)
        clips = {"positive": [], "negative": []}
        for kind in clips:
            for entry in values.get(f"{kind}_frames") or []:
                folder = ctx.folder(_seeker_folder(str(entry["output_path"])), row)
                name = folder.relative_to(ctx.media_root).as_posix()
                _clip(ctx, name, ctx.frames_in(folder, row, None), meta.target_instruction)
                clips[kind].append(name)
        ctx.add_query(row, query, clips["positive"], clips["positive"] + clips["negative"])


PARSERS = {
    "video_classification": parse_classification, "ssv2": parse_classification, "mvbench": parse_mvbench,
    "videomme": parse_videomme, "nextqa": parse_nextqa, "egoschema": parse_egoschema,
    "activitynetqa": parse_activitynetqa, "didemo": parse_retrieval, "msrvtt": parse_retrieval,
    "msvd": parse_retrieval, "vatex": parse_retrieval, "youcook2": parse_retrieval,
    "moment_retrieval": parse_moment_retrieval, "momentseeker": parse_momentseeker,
}

"""Turn the released MMEB strings into :class:`Item` objects.

A released string looks like ``"<|image_1|>\\n<instruction> <payload>\\n"``. ``raw_text`` keeps it byte-exact
(adapters that reproduce the official eval need the placeholder and the newlines); ``instruction`` and
``text`` are the parts an adapter with its own prompt format needs.
"""

from __future__ import annotations

from mmeb.data.items import IMAGE_PLACEHOLDER, Item, QueryRow
from mmeb.errors import DataError

_PLACEHOLDER_LINE = IMAGE_PLACEHOLDER + "\n"


def strip_placeholder(raw: str) -> str:
    """The string without a leading image placeholder (with or without its newline)."""
    if raw.startswith(_PLACEHOLDER_LINE):
        return raw[len(_PLACEHOLDER_LINE):]
    if raw.startswith(IMAGE_PLACEHOLDER):
        return raw[len(IMAGE_PLACEHOLDER):]
    return raw


def parse_item(raw: str, instruction: str, image_path: str = "") -> Item:
    """Split ``raw`` into the declared ``instruction`` and its payload.

    The instruction must match at a word boundary (``"Represent the given image"`` does not match
    ``"Represent the given image."``). A string that does not start with it (paraphrased instructions, bare
    labels) gets ``instruction=""`` and the whole stripped string as ``text``: never an error.
    """
    body = strip_placeholder(raw).strip()
    if instruction and body.startswith(instruction):
        rest = body[len(instruction):]
        if not rest or rest[0].isspace():
            return Item(raw_text=raw, instruction=instruction, text=rest.strip(), image_path=image_path)
    return Item(raw_text=raw, instruction="", text=body, image_path=image_path)


def _as_str(value, what: str, where: str) -> str:
    if value is None:  # parquet null: treated as "no text / no image"
        return ""
    if not isinstance(value, str):
        raise DataError(f"{where}: {what} should be a string, got {type(value).__name__} {value!r:.60}")
    return value


def _as_list(value, what: str, where: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):  # numpy arrays from pandas
        return list(value.tolist())
    raise DataError(f"{where}: {what} should be a list of strings, got {type(value).__name__} {value!r:.60}")


def _as_str_list(value, what: str, where: str) -> list[str]:
    values = _as_list(value, what, where)
    if set(map(type, values)) <= {str}:  # the usual case, checked at C speed (lists of 1000 candidates)
        return values
    return [_as_str(v, f"{what} entry", where) for v in values]


ItemCache = dict[tuple[str, str], Item]


def _cached_items(cache: ItemCache | None, texts: list[str], images: list[str], instruction: str) -> list[Item]:
    # Candidate strings repeat massively (1000 x "Represent the given image." per row, labels in every
    # list): sharing one frozen Item per distinct input (the cache is per task, so per instruction) makes
    # loading ~10x faster and lighter; lookups run at C speed, only new inputs are parsed.
    if cache is None:
        return [parse_item(t, instruction, p) for t, p in zip(texts, images, strict=True)]
    keys = list(zip(texts, images, strict=True))
    items = list(map(cache.get, keys))
    if not all(items):  # (an Item is always truthy; `None in items` would call Item.__eq__ per entry)
        for i, item in enumerate(items):
            if item is None:
                item = cache.get(keys[i])
                if item is None:
                    item = cache[keys[i]] = parse_item(texts[i], instruction, images[i])
                items[i] = item
    return items


def parse_row(qry_text, qry_img_path, tgt_text, tgt_img_path, *, query_instruction: str,
              target_instruction: str, row_index: int, where: str, cache: ItemCache | None = None) -> QueryRow:
    """One parquet row -> a :class:`QueryRow`. ``where`` names task, row and file for error messages;
    ``cache`` (one dict per task) shares identical items between rows."""
    query = parse_item(_as_str(qry_text, "qry_text", where), query_instruction,
                       _as_str(qry_img_path, "qry_img_path", where))
    images = _as_str_list(tgt_img_path, "tgt_img_path", where)
    if isinstance(tgt_text, str) and tgt_text == "":
        # very early releases stored a scalar "" for image-only candidate lists
        texts = [""] * len(images)
    else:
        texts = _as_str_list(tgt_text, "tgt_text", where)
    if len(texts) != len(images):
        raise DataError(f"{where}: tgt_text has {len(texts)} entries but tgt_img_path has {len(images)}; "
                        "the two lists must be parallel (one entry per candidate). The file is malformed: "
                        "re-download it (`mmeb download`) or fix the generator that wrote it.")
    if not texts:
        raise DataError(f"{where}: empty candidate list (tgt_text and tgt_img_path are both empty); every query "
                        "needs at least its positive at index 0.")
    candidates = _cached_items(cache, texts, images, target_instruction)
    return QueryRow(query=query, candidates=candidates, row_index=row_index)


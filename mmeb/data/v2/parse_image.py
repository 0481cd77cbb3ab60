"""The 36 image tasks in their V2 form (parsers ``image_cls``, ``image_qa``, ``image_i2t``, ``image_t2i``,
``image_i2i_vg``): rows of ``ziyjiang/MMEB_Test_Instruct`` (``qry_inst, qry_text, qry_img_path, tgt_inst,
tgt_text, tgt_img_path``), images under ``image-tasks/``. Strings as the official V2 code forms them
(spec 3.2); the positive is element 0 of each row's list."""

from __future__ import annotations

from mmeb.data.items import IMAGE_PLACEHOLDER, Item
from mmeb.data.v2.build import IMAGE_TOKEN, Context
from mmeb.data.v2.layout import IMAGE_ROOT

COLUMNS = ("qry_inst", "qry_text", "qry_img_path", "tgt_inst", "tgt_text", "tgt_img_path")


def _fix(text: str) -> str:
    return text.replace(" \n", "\n")


def _no_placeholder(text: str) -> str:
    return text.replace(IMAGE_PLACEHOLDER, "")


def _str(value) -> str:
    return "" if value is None else str(value)


def _list(value, n: int | None = None) -> list:
    if value is None:
        return [""] * (n or 0)
    if isinstance(value, str):  # one instruction for the whole list
        return [value] * (n if n is not None else 1)
    return list(value)


def _query(ctx: Context, parser: str, row: int, qry_inst: str, qry_text: str, qry_img: str) -> Item:
    instruction = _no_placeholder(qry_inst).strip()
    if parser == "image_t2i":  # text only; the placeholder becomes the backbone's image token
        raw = qry_inst.replace(IMAGE_PLACEHOLDER, IMAGE_TOKEN) + " " + qry_text + "\n"
        if ctx.meta.name == "VisDial":
            raw += "\n"
        return Item(raw_text=raw, instruction=instruction, text=qry_text.strip())
    inst = "\n" + instruction if parser in ("image_qa", "image_i2i_vg") else _no_placeholder(qry_inst)
    raw = _fix(f"{IMAGE_TOKEN} {inst}" + (" " + qry_text if qry_text else "")) + "\n"
    image = ctx.image(f"{IMAGE_ROOT}/{qry_img}", row) if qry_img else ""
    return Item(raw_text=raw, instruction=instruction, text=qry_text.strip(), image_path=image)


def parse(ctx: Context, rows: list[dict]) -> None:
    parser = ctx.meta.parser
    for row, values in ctx.each(rows):
        texts = [_str(t) for t in _list(values.get("tgt_text"))]
        paths = [_str(p) for p in _list(values.get("tgt_img_path"), len(texts))]
        if not texts:
            raise ctx.error(row, "empty candidate list (tgt_text)")
        if parser in ("image_t2i", "image_i2i_vg") and len(paths) != len(texts):
            raise ctx.error(row, f"tgt_text has {len(texts)} entries but tgt_img_path has {len(paths)}")
        query = _query(ctx, parser, row, _str(values.get("qry_inst")), _str(values.get("qry_text")),
                       _str(values.get("qry_img_path")))
        insts = [_str(i) for i in _list(values.get("tgt_inst"), len(texts))]
        if len(insts) != len(texts):
            raise ctx.error(row, f"tgt_text has {len(texts)} entries but tgt_inst has {len(insts)} (expected one "
                                 "instruction string for the row)")
        names = []
        if parser in ("image_cls", "image_qa", "image_i2t"):  # bare text candidates, named by their text
            for text in texts:
                names.append(text)
                ctx.pool.add(text, lambda t=text: Item(raw_text=t, instruction="", text=t.strip()))
        else:
            captioned = bool(texts[0].strip())
            for text, path, inst in zip(texts, paths, insts):
                name = path if parser == "image_t2i" else f"{path}:{text.strip(chr(34))}"
                names.append(name)
                ctx.pool.add(name, lambda t=text, p=path, i=inst, r=row, c=captioned: _image_candidate(
                    ctx, r, parser, c, t, p, i))
        ctx.add_query(row, query, [names[0]], names)


def _image_candidate(ctx: Context, row: int, parser: str, captioned: bool, text: str, path: str,
                     inst: str) -> Item:
    instruction = _no_placeholder(inst)
    raw = f"{IMAGE_TOKEN} {instruction}" + (" " + text if captioned else "")
    raw = _fix(raw) + ("\n" if captioned or parser == "image_t2i" else "")
    image = ctx.image(f"{IMAGE_ROOT}/{path}", row) if path else ""
    return Item(raw_text=raw, instruction=instruction.strip(), text=text.strip() if captioned else "",
                image_path=image)

"""The 24 visual-document tasks (parsers ``vidore``, ``visrag``; spec 3.7 and 6): BEIR-style ``queries`` /
``corpus`` / ``qrels`` configs. The pool is the whole corpus (by ``corpus-id``); a query's positives are its
qrels rows with ``score > 0`` (a repeated (query, document) pair keeps its maximum), in first-seen order, the
score kept as the grade."""

from __future__ import annotations

import io

from mmeb.data.items import Item
from mmeb.data.v2.build import Context, official_string
from mmeb.data.v2.media import page_path


def _column(ctx: Context, table: dict[str, list], column: str, file: str) -> list:
    if column not in table:
        raise ctx.error(0, f"column {column!r} is missing (has {', '.join(table)})", file)
    return table[column]


def _page_bytes(ctx: Context, value, row: int, file: str) -> bytes:
    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ctx.error(row, "the corpus image holds no bytes (an Image feature stored by path only?); "
                             "re-download the corpus config", file)
    try:  # the header only: a page that is not an image fails here, with its row, not mid-encoding
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            _ = image.size
    except Exception as exc:
        raise ctx.error(row, f"the corpus image does not decode ({type(exc).__name__}: {exc}); re-download the "
                             "corpus config", file) from exc
    return bytes(data)


def parse(ctx: Context, queries: dict[str, list], corpus: dict[str, list], qrels: dict[str, list],
          files: dict[str, str]) -> dict[str, bytes]:
    """Fill ``ctx`` with queries and the corpus pool; returns the page bytes by media path."""
    meta = ctx.meta
    pages: dict[str, bytes] = {}
    ids, images = _column(ctx, corpus, "corpus-id", files["corpus"]), _column(ctx, corpus, "image", files["corpus"])
    for row, (cid, image) in enumerate(zip(ids, images)):
        path = page_path(cid)
        if cid in ctx.pool.index:
            continue  # a repeated corpus-id: the first row is the page (as the official pooling)
        pages[path] = _page_bytes(ctx, image, row, files["corpus"])
        ctx.origin.setdefault(path, ctx.where(row, files["corpus"]))
        ctx.pool.add(cid, lambda p=path: Item(raw_text=official_string(meta.target_instruction, image=True),
                                              instruction=meta.target_instruction, text="", image_path=p))
    # ids are matched by value, or by their text when the configs store them with different types (1 vs "1")
    corpus_by_text = {str(cid): cid for cid in ctx.pool.index}
    judged: dict = {}  # query-id (as text) -> {corpus-id: grade}, first-seen order
    qids, cids = _column(ctx, qrels, "query-id", files["qrels"]), _column(ctx, qrels, "corpus-id", files["qrels"])
    scores = _column(ctx, qrels, "score", files["qrels"])
    for row, (qid, cid, score) in enumerate(zip(qids, cids, scores)):
        if score is None or float(score) <= 0:
            continue
        if cid not in ctx.pool.index:
            cid = corpus_by_text.get(str(cid), cid)
        if cid not in ctx.pool.index:
            raise ctx.error(row, f"qrels row (query-id {qid!r}, corpus-id {cid!r}) points at no corpus item "
                                 f"(the corpus of {files['corpus']} has {len(ctx.pool.items)} pages)", files["qrels"])
        grades = judged.setdefault(str(qid), {})
        grades[cid] = max(grades.get(cid, 0.0), float(score))
    texts = _column(ctx, queries, "query", files["queries"])
    for row, (qid, text) in enumerate(zip(_column(ctx, queries, "query-id", files["queries"]), texts)):
        text = "" if text is None else str(text)
        grades = judged.get(str(qid), {})
        if not grades:
            raise ctx.error(row, f"query-id {qid!r} has no qrels row with score > 0 in {files['qrels']}; every "
                                 "query needs at least one relevant page", files["queries"])
        query = Item(raw_text=official_string(meta.query_instruction, text), instruction=meta.query_instruction,
                     text=text)
        ctx.add_query(row, query, list(grades), None, list(grades.values()), file=files["queries"])
    return pages

"""``leaderboard.md``: overview and per-dataset tables per benchmark, every submitted string escaped."""

from __future__ import annotations

import re
from urllib.parse import quote

from mmeb.leaderboard.aggregate import CI_METHOD, BenchmarkBoard, ModelRow, group_label
from mmeb.leaderboard.format import (ci_text, date_text, group_text, safe_url, size_text, source_text, status_text,
                                     task_text)

# Inline Markdown only (a table cell has no block syntax): emphasis, code, links, tables, strike, math.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_FORMULA_START = ("=", "+", "-", "@")


def md_escape(text: str) -> str:
    """Text that renders as itself in a GitHub Markdown table cell: HTML is entity-encoded (no tags,
    no scripts), Markdown punctuation backslash-escaped, line breaks and tabs folded, and a leading
    formula character (= + - @) escaped so the raw table pasted into a spreadsheet stays inert."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return "\\" + text if text[:1] in _FORMULA_START else text


def md_url(url: str) -> str:
    """A URL percent-encoded so that it cannot close the link or open HTML."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


def _model_cell(row: ModelRow) -> str:
    name = md_escape(row.label)
    url = safe_url(row.url)
    return f"[{name}]({md_url(url)})" if url else name


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def _overview(board: BenchmarkBoard) -> str:
    groups = list(board.task_groups)
    header = ["#", "Model", *[f"{md_escape(group_label(g))} ({len(board.task_groups[g])})" for g in groups],
              "Status", "Size", "Date", "Source"]
    body = []
    for i, row in enumerate(board.rows, 1):
        cells = [str(i), _model_cell(row)]
        for g in groups:
            score = row.groups[g]
            ci = ci_text(score.ci)
            cells.append(group_text(score) + (f" {ci}" if ci else ""))
        cells += [status_text(row), size_text(row), date_text(row), md_escape(source_text(row))]
        body.append(cells)
    return _table(header, body)


def _per_dataset(board: BenchmarkBoard) -> str:
    rows = [r for r in board.rows if r.tasks]
    if not rows:
        return "_No per-dataset results._"
    header = ["Model", *[md_escape(t) for t in board.task_names]]
    body = [[md_escape(r.label), *[task_text(r.tasks.get(t)) for t in board.task_names]] for r in rows]
    return _table(header, body)


def render_markdown(boards: list[BenchmarkBoard]) -> str:
    parts = ["# MMEB leaderboard", "",
             "Main score in % (hit@1; NDCG@5 for MMEB-V2 visual documents), one decimal, half up. Aggregates "
             "are unweighted means over datasets, as in the VLM2Vec papers (MMEB-V2 Overall: the mean over all "
             "78 tasks); a model missing datasets shows `partial (k/n)` instead of a mean. `published` rows "
             "are figures copied from their source, not runs of mmeb; `verified` = every score recomputed "
             "from the stored per-query predictions, `unverified` = scores as submitted; `unofficial` rows "
             "(a `--limit` run, a data sample) are listed after the official ones and never mixed with them; "
             "`v1 ties` = the official scorer that gives every tie to the positive. Built by "
             "`mmeb leaderboard`; do not edit.", "",
             f"95% CI in brackets where known; {CI_METHOD}.", ""]
    for board in boards:
        parts += [f"## {md_escape(board.benchmark)}", "", _overview(board), "",
                  f"### {md_escape(board.benchmark)}: per dataset", "", _per_dataset(board), ""]
    sources = sorted({(r.published.source, r.published.citation, r.published.url or "")
                      for b in boards for r in b.rows if r.published})
    if sources:
        parts += ["## Sources of published rows", ""]
        parts += [f"- {md_escape(s)}: {md_escape(c)}" + (f" <{md_url(safe_url(u))}>" if safe_url(u) else "")
                  for s, c, u in sources]
        parts.append("")
    return "\n".join(parts)

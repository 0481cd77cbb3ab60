"""``index.html``: one self-contained page (inline CSS, JS and SVG; no CDN, works from file://).

Every string that can come from a submission goes through :func:`html.escape`; the script only
reorders existing rows and never turns data into markup.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from mmeb.leaderboard.aggregate import (CI_METHOD, META_TASK_LABELS, MODALITY_LABELS, BenchmarkBoard, ModelRow,
                                        group_label)
from mmeb.leaderboard.format import (NOT_REPORTED, ci_text, date_text, group_text, pct, safe_url, size_text,
                                     source_text, task_text)

# Defence in depth behind escaping: the page loads nothing and runs only its own inline script.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, CHART_WIDTH, LABEL_CHARS = 16, 4, 250, 600, 36


def _asset(name: str) -> str:
    return resources.files("mmeb.leaderboard").joinpath("assets", name).read_text(encoding="utf-8")


def _anchor(benchmark: str) -> str:
    return "b-" + "".join(c if c.isalnum() else "-" for c in benchmark.lower())


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _model_cell(row: ModelRow) -> str:
    name = escape(row.label)
    url = safe_url(row.url)
    link = f'<a href="{escape(url)}" rel="noopener noreferrer">{name}</a>' if url else name
    badge = {"run": "mmeb run", "published": "published", "aggregate-only": "published · aggregates"}[row.kind]
    title = escape(source_text(row) + (f" — {row.published.citation}" if row.published else ""))
    badges = f'<span class="badge {row.kind}" title="{title}">{badge}</span>'
    if row.kind == "run" and not row.verified:
        badges += ('<span class="badge unverified" title="scores as submitted: no per-query predictions to '
                   'recompute them from">unverified</span>')
    if row.unofficial:
        badges += f'<span class="badge unofficial" title="{escape(row.unofficial)}">unofficial</span>'
    return f'<td class="model">{link}{badges}</td>'


def _group_cell(row: ModelRow, key: str) -> str:
    g = row.groups[key]
    if g.value is not None:
        ci = f'<span class="ci">{escape(ci_text(g.ci))}</span>' if g.ci else ""
        return f'<td data-v="{_num(g.value)}">{pct(g.value)}{ci}</td>'
    css = "partial" if g.partial else "na"
    return f'<td data-v="" class="{css}">{escape(group_text(g))}</td>'


def _header(cells: list[tuple]) -> str:
    """cells: (label, css class, type[, tooltip]) -> sortable header row; the column index drives the sort."""
    out = []
    for i, (label, css, kind, *tip) in enumerate(cells):
        title = f' title="{escape(tip[0])}"' if tip else ""
        out.append(f'<th class="sortable {css}" data-col="{i}" data-type="{kind}" scope="col"{title}>{label}</th>')
    return "<tr>" + "".join(out) + "</tr>"


def _overview(board: BenchmarkBoard) -> str:
    groups = list(board.task_groups)
    head = _header([("#", "", "num"), ("Model", "model", "text"),
                    *[(f"{escape(group_label(g, short=True))} ({len(board.task_groups[g])})", "", "num",
                       f"{group_label(g)}: mean main score over {len(board.task_groups[g])} datasets")
                      for g in groups],
                    ("Size", "", "num"), ("Date", "", "text"), ("Source", "src", "text")])
    body = []
    for i, row in enumerate(board.rows, 1):
        cells = [f'<td data-v="{i}">{i}</td>', _model_cell(row)]
        cells += [_group_cell(row, g) for g in groups]
        cells += [f'<td data-v="{_num(row.size_b)}">{escape(size_text(row))}</td>',
                  f"<td>{escape(date_text(row))}</td>",
                  f'<td class="src">{escape(source_text(row))}</td>']
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="sortable-table overview"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _per_dataset(board: BenchmarkBoard) -> str:
    rows = [r for r in board.rows if r.tasks]
    if not rows:
        return '<p class="note">No per-dataset results.</p>'
    spans = []  # one header cell per run of consecutive tasks with the same meta-task / sub-category
    for t in board.tasks:
        head = t.group if board.by_modality else META_TASK_LABELS.get(t.meta_task or "", t.meta_task or "")
        if spans and spans[-1][0] == head:
            spans[-1][1] += 1
        else:
            spans.append([head, 1])
    group_row = '<tr class="group-head"><th></th>' + "".join(
        f'<th colspan="{n}">{escape(head or "")}</th>' for head, n in spans) + "</tr>"
    labels = [(escape(t.name) + ("*" if t.split == "OOD" and not board.by_modality else ""), "", "num")
              for t in board.tasks]
    head = group_row + _header([("Model", "model", "text"), *labels])
    body = []
    for row in rows:
        cells = [_model_cell(row)]
        for t in board.task_names:
            s = row.tasks.get(t)
            title = f' title="95% CI {escape(ci_text(s.ci))}"' if s and s.ci else ""
            cls = "" if s else ' class="na"'
            cells.append(f'<td data-v="{_num(s.value if s else None)}"{title}{cls}>{escape(task_text(s))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="sortable-table per-dataset"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div><p class="note">* = out of distribution (OOD).</p>')


def bar_chart(title: str, bars: list[tuple[str, float, str]]) -> str:
    """A horizontal bar chart as inline SVG: (label, percent, css class) per bar, 0-100 scale."""
    height = max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP) + 20
    scale = (CHART_WIDTH - LABEL_WIDTH - 50) / 100
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {CHART_WIDTH} {height}" '
             f'width="100%">']
    for i, (label, value, css) in enumerate(bars):
        y = i * (BAR_HEIGHT + BAR_GAP)
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end"><title>{escape(label)}</title>'
            f'{escape(short)}</text>'
            f'<rect class="bar {css}" x="{LABEL_WIDTH}" y="{y}" width="{value * scale:.1f}" height="{BAR_HEIGHT}"/>'
            f'<text class="value" x="{LABEL_WIDTH + value * scale + 4:.1f}" y="{y + 12}">{pct(value)}</text>')
    axis_y = len(bars) * (BAR_HEIGHT + BAR_GAP) + 12
    parts.append(f'<text class="value" x="{LABEL_WIDTH}" y="{axis_y}">0</text>'
                 f'<text class="value" x="{LABEL_WIDTH + 100 * scale}" y="{axis_y}" text-anchor="end">100</text>')
    parts.append("</svg>")
    return "".join(parts)


def _charts(board: BenchmarkBoard) -> str:
    figures = []
    keys = MODALITY_LABELS if board.by_modality else META_TASK_LABELS
    for key in (k for k in board.task_groups if k in keys):
        bars = sorted(((r.label, r.groups[key].value, r.kind) for r in board.rows
                       if r.groups[key].value is not None), key=lambda b: -b[1])
        if not bars:
            continue
        n = len(board.task_groups[key])
        title = f"{group_label(key)} ({n} datasets), main score %"
        figures.append(f"<figure><figcaption>{escape(title)}</figcaption>{bar_chart(title, bars)}</figure>")
    if not figures:
        return '<p class="note">No model is complete on any meta-task yet.</p>'
    return f'<div class="charts">{"".join(figures)}</div>'


def render_html(boards: list[BenchmarkBoard]) -> str:
    nav = " ".join(f'<a href="#{_anchor(b.benchmark)}">{escape(b.benchmark)}</a>' for b in boards)
    sections = []
    for b in boards:
        name = escape(b.benchmark)
        sections.append(
            f'<section id="{_anchor(b.benchmark)}"><h2>{name}</h2>'
            f"<h3>Overview</h3>{_overview(b)}"
            f"<h3>{'By modality' if b.by_modality else 'By meta-task'}</h3>{_charts(b)}"
            f"<h3>Per dataset</h3>{_per_dataset(b)}</section>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>MMEB leaderboard</title>
<style>{_asset("leaderboard.css")}</style></head>
<body>
<h1>MMEB leaderboard</h1>
<p class="note">Main score in % (hit@1; NDCG@5 for MMEB-V2 visual documents), universal multimodal embeddings
on MMEB. Aggregates are unweighted means over datasets, as in the VLM2Vec papers (MMEB-V2 Overall: the mean over
all 78 tasks); a model that lacks datasets shows <span class="partial">partial (k/n)</span> instead of a mean over
fewer datasets. Click a column header to sort.</p>
<p class="legend"><span class="badge run">mmeb run</span> evaluated with mmeb ·
<span class="badge published">published</span> figures copied from the cited source, not run by mmeb ·
<span class="badge aggregate-only">published · aggregates</span> only aggregates were published ·
<span class="badge unverified">unverified</span> scores as submitted, not recomputed from per-query predictions ·
<span class="badge unofficial">unofficial</span> a --limit run or a data sample, never mixed with official rows ·
{escape(NOT_REPORTED)} not reported · 95% CI under a score where known.</p>
<nav>{nav}</nav>
{"".join(sections)}
<footer>Confidence intervals: {escape(CI_METHOD)}.<br>
Built by <code>mmeb leaderboard</code> from the result files under <code>results/</code> and the published
reference rows shipped with mmeb.
See docs/submitting.md to add yours.</footer>
<script>{_asset("sort.js")}</script>
</body></html>
"""

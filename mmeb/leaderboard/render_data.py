"""Machine-readable outputs: ``leaderboard.json`` (everything, nested) and ``leaderboard.csv`` (one row
per model and benchmark; an aggregate cell is empty unless complete, ``tasks_done`` says how many)."""

from __future__ import annotations

import csv
import io

from mmeb.leaderboard.aggregate import CI_METHOD, BenchmarkBoard, GroupScore, ModelRow
from mmeb.leaderboard.format import source_text, status_text


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _group_json(g: GroupScore) -> dict:
    return {"value": _r(g.value), "n_done": g.n_done, "n_total": g.n_total,
            "ci95": [_r(g.ci[0]), _r(g.ci[1])] if g.ci else None}


def _row_json(row: ModelRow) -> dict:
    return {
        "model": row.name, "revision": row.revision, "label": row.label, "tie_rule": row.tie_rule,
        "kind": row.kind, "source": source_text(row), "verified": row.verified,
        "official": row.unofficial is None, "unofficial_reason": row.unofficial, "settings_digest": row.config,
        "published": row.published.model_dump(exclude_none=True) if row.published else None,
        "version": row.version,
        "size_b": row.size_b, "date": row.date.date().isoformat() if row.date else None, "url": row.url,
        "groups": {k: _group_json(g) for k, g in row.groups.items()},
        "tasks": {t: {"value": _r(s.value), "ci95": [_r(s.ci[0]), _r(s.ci[1])] if s.ci else None}
                  for t, s in row.tasks.items()},
    }


def _board_json(b: BenchmarkBoard) -> dict:
    return {
        "benchmark": b.benchmark,
        "columns": b.columns,
        "tasks": [{"name": t.name, "meta_task": t.meta_task, "split": t.split, "modality": t.modality,
                   "group": t.group, "main_metric": t.main_metric} for t in b.tasks],
        "groups": b.task_groups,
        "rows": [_row_json(r) for r in b.rows],
    }


def render_json(boards: list[BenchmarkBoard]) -> dict:
    return {
        "metric": "main score of each task (hit@1; ndcg_linear@5 for MMEB-V2 visual documents)",
        "unit": "percent",
        "aggregation": "unweighted mean over datasets (MMEB-V2 overall: over all 78 tasks); null when the "
                       "model lacks a dataset of the group",
        "verified": "true when every task's scores were recomputed from its per-query predictions",
        "ci_method": CI_METHOD,
        "benchmarks": [_board_json(b) for b in boards],
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(text: object) -> str:
    """A submitted string as one inert spreadsheet cell: line breaks (CR, LF and the other Unicode line
    separators) folded to spaces so they cannot start a new row, and a leading formula character
    (= + - @ tab CR) neutralised with a quote (CSV injection)."""
    text = " ".join(str(text).splitlines()) if text is not None else ""
    text = text.replace("\r", " ").replace("\n", " ")
    return "'" + text if text[:1] in _FORMULA_START else text


def render_csv(boards: list[BenchmarkBoard]) -> str:
    group_cols = list(dict.fromkeys(g for b in boards for g in b.task_groups))
    task_cols = list(dict.fromkeys(t for b in boards for t in b.task_names))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["benchmark", "model", "label", "revision", "tie_rule", "kind", "status", "verified", "source", "size_b",
                     "date", "tasks_done", *group_cols, *task_cols])
    for b in boards:
        for row in b.rows:
            done = "" if row.kind == "aggregate-only" else f"{len(row.tasks)}/{len(b.task_names)}"
            groups = [_r(row.groups[g].value) if g in row.groups else None for g in group_cols]
            tasks = [_r(row.tasks[t].value) if t in row.tasks else None for t in task_cols]
            writer.writerow([safe_cell(b.benchmark), safe_cell(row.name), safe_cell(row.label),
                             safe_cell(row.revision or ""),
                             safe_cell(row.tie_rule), row.kind, safe_cell(status_text(row)),
                             "yes" if row.verified else "no", safe_cell(source_text(row)),
                             row.size_b or "", row.date.date().isoformat() if row.date else "", done,
                             *("" if v is None else v for v in groups), *("" if v is None else v for v in tasks)])
    return out.getvalue()

"""Machine-readable outputs: ``leaderboard.json`` (everything, nested) and ``leaderboard.csv`` (one row
per model and benchmark; an aggregate cell is empty unless complete, ``tasks_done`` says how many)."""

from __future__ import annotations

import csv
import io

from mmeb.leaderboard.aggregate import CI_METHOD, BenchmarkBoard, GroupScore, ModelRow
from mmeb.leaderboard.format import source_text


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _group_json(g: GroupScore) -> dict:
    return {"value": _r(g.value), "n_done": g.n_done, "n_total": g.n_total,
            "ci95": [_r(g.ci[0]), _r(g.ci[1])] if g.ci else None}


def _row_json(row: ModelRow) -> dict:
    return {
        "model": row.name, "revision": row.revision, "label": row.label, "tie_rule": row.tie_rule,
        "kind": row.kind, "source": source_text(row),
        "published": row.published.model_dump(exclude_none=True) if row.published else None,
        "size_b": row.size_b, "date": row.date.date().isoformat() if row.date else None, "url": row.url,
        "groups": {k: _group_json(g) for k, g in row.groups.items()},
        "tasks": {t: {"value": _r(s.value), "ci95": [_r(s.ci[0]), _r(s.ci[1])] if s.ci else None}
                  for t, s in row.tasks.items()},
    }


def render_json(boards: list[BenchmarkBoard], catalog: dict) -> dict:
    return {
        "metric": "hit@1", "unit": "percent",
        "aggregation": "unweighted mean over datasets; null when the model lacks a dataset of the group",
        "ci_method": CI_METHOD,
        "benchmarks": [{
            "benchmark": b.benchmark,
            "tasks": [{"name": t, "meta_task": catalog[t].meta_task, "split": catalog[t].split}
                      for t in b.task_names],
            "groups": b.task_groups,
            "rows": [_row_json(r) for r in b.rows],
        } for b in boards],
    }


def _cell(text: str) -> str:
    """Submitted text cannot become a spreadsheet formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(boards: list[BenchmarkBoard]) -> str:
    group_cols = list(dict.fromkeys(g for b in boards for g in b.task_groups))
    task_cols = list(dict.fromkeys(t for b in boards for t in b.task_names))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["benchmark", "model", "revision", "tie_rule", "kind", "source", "size_b", "date",
                     "tasks_done", *group_cols, *task_cols])
    for b in boards:
        for row in b.rows:
            done = "" if row.kind == "aggregate-only" else f"{len(row.tasks)}/{len(b.task_names)}"
            groups = [_r(row.groups[g].value) if g in row.groups else None for g in group_cols]
            tasks = [_r(row.tasks[t].value) if t in row.tasks else None for t in task_cols]
            writer.writerow([_cell(b.benchmark), _cell(row.name), _cell(row.revision or ""), row.tie_rule, row.kind,
                             _cell(source_text(row)),
                             row.size_b or "", row.date.date().isoformat() if row.date else "", done,
                             *("" if v is None else v for v in groups), *("" if v is None else v for v in tasks)])
    return out.getvalue()

"""Export one model's results as the official leaderboard JSON, so a user can also submit there.

MMEB-V1 (``--format mmeb-leaderboard``): one file per model under the HF Space TIGER-Lab/MMEB-Leaderboard
``scores/``, ``{"metadata": {...}, "metrics": {"image": {task: {...}}}}``. Filled keys per dataset
(fractions): ``hit@1``, ``num_pred``, ``num_data`` always; ``hit@5``, ``hit@10``, ``ndcg_linear@5``,
``ndcg_exponential@5`` when the result has them; and those that equal hit@1 when each query has exactly
one relevant candidate (MMEB's case): ``ndcg_linear@1``, ``ndcg_exponential@1``, ``precision@1``,
``recall@1``, ``map@1``, ``mrr@1``; ``recall@5``/``@10`` = hit@5/@10. Omitted (not computed):
``ndcg_*@10``, ``precision@5/10``, ``f1@k``, ``map@5/10``, ``mrr@5/10``.

MMEB-V2 (``--format mmeb-v2-leaderboard``): the file the official ``experiments/report_score_v2.py`` writes,
``{"metadata": {...}, "metrics": {"image": {...}, "video": {...}, "visdoc": {...}}}``, keyed by the
official task names, with ``ViDoSeek-page`` / ``MMLongBench-page`` written as ``ViDoSeek-page-fixed`` /
``MMLongBench-page-fixed`` as that script does for runs on the fixed page labels (data version v2.1; a
v2.0.0 / v2.0.1 run keeps the plain names). Each task carries its main metric (``hit@1`` or
``ndcg_linear@5``, which the official leaderboard reads) plus ``num_pred`` / ``num_data`` and whichever
other metrics the result holds.

Refused: unofficial results (a ``--limit`` run, a data sample), published reference rows, non-finite
numbers and any URL that is not http(s).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmeb.errors import MMEBError
from mmeb.leaderboard.identity import benchmark_of, row_identity
from mmeb.results.schema import TaskResult

METADATA_KEYS = ("model_name", "model_backbone", "model_size", "embedding_dimension", "max_length_tokens",
                 "model_release_date", "data_source", "url", "report_generated_date")
#: renames of report_score_v2.py (the page-level OOD tasks read the fixed repos since 2025-11)
V2_OFFICIAL_KEYS = {"ViDoSeek-page": "ViDoSeek-page-fixed", "MMLongBench-page": "MMLongBench-page-fixed"}
#: data versions whose page tasks read the unfixed repos: their official files keep the plain names
V2_UNFIXED_VERSIONS = ("v2.0.0", "v2.0.1")
FORMATS = {"mmeb-leaderboard": "MMEB-V1", "mmeb-v2-leaderboard": "MMEB-V2"}


def _v2_key(r: TaskResult) -> str:
    """The official key of an MMEB-V2 result: ``-fixed`` only when the page task read the fixed labels."""
    if r.dataset.version in V2_UNFIXED_VERSIONS:
        return r.task_name
    return V2_OFFICIAL_KEYS.get(r.task_name, r.task_name)


def dataset_metrics(r: TaskResult) -> dict[str, float | int]:
    """The official per-task metric keys of one result."""
    s = r.scores
    m: dict[str, float | int] = {}
    if s.hit_at_1 is not None:
        m["hit@1"] = s.hit_at_1
        if benchmark_of(r) != "MMEB-V2":  # one relevant candidate per query: these equal hit@1
            for key in ("ndcg_linear@1", "ndcg_exponential@1", "precision@1", "recall@1", "map@1", "mrr@1"):
                m[key] = s.hit_at_1
    single = benchmark_of(r) != "MMEB-V2"
    if s.hit_at_5 is not None:
        m["hit@5"] = s.hit_at_5
        if single:
            m["recall@5"] = s.hit_at_5
    if s.hit_at_10 is not None:
        m["hit@10"] = s.hit_at_10
        if single:
            m["recall@10"] = s.hit_at_10
    if s.ndcg_at_5 is not None:
        m["ndcg_linear@5"] = s.ndcg_at_5
        if single:  # binary relevance: the exponential gain 2^1 - 1 equals the linear one
            m["ndcg_exponential@5"] = s.ndcg_at_5
    if not single and s.metrics:  # an mmeb run of MMEB-V2 records every metric under its official key
        m.update({key: value for key, value in s.metrics.items() if "@" in key})
    m["num_pred"] = m["num_data"] = r.n_queries
    return m


def safe_export_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip().lower().startswith(("https://", "http://")) \
            or any(c.isspace() for c in value.strip()):
        raise MMEBError(f"export refuses the URL {value!r}: only http(s) URLs without spaces are allowed "
                        f"(fix metadata.url in model_meta.json or pass --url https://...)")
    return value.strip()


def check_finite(data: Any, where: str = "export") -> None:
    """Every number in the export is finite (JSON has no NaN / Infinity; the official reader chokes)."""
    stack = [(where, data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise MMEBError(f"export refuses the non-finite number {node} at {path}; rerun the task that "
                            f"produced it")
        if isinstance(node, dict):
            stack.extend((f"{path}.{k}", v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(node))


def _metadata(name: str, results: list[TaskResult], model_meta: dict[str, Any],
              overrides: dict[str, Any]) -> dict[str, Any]:
    facts = {**model_meta, **(model_meta.get("metadata") or {}), **results[0].model.metadata}
    meta: dict[str, Any] = {"model_name": name, "data_source": "Self-Reported"}
    for key, candidates in {"model_backbone": ("backbone", "model_backbone"),
                            "embedding_dimension": ("embedding_dim", "embedding_dimension", "dim"),
                            "max_length_tokens": ("max_length", "max_length_tokens"),
                            "model_release_date": ("release_date", "model_release_date"),
                            "url": ("url",)}.items():
        value = next((facts[c] for c in candidates if facts.get(c) is not None), None)
        if value is not None:
            meta[key] = value
    for key in ("size_b", "model_size"):
        if isinstance(facts.get(key), (int, float)):
            meta["model_size"] = facts[key]
            break
    else:
        if isinstance(facts.get("n_parameters"), (int, float)):
            meta["model_size"] = round(facts["n_parameters"] / 1e9, 3)
    meta.update({k: v for k, v in overrides.items() if v is not None})
    if "url" in meta:
        meta["url"] = safe_export_url(meta["url"])
    meta["report_generated_date"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return {k: meta[k] for k in METADATA_KEYS if k in meta}


def _chosen(results_dir: str | Path, model: str, revision: str | None, tie_rule: str, benchmark: str):
    from mmeb.leaderboard.validate import validate_path

    report = validate_path(results_dir)
    mine = {p for p, r in report.results.task_results if r.model.name == model}
    problems = [p for p in report.problems if not p.unofficial or p.file in mine]
    if problems:
        from mmeb.leaderboard.validate import InvalidResultsError

        raise InvalidResultsError(problems)
    chosen = [(p, r) for p, r in report.results.task_results
              if r.model.name == model and (revision is None or r.model.revision == revision)
              and r.tie_rule == tie_rule and benchmark_of(r) == benchmark]
    if not chosen:
        names = sorted({r.model.name for _, r in report.results.task_results})
        raise MMEBError(f"no {benchmark} results for model {model!r} (revision {revision or 'any'}, {tie_rule} "
                        f"ties) under {results_dir}; models there: {', '.join(names) or 'none'}")
    revisions = {r.model.revision for _, r in chosen}
    if len(revisions) > 1:
        raise MMEBError(f"model {model!r} has results for several revisions {sorted(map(str, revisions))}; "
                        f"pick one with --revision")
    # one exported file is one leaderboard row: results of other settings or data versions are other rows
    rows: dict[tuple, set[str]] = {}
    for p, r in chosen:
        rows.setdefault(row_identity(r)[4:], set()).add(str(p.parent))
    if len(rows) > 1:
        where = "; ".join(f"{', '.join(sorted(folders))} (data version {version or 'default'}, settings "
                          f"{(config or 'default')[:8]})" for (version, config), folders in rows.items())
        raise MMEBError(f"model {model!r} has results of {len(rows)} configurations or data versions under "
                        f"{results_dir}, which are different leaderboard rows: {where}; pass the folder of one "
                        f"of them as --results-dir")
    return chosen, report.results


def export_leaderboard(results_dir: str | Path, model: str, *, benchmark: str = "MMEB-V1",
                       revision: str | None = None, tie_rule: str = "fractional", **metadata: Any) -> dict[str, Any]:
    """The official JSON for ``model``'s ``benchmark`` results from a validated results tree.

    ``metadata`` overrides or adds metadata fields (model_size, url, model_release_date, ...)."""
    from mmeb.leaderboard.catalog import task_catalog

    chosen, results = _chosen(results_dir, model, revision, tie_rule, benchmark)
    catalog = task_catalog()
    order = catalog.names(benchmark)
    chosen.sort(key=lambda pr: order.index(pr[1].task_name) if pr[1].task_name in order else len(order))
    task_results = [r for _, r in chosen]
    metrics: dict[str, dict[str, Any]] = {}
    for r in task_results:
        info = catalog.get(benchmark, r.task_name)
        modality = (info.modality if info is not None and info.modality else "image")
        key = _v2_key(r) if benchmark == "MMEB-V2" else r.task_name
        metrics.setdefault(modality, {})[key] = dataset_metrics(r)
    if benchmark == "MMEB-V2":
        metrics = {m: metrics.get(m, {}) for m in ("image", "video", "visdoc")}
    data = {"metadata": _metadata(model, task_results, results.meta_for(chosen[0][0]), metadata),
            "metrics": metrics}
    check_finite(data)
    return data


def export_mmeb_leaderboard(results_dir: str | Path, model: str, *, revision: str | None = None,
                            tie_rule: str = "fractional", **metadata: Any) -> dict[str, Any]:
    """The official MMEB-V1 JSON for ``model`` (MMEB-V1 tasks only)."""
    return export_leaderboard(results_dir, model, benchmark="MMEB-V1", revision=revision, tie_rule=tie_rule,
                              **metadata)


def missing_tasks(export: dict[str, Any], benchmark: str = "MMEB-V1") -> list[str]:
    from mmeb.leaderboard.catalog import task_catalog

    present = {k for tasks in export["metrics"].values() for k in tasks}
    official = {v: k for k, v in V2_OFFICIAL_KEYS.items()} if benchmark == "MMEB-V2" else {}
    present |= {official.get(k, k) for k in present}
    return [t for t in task_catalog().names(benchmark) if t not in present]

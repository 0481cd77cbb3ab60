"""Export one model's MMEB-V1 results as the official MMEB leaderboard JSON (one file per model under
the HF Space TIGER-Lab/MMEB-Leaderboard ``scores/``), so a user can also submit there.

Filled keys per dataset (fractions): ``hit@1``, ``num_pred``, ``num_data`` always; ``hit@5``,
``hit@10``, ``ndcg_linear@5``, ``ndcg_exponential@5`` when the result has them; and those that equal
hit@1 when each query has exactly one relevant candidate (MMEB's case): ``ndcg_linear@1``,
``ndcg_exponential@1``, ``precision@1``, ``recall@1``, ``map@1``, ``mrr@1``; ``recall@5``/``@10``
= hit@5/@10. Omitted (we do not compute them): ``ndcg_*@10``, ``precision@5/10``, ``f1@k``,
``map@5/10``, ``mrr@5/10``. With binary relevance the exponential gain 2^1 - 1 equals the linear one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmeb.errors import MMEBError
from mmeb.results.schema import TaskResult

METADATA_KEYS = ("model_name", "model_backbone", "model_size", "embedding_dimension", "max_length_tokens",
                 "model_release_date", "data_source", "url", "report_generated_date")


def dataset_metrics(r: TaskResult) -> dict[str, float | int]:
    s = r.scores
    m: dict[str, float | int] = {"hit@1": s.hit_at_1}
    for key in ("ndcg_linear@1", "ndcg_exponential@1", "precision@1", "recall@1", "map@1", "mrr@1"):
        m[key] = s.hit_at_1
    if s.hit_at_5 is not None:
        m["hit@5"] = m["recall@5"] = s.hit_at_5
    if s.hit_at_10 is not None:
        m["hit@10"] = m["recall@10"] = s.hit_at_10
    if s.ndcg_at_5 is not None:
        m["ndcg_linear@5"] = m["ndcg_exponential@5"] = s.ndcg_at_5
    m["num_pred"] = m["num_data"] = r.n_queries
    return m


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
    meta["report_generated_date"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return {k: meta[k] for k in METADATA_KEYS if k in meta}


def export_mmeb_leaderboard(results_dir: str | Path, model: str, *, revision: str | None = None,
                            tie_rule: str = "fractional", **metadata: Any) -> dict[str, Any]:
    """The official JSON for ``model`` from a validated results tree (MMEB-V1 tasks only).

    ``metadata`` overrides or adds metadata fields (model_size, url, model_release_date, ...).
    """
    from mmeb.leaderboard.validate import load_valid
    from mmeb.tasks import TASK_NAMES

    results = load_valid(results_dir)
    chosen = [(p, r) for p, r in results.task_results
              if r.model.name == model and (revision is None or r.model.revision == revision)
              and r.tie_rule == tie_rule and r.task_name in TASK_NAMES]
    if not chosen:
        names = sorted({r.model.name for _, r in results.task_results})
        raise MMEBError(f"no MMEB-V1 results for model {model!r} (revision {revision or 'any'}, {tie_rule} ties) "
                        f"under {results_dir}; models there: {', '.join(names) or 'none'}")
    revisions = {r.model.revision for _, r in chosen}
    if len(revisions) > 1:
        raise MMEBError(f"model {model!r} has results for several revisions {sorted(map(str, revisions))}; "
                        f"pick one with --revision")
    if any(r.published for _, r in chosen):
        raise MMEBError(f"{model!r} is a published reference row, not your run; export only your own results")
    chosen.sort(key=lambda pr: TASK_NAMES.index(pr[1].task_name))
    model_meta = results.model_meta.get(chosen[0][0].parent, {})
    task_results = [r for _, r in chosen]
    return {
        "metadata": _metadata(model, task_results, model_meta, metadata),
        "metrics": {"image": {r.task_name: dataset_metrics(r) for r in task_results}},
    }


def missing_tasks(export: dict[str, Any]) -> list[str]:
    from mmeb.tasks import TASK_NAMES

    return [t for t in TASK_NAMES if t not in export["metrics"]["image"]]

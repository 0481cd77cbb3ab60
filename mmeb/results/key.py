"""The scoring key: everything that determines a task's score, recorded in every result.

A finished task is reused only when its recorded key equals the key the current run would record; any
difference means recompute, and :func:`explain_mismatch` says which part changed. The key holds:

* ``dataset``    id, subset and resolved revision (the Hub commit, or a full-content fingerprint of the
                 local files when read from ``--data-dir``);
* ``model``      name, revision (resolved commit or full weights fingerprint), every setting, and for
                 a plug-in the sha256 of its source file (``code_sha256``);
* ``evaluation`` tie rule, similarity, limit, bootstrap resamples and seed, score dtype;
* ``scoring_version`` the version of the ranking / metric code (bumped when a score would change).

The **configuration** is the part a user chooses (model settings and code, evaluation settings): runs
with different configurations are different leaderboard rows and live in different folders.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

#: bump when ranking or metric code changes what any score would be
SCORING_VERSION = "2"

#: evaluation settings of a plain ``mmeb run`` (results of these live at the unsuffixed path)
DEFAULT_EVALUATION = {"tie_rule": "fractional", "similarity": "cosine", "limit": None,
                      "bootstrap_resamples": 1000, "bootstrap_seed": 0, "score_dtype": "float32"}


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces; non-finite floats and unknown types refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(value: Any, length: int = 64) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:length]


def unserialisable(value: Any, where: str = "settings") -> str | None:
    """Where ``value`` stops being plain JSON (a str naming the first bad entry), or None when it is."""
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} = {value} (not a finite number)"
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            bad = unserialisable(item, f"{where}[{i}]")
            if bad:
                return bad
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has the non-string key {key!r}"
            bad = unserialisable(item, f"{where}.{key}")
            if bad:
                return bad
        return None
    return f"{where} = {type(value).__name__} object {str(value)[:60]!r} (not JSON: str, number, bool, list, dict)"


def model_identity(name: str, revision: str | None, settings: dict, code_sha256: str | None = None,
                   sources: dict | None = None) -> dict:
    """The model part of the key (also the embedding cache's identity). ``settings`` must be plain JSON;
    ``sources`` holds full-content fingerprints of the files the model was loaded from, when known."""
    identity = {"name": name, "revision": revision, "settings": json.loads(canonical_json(settings or {}))}
    if code_sha256:
        identity["code_sha256"] = code_sha256
    if sources:
        identity["sources"] = sources
    return identity


def evaluation_key(*, tie_rule: str, similarity: str, limit: int | None, bootstrap_resamples: int,
                   bootstrap_seed: int, score_dtype: str = "float32") -> dict:
    return {"tie_rule": tie_rule, "similarity": similarity, "limit": limit,
            "bootstrap_resamples": bootstrap_resamples, "bootstrap_seed": bootstrap_seed,
            "score_dtype": score_dtype}


def scoring_key(*, dataset: dict, model: dict, evaluation: dict) -> dict:
    return {"dataset": dataset, "model": model, "evaluation": evaluation, "scoring_version": SCORING_VERSION}


def configuration(model: dict, evaluation: dict) -> str:
    """Short digest of what the user chose: model settings and code, and the evaluation settings."""
    chosen = {"settings": model.get("settings") or {}, "code_sha256": model.get("code_sha256"),
              "evaluation": evaluation}
    return digest(chosen, 10)


def is_default(evaluation: dict) -> bool:
    # the NDCG rule is recorded only when not the default ("correct")
    return (all(evaluation.get(k) == v for k, v in DEFAULT_EVALUATION.items())
            and evaluation.get("ndcg", "correct") == "correct")


def explain_mismatch(stored: dict | None, wanted: dict) -> str | None:
    """Why a stored result cannot be reused (one short clause), or None when the keys are equal."""
    if stored is None:
        return "its result records no scoring key (written by an older mmeb)"
    if canonical_json(stored) == canonical_json(wanted):
        return None
    changes = []
    for path, old, new in _differences(stored, wanted):
        changes.append(f"{path} {_short(old)} -> {_short(new)}")
    return "changed: " + "; ".join(changes[:4]) + (f" (+{len(changes) - 4} more)" if len(changes) > 4 else "")


def _differences(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _differences(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return out
    return [] if canonical_json(old) == canonical_json(new) else [(path, old, new)]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 24 else text[:21] + "..."


def result_configuration(result: Any) -> str | None:
    """The configuration digest of a stored result (None for results that record no scoring key: published
    rows and results of older versions). Different configurations are never averaged together."""
    recorded = getattr(result, "scoring_key", None)
    if recorded is None:
        return None
    return configuration(recorded.model, recorded.evaluation)

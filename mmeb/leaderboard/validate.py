"""Checks a submission must pass before it reaches the leaderboard (``mmeb validate``).

Beyond the schema: the task exists and its meta-task / split / query count match the registry, the
dataset revision is recorded, confidence intervals bracket the score, per-query predictions (when
included) recompute to the stated scores, and no (model, revision, tie rule, task) appears twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mmeb.errors import MMEBError, suggest
from mmeb.leaderboard.aggregate_only import AggregateOnlyResult
from mmeb.leaderboard.catalog import Catalog, task_catalog
from mmeb.leaderboard.identity import benchmark_of, recomputable, row_identity
from mmeb.leaderboard.load import Problem, ResultSet, read_results
from mmeb.results.schema import TaskResult
from mmeb.tasks.v2.metadata import BENCHMARK as V2_BENCHMARK, DATA_VERSIONS

SCORE_TOLERANCE = 1e-6  # recomputed vs stated score (floats written as JSON round-trip exactly)
UNRESOLVED_REVISIONS = {"", "main", "master", "head", "latest"}  # branch names are not pinned snapshots


class InvalidResultsError(MMEBError):
    """The leaderboard refuses input with problems; the message lists each (file, what, fix)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the results; nothing was built:\n{lines}{more}\n"
                         f"Run `mmeb validate PATH` after fixing.")


@dataclass
class ValidationReport:
    results: ResultSet
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_task(path: Path, r: TaskResult, catalog: Catalog, trusted: bool) -> Iterable[Problem]:
    meta = catalog.get(benchmark_of(r), r.task_name)
    if meta is None:
        known = catalog.names(benchmark_of(r)) or catalog.names()
        yield Problem(path, f"task_name: {suggest(r.task_name, known, f'{benchmark_of(r)} task')}",
                      "use the exact task name shown by `mmeb tasks` and the benchmark it belongs to")
        return
    if path.stem != r.task_name:
        yield Problem(path, f"file name says {path.stem!r} but task_name is {r.task_name!r}",
                      f"rename the file to {r.task_name}.json or fix task_name")
    for attr in ("meta_task", "split", "main_metric", "modality", "group"):
        expected, stated = getattr(meta, attr), getattr(r, attr, None)
        if expected is not None and stated is not None and stated != expected:
            yield Problem(path, f"{attr} is {getattr(r, attr)!r} but task {r.task_name} is {expected!r}",
                          "rerun with `mmeb run`; do not edit result files")
    version = r.dataset.version
    if r.published is None and benchmark_of(r) == V2_BENCHMARK and version is not None \
            and version not in DATA_VERSIONS:
        yield Problem(path, f"dataset.version is {version!r}, not an MMEB-V2 data version "
                            f"({', '.join(DATA_VERSIONS)})", "rerun with `mmeb run` (--data-version picks one)")
        return
    if trusted or meta.n_queries is None:
        return  # published rows keep the count of their benchmark version
    limit = r.evaluation.limit if r.evaluation is not None else None
    if limit:
        yield Problem(path, f"is a --limit {limit} run ({r.n_queries} of {meta.n_queries} queries)",
                      "evaluate the full test set (no --limit) before submitting", unofficial=True)
    elif r.n_queries != meta.n_queries_for(r.dataset.version):
        version = f" in data version {r.dataset.version}" if r.dataset.version else ""
        yield Problem(path, f"n_queries is {r.n_queries} but task {r.task_name} has "
                            f"{meta.n_queries_for(r.dataset.version)} queries{version} "
                            f"(data from {r.dataset.source or r.dataset.id})",
                      f"evaluate on the official {meta.dataset_id or 'test'} data, not a subset or local sample",
                      unofficial=True)


def _check_revision(path: Path, r: TaskResult) -> Iterable[Problem]:
    revision = r.dataset.revision.strip()
    if not revision:
        yield Problem(path, "dataset.revision is empty", "rerun with `mmeb run`, which records the revision")
    elif r.published is None and revision.lower() in UNRESOLVED_REVISIONS:
        yield Problem(path, f"dataset.revision is the branch name {revision!r}, not a resolved snapshot",
                      "rerun with `mmeb run` (it records the commit hash) or pass --dataset-revision <commit>",
                      unofficial=True)


def _check_scores(path: Path, r: TaskResult) -> Iterable[Problem]:
    s = r.scores
    ladder = [(k, getattr(s, k)) for k in ("hit_at_1", "hit_at_5", "hit_at_10") if getattr(s, k) is not None]
    for (k1, v1), (k2, v2) in zip(ladder, ladder[1:]):
        if v1 > v2 + SCORE_TOLERANCE:
            yield Problem(path, f"scores.{k1}={v1} exceeds scores.{k2}={v2}", "hit@k cannot fall as k grows; rerun")
    if (s.ci95_low is None) != (s.ci95_high is None):
        yield Problem(path, "only one end of the 95% CI is given", "give both ci95_low and ci95_high or neither")
    elif s.ci95_low is not None and not (s.ci95_low - SCORE_TOLERANCE <= r.main_score <= s.ci95_high + SCORE_TOLERANCE):
        yield Problem(path, f"{r.main_metric}={r.main_score} is outside its CI [{s.ci95_low}, {s.ci95_high}]",
                      "rerun with `mmeb run`; the CI must bracket the score")


def recompute_scores(r: TaskResult) -> dict[str, float]:
    """hit@1/5/10, NDCG@5 and MRR from the predictions by the file's tie rule, computed here and not by the
    engine's code, so a bug there cannot vouch for itself. Under "fractional" the positive's position is
    uniform over rank .. rank + tie_size - 1 and each metric is its expectation; under "v1" it is rank."""
    preds = r.predictions or []
    totals = dict.fromkeys(("hit_at_1", "hit_at_5", "hit_at_10", "ndcg_at_5", "mrr"), 0.0)
    harmonic = [0.0]  # harmonic[n] = 1 + 1/2 + ... + 1/n, grown on demand (tie groups can be long)
    for p in preds:
        first, size = p.rank, (1 if r.tie_rule == "v1" else p.tie_size)
        last = first + size - 1
        while len(harmonic) <= last:
            harmonic.append(harmonic[-1] + 1.0 / len(harmonic))
        for k in (1, 5, 10):
            totals[f"hit_at_{k}"] += max(0, min(last, k) - first + 1) / size
        totals["ndcg_at_5"] += sum(1.0 / math.log2(pos + 1) for pos in range(first, min(last, 5) + 1)) / size
        totals["mrr"] += (harmonic[last] - harmonic[first - 1]) / size
    return {name: total / len(preds) for name, total in totals.items()} if preds else totals


def _check_predictions(path: Path, r: TaskResult, meta, require: bool) -> Iterable[Problem]:
    if not r.predictions:
        if require:
            yield Problem(path, "has no per-query predictions, so its scores cannot be recomputed",
                          "rerun with `mmeb run --save-predictions` and submit those files")
        return
    if not recomputable(r):
        return
    fix = "the scores do not follow from the predictions; rerun `mmeb run` and submit its files unchanged"
    n_candidates = meta.n_candidates if meta is not None else None
    for i, p in enumerate(r.predictions):
        # top1 is the first index with the highest score and the positive is index 0: it is ranked first
        # exactly when no other content scores above it
        why = None
        if (p.top1 == 0) != (p.rank == 1):
            why = f"top1={p.top1} contradicts rank={p.rank} (the positive is candidate 0)"
        elif n_candidates is not None and (p.top1 >= n_candidates or p.rank + p.tie_size - 1 > n_candidates):
            why = f"top1={p.top1}, rank={p.rank}, tie_size={p.tie_size} do not fit {n_candidates} candidates"
        if why:
            yield Problem(path, f"prediction {i} is inconsistent: {why}", fix)
            return
    for name, value in recompute_scores(r).items():
        stated = getattr(r.scores, name)
        if stated is not None and abs(value - stated) > SCORE_TOLERANCE:
            yield Problem(path, f"predictions give {name.replace('_at_', '@')}={value:.6f} ({r.tie_rule} ties) "
                                f"but the file states {stated:.6f}", fix)
    n_tied = sum(p.tie_size > 1 for p in r.predictions)
    if r.scores.n_tied_queries is not None and r.scores.n_tied_queries != n_tied:
        yield Problem(path, f"predictions have {n_tied} tied queries but scores.n_tied_queries="
                            f"{r.scores.n_tied_queries}", fix)


def _check_duplicates(results: ResultSet) -> Iterable[Problem]:
    seen: dict[tuple, tuple[Path, TaskResult]] = {}
    per_task_models: dict[tuple, Path] = {}
    for path, r in results.task_results:
        row = row_identity(r)
        limit = r.evaluation.limit if r.evaluation is not None else None
        key = (*row, limit, r.n_queries, r.task_name)  # a --limit run or a data sample is another run
        per_task_models.setdefault(row[1:4], path)
        if key in seen:
            first, other = seen[key]
            same = other.scores == r.scores and other.n_queries == r.n_queries
            what = "duplicates" if same else f"conflicts with ({r.main_metric} {other.main_score} vs {r.main_score})"
            yield Problem(path, f"{what} {first} for model {r.model.name!r} revision {r.model.revision!r}, "
                                f"task {benchmark_of(r)}/{r.task_name}, {r.tie_rule} ties",
                          "keep exactly one result per model, revision, settings and task")
        else:
            seen[key] = (path, r)
    seen_agg: dict[tuple, Path] = {}
    for path, a in results.aggregate_only:
        key = (a.model.name, a.model.revision or "", a.tie_rule, a.benchmark)
        if key in seen_agg:
            yield Problem(path, f"duplicates the aggregate-only row {seen_agg[key]} for {a.model.name!r}",
                          "keep one aggregates.json per model and revision")
        seen_agg[key] = path
        if key[:3] in per_task_models:
            yield Problem(path, f"model {a.model.name!r} has per-task results ({per_task_models[key[:3]]}) "
                                f"and an aggregate-only row", "give the aggregate-only row its own model name")


def _check_aggregate_only(path: Path, a: AggregateOnlyResult, catalog: Catalog) -> Iterable[Problem]:
    benchmarks = catalog.benchmarks
    if a.benchmark not in benchmarks:
        yield Problem(path, f"benchmark {a.benchmark!r} is unknown (known: {', '.join(sorted(benchmarks))})",
                      "set benchmark to one of the known names")


def validate_results(results: ResultSet, *, require_predictions: bool = False,
                     catalog: Catalog | None = None) -> list[Problem]:
    """Every problem in an already-read result set (parse problems included). ``require_predictions``:
    what submission CI runs - a result without per-query predictions cannot be verified and is refused."""
    catalog = catalog or task_catalog()
    problems = list(results.problems)
    for path, r in results.task_results:
        meta = catalog.get(benchmark_of(r), r.task_name)
        for check in (_check_task(path, r, catalog, results.trusted), _check_revision(path, r),
                      _check_scores(path, r), _check_predictions(path, r, meta, require_predictions)):
            problems.extend(check)
    for path, a in results.aggregate_only:
        problems.extend(_check_aggregate_only(path, a, catalog))
    problems.extend(_check_duplicates(results))
    return problems


def _is_shipped(path: str | Path) -> bool:
    """Whether ``path`` lies inside the published rows shipped with mmeb (e.g. a clone's results/published)."""
    from mmeb.leaderboard.published import ROWS_DIR

    return Path(path).resolve().is_relative_to(ROWS_DIR.resolve())


def validate_path(path: str | Path, *, require_predictions: bool = False) -> ValidationReport:
    results = read_results(path, trusted=_is_shipped(path))
    return ValidationReport(results, validate_results(results, require_predictions=require_predictions))


def load_valid(path: str | Path | None, *, include_unofficial: bool = False, published: bool = False,
               catalog: Catalog | None = None) -> ResultSet:
    """The result set under ``path`` (None: none) plus, with ``published``, the shipped reference rows;
    or :class:`InvalidResultsError` naming every bad file. A result with only unofficial problems (a
    ``--limit`` run, a subset of the data, an unpinned dataset) is dropped, or with ``include_unofficial``
    kept and listed in ``unofficial`` with the reason."""
    from mmeb.leaderboard.published import ROWS_DIR

    catalog = catalog or task_catalog()
    out = ResultSet()
    if path is not None and _is_shipped(path):
        path, published = None, True  # the shipped rows themselves (e.g. a clone's results/published link)
    sources = [read_results(path, allow_empty=published)] if path is not None else []
    if published:
        shipped = read_results(ROWS_DIR, trusted=True)
        known = set(catalog.benchmarks)  # a benchmark this install has no tasks of cannot be tabled
        shipped.task_results = [(p, r) for p, r in shipped.task_results if benchmark_of(r) in known]
        sources.append(shipped)
    for source in sources:
        source.problems = validate_results(source, catalog=catalog)
        out.extend(source)
    out.problems += [p for p in _check_duplicates(out) if p not in out.problems]
    hard = [p for p in out.problems if not p.unofficial]
    if hard:
        raise InvalidResultsError(hard)
    unofficial = {p.file: p.what for p in out.problems if p.unofficial}
    out.problems = []
    if include_unofficial:
        out.unofficial = unofficial
    else:
        out.task_results = [(p, r) for p, r in out.task_results if p not in unofficial]
        out.n_unofficial_hidden = len(unofficial)
    return out

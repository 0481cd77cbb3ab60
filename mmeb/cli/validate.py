"""`mmeb validate PATH`: check result files (a file or a folder) before they go on the leaderboard."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate", help="validate result files / a submission",
        description="Check schema, task names, score ranges, query counts, dataset revision, duplicates and "
                    "conflicts, and recompute scores from per-query predictions where included. Exit 1 when "
                    "any problem is found.")
    p.add_argument("path", help="a result file or a folder of result files")
    p.add_argument("--require-predictions", action="store_true",
                   help="refuse results without per-query predictions (what submission CI runs: only those "
                        "scores can be recomputed and verified)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from mmeb.leaderboard.validate import validate_path

    report = validate_path(args.path, require_predictions=args.require_predictions)
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    r = report.results
    summary = (f"{r.n_files} file(s): {len(r.task_results)} task results, {len(r.aggregate_only)} aggregate-only "
               f"rows")
    if report.ok:
        print(f"OK: {summary}")
        return 0
    print(f"INVALID: {summary}; {len(report.problems)} problem(s)", file=sys.stderr)
    return 1

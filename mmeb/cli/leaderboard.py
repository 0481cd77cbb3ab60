"""`mmeb leaderboard`: build leaderboard.md/.csv/.json and index.html from a results folder."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "leaderboard", help="build the leaderboard tables and static page from result files",
        description="Read every result file under --results-dir (recursively), refuse invalid ones, aggregate "
                    "per benchmark as the VLM2Vec paper (unweighted means) and write leaderboard.md, .csv, "
                    ".json and a self-contained index.html.")
    p.add_argument("--results-dir", default="results", help="folder of result files (default: results)")
    p.add_argument("--output-dir", default="leaderboard", help="where to write the outputs (default: leaderboard)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from mmeb.leaderboard.build import build_leaderboard

    lb = build_leaderboard(args.results_dir, args.output_dir)
    for board in lb.boards:
        n_runs = sum(r.kind == "run" for r in board.rows)
        print(f"{board.benchmark}: {len(board.rows)} rows ({n_runs} mmeb runs, {len(board.rows) - n_runs} published)")
    print(f"wrote {', '.join(str(f) for f in lb.files)}")
    return 0

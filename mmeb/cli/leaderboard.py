"""`mmeb leaderboard`: build leaderboard.md/.csv/.json and index.html from a results folder."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "leaderboard", help="build the leaderboard tables and static page from result files",
        description="Read every result file under --results-dir (recursively), refuse invalid ones, aggregate "
                    "per benchmark as the VLM2Vec papers (unweighted means) and write leaderboard.md, .csv, "
                    ".json and a self-contained index.html. The published reference rows shipped with mmeb "
                    "appear beside your own rows.")
    p.add_argument("--results-dir", default="results", help="folder of result files (default: results)")
    p.add_argument("--output-dir", default="leaderboard", help="where to write the outputs (default: leaderboard)")
    p.add_argument("--no-published", action="store_true", help="hide the published reference rows")
    p.add_argument("--include-unofficial", action="store_true",
                   help="also show results that cannot be official (a --limit run, a subset or synthetic mirror "
                        "of the data, an unpinned dataset): marked unofficial, listed after the official rows, "
                        "never mixed into them")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from mmeb.leaderboard.build import build_leaderboard

    lb = build_leaderboard(args.results_dir, args.output_dir, published=not args.no_published,
                           include_unofficial=args.include_unofficial)
    for board in lb.boards:
        n_runs = sum(r.kind == "run" and not r.unofficial for r in board.rows)
        n_unofficial = sum(r.unofficial is not None for r in board.rows)
        extra = f", {n_unofficial} unofficial" if n_unofficial else ""
        print(f"{board.benchmark}: {len(board.rows)} rows ({n_runs} mmeb runs, "
              f"{len(board.rows) - n_runs - n_unofficial} published{extra})")
    if lb.n_unofficial_hidden:
        print(f"{lb.n_unofficial_hidden} unofficial result file(s) left out (a --limit run, a data sample or an "
              f"unpinned dataset); --include-unofficial shows them, marked")
    print(f"wrote {', '.join(str(f) for f in lb.files)}")
    return 0

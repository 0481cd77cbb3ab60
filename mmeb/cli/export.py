"""`mmeb export`: write one model's results in another format (the official MMEB leaderboard JSON)."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export results to other formats",
        description="Export a model's results as the official leaderboard JSON: mmeb-leaderboard = MMEB-V1 "
                    "(HF Space TIGER-Lab/MMEB-Leaderboard, scores/<model>.json), mmeb-v2-leaderboard = MMEB-V2 "
                    "(the per-model file of the official report_score_v2.py: metrics by image / video / "
                    "visdoc). See docs/submitting.md.")
    p.add_argument("--format", required=True, choices=["mmeb-leaderboard", "mmeb-v2-leaderboard"],
                   help="output format")
    p.add_argument("--results-dir", default="results", help="folder of result files (default: results)")
    p.add_argument("--model", required=True, help="model name as recorded in the result files")
    p.add_argument("--revision", help="model revision, when the folder holds several")
    p.add_argument("--ties", default="fractional", choices=["fractional", "v1"],
                   help="which tie rule's results to export (default: fractional)")
    p.add_argument("--out", help="output file (default: print to stdout)")
    p.add_argument("--model-size", type=float, help="parameters in billions (metadata.model_size)")
    p.add_argument("--backbone", help="metadata.model_backbone")
    p.add_argument("--embedding-dim", type=int, help="metadata.embedding_dimension")
    p.add_argument("--max-length", type=int, help="metadata.max_length_tokens")
    p.add_argument("--release-date", help="metadata.model_release_date (YYYY-MM-DD)")
    p.add_argument("--url", help="metadata.url")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from mmeb.leaderboard.export import FORMATS, export_leaderboard, missing_tasks

    benchmark = FORMATS[args.format]
    data = export_leaderboard(
        args.results_dir, args.model, benchmark=benchmark, revision=args.revision, tie_rule=args.ties,
        model_size=args.model_size,
        model_backbone=args.backbone, embedding_dimension=args.embedding_dim, max_length_tokens=args.max_length,
        model_release_date=args.release_date, url=args.url)
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    missing = missing_tasks(data, benchmark)
    if missing:
        print(f"warning: {len(missing)} {benchmark} datasets missing ({', '.join(missing[:6])}"
              f"{', ...' if len(missing) > 6 else ''}); the public leaderboard shows a partial row",
              file=sys.stderr)
    if args.out:
        try:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            from mmeb.errors import MMEBError

            raise MMEBError(f"cannot write {args.out}: {exc.strerror or exc} ({exc.filename or args.out}); pass "
                            "--out a file in a folder you can write") from exc
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

"""``python -m mmeb.leaderboard.published --write DIR [--v2-scores F --v2-tasks F]``: regenerate the rows."""

from __future__ import annotations

import argparse

from mmeb.leaderboard.published import write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="regenerate the shipped published reference rows")
    parser.add_argument("--write", metavar="DIR", required=True, help="e.g. mmeb/leaderboard/published/rows")
    parser.add_argument("--v2-scores", help="published_scores.json (transcription of the official V2 score files)")
    parser.add_argument("--v2-tasks", help="tasks.json (the 78 V2 tasks with their Hub sources)")
    args = parser.parse_args(argv)
    files = write_all(args.write, args.v2_scores, args.v2_tasks)
    print(f"wrote {len(files)} files under {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

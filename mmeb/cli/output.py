"""The output options shared by the long-running commands (``run``, ``demo``, ``train``)."""

from __future__ import annotations

import argparse


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or progress lines (results and errors are still printed)")
    parser.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)  # older spelling of --quiet
    parser.add_argument("--progress-interval", type=float, default=None, metavar="SECONDS",
                        help="seconds between plain progress lines when stdout is not a terminal (logs, pipes); "
                             "default: $MMEB_PROGRESS_INTERVAL or 15")


def apply_output_arguments(args: argparse.Namespace) -> tuple[bool, float | None]:
    """Silence third-party bars and known-harmless warnings; returns (progress on?, seconds between lines)."""
    from mmeb.cli import UserError
    from mmeb.evaluation.progress import progress_mode, quiet_third_party

    if args.progress_interval is not None and args.progress_interval <= 0:
        raise UserError(f"--progress-interval must be > 0 seconds, got {args.progress_interval}")
    enabled = not (args.quiet or args.no_progress)
    quiet_third_party(bars=progress_mode(enabled) == "bars")
    return enabled, args.progress_interval

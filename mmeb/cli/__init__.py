"""The ``mmeb`` command line.

Each subcommand lives in its own module under ``mmeb/cli/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the
parsed args and returning an exit code). Modules import heavy libraries inside ``func``
only, so ``mmeb tasks`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mmeb._version import __version__

# order = order in `mmeb --help`
SUBCOMMANDS = [
    "tasks",        # list / select the 36 tasks              (mmeb.cli.tasks)
    "download",     # prefetch task data from the Hub          (mmeb.cli.download)
    "data",         # synthetic data / tiny models, offline    (mmeb.cli.data)
    "models",       # list registered models                   (mmeb.cli.models)
    "run",          # evaluate a model on tasks                (mmeb.cli.run)
    "leaderboard",  # build leaderboard tables + page          (mmeb.cli.leaderboard)
    "validate",     # validate result files / a submission     (mmeb.cli.validate)
    "export",       # export results to other formats          (mmeb.cli.export)
    "train",        # VLM2Vec contrastive training             (mmeb.cli.train)
    "demo",         # offline end-to-end demo                  (mmeb.cli.demo)
]


class UserError(Exception):
    """An error caused by user input: printed as one clear message, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmeb",
        description="Benchmark harness for universal multimodal embeddings (MMEB).",
    )
    parser.add_argument("--version", action="version", version=f"mmeb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"mmeb.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # clear message for known user errors, traceback otherwise
        from mmeb.errors import MMEBError

        if isinstance(exc, (MMEBError, UserError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise

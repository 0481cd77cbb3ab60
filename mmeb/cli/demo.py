"""``mmeb demo``: the whole product offline - synthetic MMEB-format data, training of a small reference model
with the real trainer, evaluation of three models with the real engine, and the leaderboard."""

from __future__ import annotations

import argparse

from mmeb.cli.output import add_output_arguments, apply_output_arguments


def register(subparsers) -> None:
    from mmeb.demo.model import DEFAULT_STEPS

    p = subparsers.add_parser(
        "demo", help="offline end-to-end demo: generate data, train, evaluate, build the leaderboard",
        description="Generate a synthetic benchmark in the MMEB layouts, train a small Qwen2-VL with `mmeb train`'s "
                    "trainer, evaluate it (trained and untrained) and a two-tower baseline with `mmeb run`'s engine, "
                    "and build the leaderboard. Needs no network. A rerun reuses every finished step.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default="mmeb-demo", help="demo directory (data, models, results, leaderboard)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps of the reference model")
    p.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and training")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (tiny models run fastest on one; more only helps big ones)")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import sys
    from pathlib import Path

    from rich.console import Console

    from mmeb.cli import UserError
    from mmeb.demo.pipeline import DemoConfig, run_demo
    from mmeb.demo.tasks import OOD_TASKS

    if args.steps < 1:
        raise UserError(f"--steps must be >= 1, got {args.steps}")
    if args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    progress, interval = apply_output_arguments(args)  # before any import of transformers: it reads the env
    from mmeb.training import require_train_extra

    require_train_extra("mmeb demo (it trains a model)")
    console = Console(stderr=True, quiet=args.quiet)
    config = DemoConfig(out_dir=Path(args.out), seed=args.seed, steps=args.steps, threads=args.threads,
                        progress=progress, progress_interval=interval)
    outcome = run_demo(config, console)
    out = Console(width=None if sys.stdout.isatty() else 130)  # a piped table is not squeezed to 80 columns
    out.print(overview_table(outcome.board))
    if outcome.v2_scores or outcome.v2_failures:
        out.print(v2_table(outcome))
    out.print(f"trained minus untrained, mean hit@1 over the {len(OOD_TASKS)} OOD tasks: "
              f"{_signed_points(outcome.ood_gain_points)} points")
    out.print(f"leaderboard page: {outcome.page.resolve()}")
    out.print(f"wall time: {outcome.seconds['total']:.0f} s ("
              + ", ".join(f"{k}: {v:.0f} s" for k, v in outcome.seconds.items() if k != "total") + ")")
    return 0


def _signed_points(value: float) -> str:
    from mmeb.units import format_points

    text = format_points(value)
    return text if text.startswith("-") else "+" + text


def overview_table(board):
    """The synthetic benchmark's overview (hit@1 %, unweighted means as in the paper) as a rich table."""
    from rich.table import Table

    from mmeb.demo.report import overview_cells

    header, rows = overview_cells(board)
    table = Table(title=f"{board.benchmark} benchmark: hit@1 (%)")
    table.add_column(header[0], no_wrap=True)
    for column in header[1:]:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def v2_table(outcome):
    """The MMEB-V2 video and document tasks of the demo (random synthetic data: a pipeline check)."""
    from rich.markup import escape
    from rich.table import Table

    from mmeb.demo.v2 import V2_QUERIES, V2_TASKS
    from mmeb.units import format_percent

    table = Table(title=f"MMEB-V2 video + document tasks ({V2_QUERIES} queries of random synthetic data each: "
                        f"the pipeline end to end, chance-level scores; main score %)")
    table.add_column("Model", no_wrap=True)
    for task in V2_TASKS:
        table.add_column(task, justify="right")
    for model in dict.fromkeys([*outcome.v2_scores, *outcome.v2_failures]):
        scores, failed = outcome.v2_scores.get(model, {}), outcome.v2_failures.get(model, {})
        table.add_row(model, *(format_percent(scores[t]) if t in scores else
                               ("[red]failed[/red]" if t in failed else "-") for t in V2_TASKS))
    if outcome.v2_failures:
        table.caption = escape("; ".join(f"{m} {t}: {e[:120]}" for m, f in outcome.v2_failures.items()
                                         for t, e in f.items()))
    return table

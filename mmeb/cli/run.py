"""``mmeb run``: evaluate a model on tasks, write one result file per task, print a summary table.

Exit codes: 0 all tasks done or skipped; 1 some task failed (the others still ran); 2 bad usage.
Under ``torchrun --nproc_per_node N -m mmeb run ...`` the encoding is sharded over the N processes.
"""

from __future__ import annotations

import argparse
import os

from mmeb.cli.output import add_output_arguments, apply_output_arguments


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="evaluate a model on tasks",
        description="Evaluate MODEL on the selected tasks. MODEL is a registered name (`mmeb models`), a local "
                    "checkpoint directory, a Hub id, `st:<id or dir>`, `mteb:<name>` (MTEB's model registry), or a "
                    "plug-in `path/to/file.py:Class` / `package.module:factory` (called with the --model-arg values).")
    p.add_argument("--model", required=True,
                   help="model name, directory, Hub id, st:<id>, mteb:<name>, or plug-in spec")
    add_model_loading_arguments(p)
    p.add_argument("--tasks", nargs="+", default=["all"], metavar="SELECTOR",
                   help="task names, meta-tasks, IND/OOD or all (default: all, the 36 MMEB-V1 tasks); MMEB-V2:all, "
                        "MMEB-V2:image|video|visdoc, MMEB-V2:<sub-category> or MMEB-V2:<Task>")
    p.add_argument("--data-dir", default=None, help="local copy of the data in the Hub layout (else $MMEB_DATA_DIR, "
                                                     "else the Hub cache)")
    p.add_argument("--output-dir", default="results", help="where result files go (default: results)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default: auto)")
    p.add_argument("--batch-size", type=int, default=32, help="inputs per model call (default: 32)")
    p.add_argument("--num-workers", type=int, default=min(8, os.cpu_count() or 1),
                   help="workers that decode images and preprocess (0 = in the main thread)")
    p.add_argument("--loader", choices=["threads", "processes"], default="threads",
                   help="workers are threads of this process (default) or one pool of worker processes for the "
                        "whole run (no shared GIL: scales on many cores)")
    p.add_argument("--max-batch-tokens", type=int, default=None, metavar="N",
                   help="batches capped by image + text tokens (size-sorted) instead of --batch-size items (VLMs)")
    p.add_argument("--preprocess", choices=["reference", "device"], default="reference",
                   help="device: workers only decode, resize + normalise run on the model's device (can change "
                        "pixels, recorded in the results; default: the model's reference processor in the workers)")
    p.add_argument("--dtype", default=None, help="model dtype (float32, bfloat16, float16); default: the adapter's")
    p.add_argument("--revision", default=None, help="model revision (Hub commit, branch or tag)")
    p.add_argument("--dataset-revision", default=None, help="dataset revision to load from the Hub")
    p.add_argument("--trust-remote-code", action="store_true", help="allow models that ship their own code")
    p.add_argument("--overwrite", action="store_true", help="recompute tasks that already have a result")
    p.add_argument("--cache-dir", default=os.environ.get("MMEB_CACHE_DIR"),
                   help="embedding cache folder (default: $MMEB_CACHE_DIR; no cache when unset)")
    p.add_argument("--save-predictions", action="store_true", help="store per-query top-1 and rank in results")
    p.add_argument("--ties", choices=["fractional", "v1"], default="fractional",
                   help="fractional (default): a positive tied with k other contents scores 1/(k+1); "
                        "v1: the official rule (argmax == 0, ties go to the positive), for comparison only")
    p.add_argument("--similarity", choices=["cosine", "dot"], default="cosine", help="score function (default: cosine)")
    p.add_argument("--ndcg", choices=["correct", "official"], default="correct",
                   help="MMEB-V2 graded NDCG: correct (default) gives each document its own grade; official pairs "
                        "the grades as the official scorer does (changes graded visdoc tasks only; recorded)")
    p.add_argument("--data-version", choices=["v2.0.0", "v2.0.1", "v2.1"], default=None,
                   help="MMEB-V2 data version (default v2.1: the current Hub data, MomentSeeker de-duplicated, the "
                        "fixed page tasks; v2.0.0 = the paper's data)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="evaluate the first N queries of each task only (smoke tests; recorded in results)")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress, interval = apply_output_arguments(args)
    from mmeb.evaluation import RunSettings, run_evaluation
    from mmeb.evaluation import distributed

    load_kwargs = {"trust_remote_code": args.trust_remote_code}
    if args.dtype:
        load_kwargs["dtype"] = args.dtype
    if args.revision:
        load_kwargs["revision"] = args.revision
    load_kwargs.update(model_loading_kwargs(args))
    settings = RunSettings(
        data_dir=args.data_dir, output_dir=args.output_dir, batch_size=args.batch_size,
        num_workers=args.num_workers, loader=args.loader, device=args.device, cache_dir=args.cache_dir,
        max_batch_tokens=args.max_batch_tokens, preprocess=args.preprocess,
        overwrite=args.overwrite,
        ties=args.ties, similarity=args.similarity, save_predictions=args.save_predictions, limit=args.limit,
        dataset_revision=args.dataset_revision, progress=progress,
        progress_interval=interval, ndcg=args.ndcg, data_version=args.data_version)
    report = run_evaluation(args.model, args.tasks, settings, **load_kwargs)
    if distributed.env_world_size() > 1 and int(os.environ.get("RANK", "0")) != 0:
        return 1 if report.failures else 0
    print_summary(report)
    if not report.model_loaded:
        print(f"all {len(report.outcomes)} task(s) already done with matching scoring keys: model not loaded")
    return 1 if report.failures else 0


def add_model_loading_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=None, metavar="DIR",
                   help="load a registered model's files from DIR (its Hub layout) instead of the Hub; "
                        "the recorded revision is DIR's full-content fingerprint")
    p.add_argument("--recipe", choices=["default", "native"], default="default",
                   help="default: the official code behind the model's published row; native: the model's own "
                        "conventions (models that have such a variant; recorded as <name>-native)")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for a plug-in class / factory or an mteb: model, value parsed as YAML "
                        "(repeatable; recorded in the results)")


def model_loading_kwargs(args: argparse.Namespace) -> dict:
    from mmeb.models.plugin import parse_model_args

    kwargs: dict = {}
    if args.weights:
        kwargs["weights"] = args.weights
    if args.recipe != "default":
        kwargs["recipe"] = args.recipe
    if args.model_arg:
        kwargs["model_args"] = parse_model_args(args.model_arg)
    return kwargs


#: summary columns after the task name, the ones a narrow terminal drops first last
SUMMARY_COLUMNS = ("status", "score %", "95% CI %", "queries", "tied", "seconds")
_DROP_ORDER = ("seconds", "tied", "95% CI %", "queries")


def summary_table(report, columns=SUMMARY_COLUMNS):
    from rich.table import Table

    from mmeb.units import format_percent, format_percent_range

    table = Table(title=f"{report.model_name} ({report.model_revision or 'no revision'})")
    table.add_column("task", no_wrap=True)
    for column in columns:
        table.add_column(column, no_wrap=True, justify="left" if column == "status" else "right")
    for outcome in report.outcomes:
        r = outcome.result
        if r is None:
            cells = {"status": "[red]failed[/red]", "seconds": f"{outcome.seconds:.1f}"}
        else:
            tied = r.scores.n_tied_queries
            cells = {"status": "done" if outcome.status == "done" else "[dim]skipped[/dim]",
                     "score %": format_percent(r.main_score),
                     "95% CI %": format_percent_range(r.scores.ci95_low, r.scores.ci95_high),
                     "queries": str(r.n_queries), "tied": "" if tied is None else str(tied),
                     "seconds": f"{outcome.seconds:.1f}"}
        table.add_row(outcome.task_name, *(cells.get(c, "") for c in columns))
    return table


def print_summary(report) -> None:
    """The run's table. Task names are never cut: a narrow terminal loses the least useful columns instead
    (seconds, tied, CI, queries); a log or pipe gets every column at full width."""
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.measure import Measurement

    console = Console(width=None if sys.stdout.isatty() else 250)
    columns = list(SUMMARY_COLUMNS)
    table = summary_table(report, columns)
    for column in _DROP_ORDER:
        if Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width:
            break
        columns.remove(column)
        table = summary_table(report, columns)
    console.print(table)
    for task, message in report.failures.items():
        console.print(f"[red]{escape(task)} failed:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if report.output_dir is not None:
        console.print(f"results in {report.output_dir}")

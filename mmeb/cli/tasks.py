"""``mmeb tasks [SELECTOR ...] [--json]``: list / select tasks (never imports torch)."""

from __future__ import annotations

import argparse
import json

_SHORT = {"image": "I", "text": "T", "image+text": "I+T"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tasks", help="list the MMEB tasks (or a selection)",
        description="List tasks. SELECTOR: a task name (case-insensitive), classification | vqa | retrieval | "
                    "grounding, IND, OOD, all (default), or <benchmark>:<group> (e.g. synthetic:all); for MMEB-V2: "
                    "MMEB-V2:all | image | video | visdoc | <sub-category> (video-ret, visdoc-vdr1, V-CLS, ...) | "
                    "<Task>.")
    p.add_argument("selectors", nargs="*", metavar="SELECTOR", help="which tasks (default: all 36)")
    p.add_argument("--json", action="store_true", help="print a JSON list with each task's full metadata")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmeb.tasks import get_tasks

    tasks = get_tasks(args.selectors or None)
    if args.json:
        print(json.dumps([t.metadata.model_dump() for t in tasks], indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    show_benchmark = len({t.metadata.benchmark for t in tasks}) > 1
    table = Table(caption=f"{len(tasks)} task(s)")
    table.add_column("name", no_wrap=True)
    table.add_column("meta-task", no_wrap=True)
    table.add_column("split / group")
    table.add_column("query -> target", no_wrap=True)
    table.add_column("#cand", justify="right")
    if show_benchmark:
        table.add_column("benchmark", no_wrap=True)
    for task in tasks:
        m = task.metadata
        short = lambda modality: _SHORT.get(modality, modality)  # noqa: E731
        cells = [m.name, m.meta_task, getattr(m, "group", None) or m.split or "-",
                 f"{short(m.query_modality)} -> {short(m.target_modality)}",
                 str(m.n_candidates or ("pool" if getattr(m, "ranking", "local") == "global" else "-"))]
        table.add_row(*cells, *([m.benchmark] if show_benchmark else []))
    Console().print(table)
    return 0

"""``mmeb models [NAME ...] [--json]``: list registered models with their metadata (never imports torch)."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "models", help="list registered models",
        description="List the registered models. Any sentence-transformers model (st:<id or dir>), a checkpoint "
                    "directory, a Hub id of a VLM2Vec-style repo or a plug-in (file.py:Class) also loads.")
    p.add_argument("names", nargs="*", metavar="NAME", help="show only these models")
    p.add_argument("--json", action="store_true", help="print a JSON list with every field and recipe setting")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmeb.models.registry import get_entry, list_models

    entries = [get_entry(n) for n in args.names] if args.names else list_models()
    if args.json:
        print(json.dumps([e.model_dump() for e in entries], indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(caption=f"{len(entries)} model(s); `mmeb models --json` shows every recipe setting")
    for col in ("name", "hub id", "adapter", "dim", "params", "license", "paper row"):
        table.add_column(col, no_wrap=col == "name", overflow="fold")
    for e in entries:
        adapter = e.adapter + (" (remote code)" if e.remote_code else "")
        table.add_row(e.name, e.hub_id, adapter, str(e.embedding_dim), e.params, e.license, e.paper_row or "-")
    Console().print(table)
    return 0

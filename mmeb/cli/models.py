"""``mmeb models [NAME ...] [--wide | --json]``: list registered models (never imports torch).

The default table fits 80 columns (name, adapter, dim, params, paper row; names never wrap, a long paper row
is shortened with an ellipsis); ``--wide`` prints every field; ``--json`` every field as JSON.
"""

from __future__ import annotations

import argparse
import json

WIDTH = 80
WIDE_FIELDS = ("name", "hub_id", "revision", "adapter", "recipes", "modalities", "embedding_dim", "params",
               "license", "paper_row", "remote_code", "base_model", "settings", "reference", "note")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "models", help="list registered models",
        description="List the registered models. Any sentence-transformers model (st:<id or dir>), an MTEB model "
                    "(mteb:<name>), a checkpoint directory, a Hub id of a VLM2Vec-style repo or a plug-in "
                    "(file.py:Class) also loads.")
    p.add_argument("names", nargs="*", metavar="NAME", help="show only these models")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--wide", action="store_true", help="print every field (lines longer than 80 columns)")
    shape.add_argument("--json", action="store_true", help="print a JSON list with every field and recipe setting")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmeb.models.registry import get_entry, list_models

    entries = [get_entry(n) for n in args.names] if args.names else list_models()
    if args.json:
        print(json.dumps([e.model_dump() for e in entries], indent=2))
    elif args.wide:
        print(format_table([_wide_row(e) for e in entries], WIDE_FIELDS))
    else:
        print(narrow_table(entries))
    return 0


def narrow_table(entries) -> str:
    """name | adapter | dim | params | paper row, at most 80 columns; ``*`` marks remote code."""
    rows = [{"name": e.name, "adapter": e.adapter + ("*" if e.remote_code else ""), "dim": str(e.embedding_dim),
             "params": e.params, "paper row": e.paper_row or "-"} for e in entries]
    columns = ("name", "adapter", "dim", "params", "paper row")
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns[:-1]}
    widths["paper row"] = max(len("paper row"), WIDTH - sum(widths.values()) - 2 * (len(columns) - 1))
    for r in rows:
        r["paper row"] = _shorten(r["paper row"], widths["paper row"])
    lines = [format_table(rows, columns, widths, right=("dim", "params"))]
    lines.append(_shorten(f"{len(entries)} model(s); * = remote code (--trust-remote-code); --wide: all fields",
                          WIDTH))
    return "\n".join(lines)


def format_table(rows: list[dict], columns, widths: dict | None = None, right=()) -> str:
    widths = widths or {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}

    def line(values: dict) -> str:
        cells = [str(values[c]).rjust(widths[c]) if c in right else str(values[c]).ljust(widths[c])
                 for c in columns]
        return "  ".join(cells).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wide_row(entry) -> dict:
    from mmeb.models.adapters import get_adapter

    data = entry.model_dump()
    data["recipes"] = "/".join(get_adapter(entry.adapter).recipes)
    data["modalities"] = ",".join(entry.modalities)
    data["settings"] = json.dumps(entry.settings, separators=(",", ":")) if entry.settings else "-"
    return {k: "-" if data.get(k) is None else data[k] for k in WIDE_FIELDS}

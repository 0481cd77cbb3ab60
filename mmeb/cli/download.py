"""``mmeb download --tasks SEL ...``: prefetch task data from the Hub into the user cache."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "download", help="prefetch task data from the Hugging Face Hub",
        description="Download the test split of the selected tasks (their parquet folder and the shared "
                    "images.zip) from TIGER-Lab/MMEB-eval into the Hub cache, so later runs work offline. MMEB-V2 "
                    "tasks (MMEB-V2:...) fetch their annotation repo's configs and the media archives they need "
                    "from TIGER-Lab/MMEB-V2 (extracted under $MMEB_V2_MEDIA_DIR).")
    p.add_argument("--tasks", nargs="+", default=["all"], metavar="SEL",
                   help="task names or groups, as for `mmeb tasks` (default: all)")
    p.add_argument("--revision", default=None,
                   help="dataset revision: a branch, tag or commit (default: the branch in each task's metadata, "
                        "`main` for TIGER-Lab/MMEB-eval, which is not pinned; the commit it resolves to is printed "
                        "and recorded in every result; pass a commit to pin)")
    p.add_argument("--cache-dir", default=None, help="Hub cache folder (default: huggingface_hub's)")
    p.add_argument("--data-version", choices=["v2.0.0", "v2.0.1", "v2.1"], default=None,
                   help="MMEB-V2 data version (default v2.1, the current Hub data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, download_fn=None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mmeb.data.hub import fetch_subset
    from mmeb.tasks import get_tasks

    tasks = get_tasks(args.tasks)
    console = Console(stderr=True)
    done: list[tuple[str, str, str]] = []
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task("downloading", total=len(tasks))
        for task in tasks:
            m = task.metadata
            progress.update(bar, description=f"{m.name}")
            if m.benchmark == "MMEB-V2":
                from mmeb.data.v2.hub import download_task

                folder, commit = download_task(m, args.revision, cache_dir=args.cache_dir, download_fn=download_fn,
                                               data_version=getattr(args, "data_version", None))
                done.append((f"MMEB-V2:{m.name}", commit, str(folder)))
                progress.advance(bar)
                continue
            folder, commit = fetch_subset(m.dataset_id, m.name, args.revision or m.dataset_revision,
                                          cache_dir=args.cache_dir, download_fn=download_fn)
            if not (folder / m.name).is_dir():
                from mmeb.errors import DataUnavailableError

                raise DataUnavailableError(f"task {m.name}: {m.dataset_id}@{commit} has no folder {m.name}/ "
                                           f"(snapshot {folder}); is the revision right?")
            done.append((m.name, commit, str(folder)))
            progress.advance(bar)
    for name, commit, folder in done:
        print(f"{name}\t{commit}\t{folder}")
    return 0

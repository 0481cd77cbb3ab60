"""Load one task's test split, from a local mirror (``--data-dir`` / ``MMEB_DATA_DIR``) or from the Hub.

Both sources have the same layout (the Hub repo's own): ``<Subset>/test-*.parquet`` with the columns
``qry_text, qry_img_path, tgt_text, tgt_img_path``, plus ``images.zip`` (read in place) or the extracted
images at the root. Every error names the task, the row and the file, and says what to do.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mmeb.data.hub import IMAGES_ARCHIVE, DownloadFn, fetch_subset, how_to_provide
from mmeb.data.images import FolderImageStore, ZipImageStore, first_rows
from mmeb.data.items import QueryRow, SubsetSpec, TaskData
from mmeb.data.parsing import parse_row
from mmeb.errors import DataError, DataUnavailableError, close_matches
from mmeb.fingerprint import files_fingerprint

DATA_DIR_ENV = "MMEB_DATA_DIR"
COLUMNS = ("qry_text", "qry_img_path", "tgt_text", "tgt_img_path")
SPLIT = "test"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The explicit ``data_dir``, else ``$MMEB_DATA_DIR``, else None (= use the Hub)."""
    value = data_dir if data_dir not in (None, "") else os.environ.get(DATA_DIR_ENV) or None
    return Path(value).expanduser() if value else None


def parquet_files(root: Path, subset: str, advice: str) -> list[Path]:
    """The subset's test parquet files under ``root``; a clear error (ending in ``advice``) when none."""
    folder = root / subset
    files = sorted(folder.glob(f"{SPLIT}-*.parquet")) if folder.is_dir() else []
    if files:
        return files
    if folder.is_dir():
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        raise DataUnavailableError(f"task {subset}: no {SPLIT}-*.parquet file in {folder} (found: {found}). "
                                   + advice)
    present = sorted(d.name for d in root.iterdir() if d.is_dir() and any(d.glob("*.parquet")))
    close = close_matches(subset, present, cutoff=0.6)
    raise DataUnavailableError(
        f"task {subset}: no folder {folder} (subsets there: {', '.join(present) or 'none'}"
        f"{'; did you mean: ' + ', '.join(close) + '?' if close else ''}). " + advice)


def null_texts(table) -> int:
    """Query and candidate texts stored as null (read as "": no text), counted in arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    count = table.column("qry_text").null_count
    targets = table.column("tgt_text")
    count += targets.null_count
    if pa.types.is_list(targets.type) or pa.types.is_large_list(targets.type):
        count += pc.list_flatten(targets).null_count
    return count


def read_rows(files: list[Path], meta: SubsetSpec, stats: dict | None = None) -> list[QueryRow]:
    """Parse the parquet files into query rows (row_index counts across files). ``stats["null_texts"]``
    receives the number of null texts."""
    import pyarrow.parquet as pq

    rows: list[QueryRow] = []
    nulls = 0
    cache: dict = {}
    for file in files:
        try:
            table = pq.read_table(file)
        except Exception as exc:  # ArrowInvalid, OSError, ...: the file is not readable parquet
            raise DataError(f"task {meta.name}: cannot read {file}: {exc}. The file is corrupt or not parquet; "
                            "delete it and re-download (`mmeb download`).") from exc
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise DataError(f"task {meta.name}: {file} lacks column(s) {', '.join(missing)} (has "
                            f"{', '.join(table.column_names)}). Expected the MMEB-eval columns "
                            f"{', '.join(COLUMNS)}; is this file from another dataset?")
        nulls += null_texts(table)
        columns = [table.column(c).to_pylist() for c in COLUMNS]
        for local, values in enumerate(zip(*columns)):
            index = len(rows)
            where = f"task {meta.name}, row {index}" + (f" (row {local} of {file})" if local != index
                                                        else f" of {file}")
            rows.append(parse_row(*values, query_instruction=meta.query_instruction,
                                  target_instruction=meta.target_instruction, row_index=index, where=where,
                                  cache=cache))
    if not rows:
        raise DataError(f"task {meta.name}: {', '.join(map(str, files))} hold no rows.")
    if stats is not None:
        stats["null_texts"] = nulls
    return rows


def image_paths(files: list[Path]) -> set[str]:
    """Every image path the parquet files name (two columns read, no rows parsed)."""
    import pyarrow.parquet as pq

    paths: set[str] = set()
    for file in files:
        try:
            table = pq.read_table(file, columns=["qry_img_path", "tgt_img_path"])
        except Exception:  # noqa: BLE001 - read_rows reports an unreadable file with the full story
            continue
        paths.update(p for p in table.column("qry_img_path").to_pylist() if isinstance(p, str) and p)
        for entry in table.column("tgt_img_path").to_pylist():
            if isinstance(entry, list):
                paths.update(p for p in entry if isinstance(p, str) and p)
    return paths


def local_fingerprint(root: Path, files: list[Path], task_name: str) -> str:
    """A full-content fingerprint of one task's local data: its parquet files and its images (the whole
    ``images.zip`` when the images come zipped, else every image file the rows name). Memoised per file by
    (path, size, mtime), so a rerun over unchanged data hashes nothing again."""
    archive = root / IMAGES_ARCHIVE
    used = list(files)
    if archive.is_file():
        used.append(archive)
    else:
        store = FolderImageStore(root, task_name=task_name, first_row={}, data_file=str(files[0]))
        for path in sorted(image_paths(files)):
            try:
                found = store.locate(path)
            except DataError:
                found = None  # missing or refused: loading the image reports it
            if found is not None:
                used.append(found)
    return files_fingerprint(root, sorted(set(used)))


def resolve_source(metadata: SubsetSpec, data_dir: str | os.PathLike | None = None, revision: str | None = None,
                   cache_dir: str | os.PathLike | None = None,
                   download_fn: DownloadFn | None = None) -> tuple[Path, list[Path], str, str]:
    """Where a task's data is: (root, parquet files, resolved revision, source label), without parsing it."""
    root = resolve_data_dir(data_dir)
    if root is not None:
        if not root.is_dir():
            raise DataUnavailableError(f"task {metadata.name}: data dir {root} does not exist "
                                       f"(from {'--data-dir' if data_dir else DATA_DIR_ENV}). "
                                       + how_to_provide(metadata.dataset_id))
        files = parquet_files(root, metadata.name, how_to_provide(metadata.dataset_id))
        return root, files, local_fingerprint(root, files, metadata.name), f"local:{root}"
    root, resolved = fetch_subset(metadata.dataset_id, metadata.name, revision or metadata.dataset_revision,
                                  cache_dir=str(cache_dir) if cache_dir else None, download_fn=download_fn)
    files = parquet_files(root, metadata.name, advice=(
        f"Either {metadata.dataset_id}@{resolved} has no subset {metadata.name!r}, or the Hub was unreachable "
        f"and the cached snapshot holds only tasks downloaded earlier: run `mmeb download --tasks "
        f"{metadata.name}` while online, or use --data-dir."))
    return root, files, resolved, f"hub:{root}"


def image_store(root: Path, task_name: str, rows: list[QueryRow], data_file: str):
    """``images.zip`` at the root if present (read in place), else the extracted images under the root."""
    context = dict(task_name=task_name, first_row=first_rows(rows), data_file=data_file)
    archive = root / IMAGES_ARCHIVE
    if archive.is_file():
        return ZipImageStore(archive, **context)
    return FolderImageStore(root, **context)


def load_task_data(metadata: SubsetSpec, data_dir: str | os.PathLike | None = None,
                   revision: str | None = None, cache_dir: str | os.PathLike | None = None,
                   download_fn: DownloadFn | None = None) -> TaskData:
    """Load a task's test split.

    data_dir:    a local copy in the Hub layout (falls back to ``$MMEB_DATA_DIR``); when set, the Hub is
                 never contacted.
    revision:    Hub revision (default ``metadata.dataset_revision``); the resolved commit is recorded.
    cache_dir:   the Hub cache (default: huggingface_hub's).
    download_fn: substitute for ``huggingface_hub.snapshot_download`` (tests).
    """
    root, files, resolved, source = resolve_source(metadata, data_dir, revision, cache_dir, download_fn)
    stats: dict = {}
    rows = read_rows(files, metadata, stats)
    if stats["null_texts"]:
        logging.getLogger("mmeb").warning(
            "task %s: %d null text(s) in %s, read as empty texts (recorded in the result as "
            "dataset.null_texts)", metadata.name, stats["null_texts"], ", ".join(str(f) for f in files))
    return TaskData(task_name=metadata.name, rows=rows,
                    images=image_store(root, metadata.name, rows, str(files[0]) if len(files) == 1 else
                                       str(root / metadata.name)),
                    dataset_id=metadata.dataset_id, revision=resolved, source=source,
                    files=[str(f) for f in files], null_texts=stats["null_texts"])

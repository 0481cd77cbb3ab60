"""Load one MMEB-V2 task: annotation repo(s) + media, parsed into a :class:`PoolTaskData`.

Sources: ``data_dir`` (a local mirror: each source repo as a snapshot under ``<data_dir>/<org>/<name>/``, the
media repo under ``<data_dir>/TIGER-Lab/MMEB-V2/``), else the Hugging Face Hub (the repo snapshot in the Hub
cache at ``metadata.dataset_revision``, the media archives downloaded and extracted under
``$MMEB_V2_MEDIA_DIR`` or ``~/.cache/mmeb/mmeb-v2-media``). A local mirror's revision is a full-content
fingerprint of the task's parquet files and of every frame and image its items read; from the Hub, the
annotation commit plus a fingerprint of those media files (``<commit>+media-<digest>``). The data version
(``v2.1`` by default: the current Hub data, MomentSeeker de-duplicated, the fixed page tasks) picks the repo
where it matters.
"""

from __future__ import annotations

import os
from pathlib import Path

from mmeb.data.loader import resolve_data_dir
from mmeb.data.v2 import archives, layout
from mmeb.data.v2.layout import configs_of
from mmeb.data.v2.build import Context
from mmeb.data.v2.items import PoolTaskData
from mmeb.data.v2.media import PAGE_PREFIX, MediaStore, inside
from mmeb.errors import ConfigError, DataError, DataUnavailableError, MMEBError
from mmeb.tasks.v2.metadata import DATA_VERSIONS, DEFAULT_DATA_VERSION, V2TaskMetadata



def _read(files: list[Path], task: str) -> dict[str, list]:
    import pyarrow.parquet as pq

    try:
        tables = [pq.read_table(f) for f in files]
    except Exception as exc:  # ArrowInvalid, OSError: not parquet or truncated
        raise DataError(f"task {task}: cannot read {', '.join(map(str, files))}: {exc}. Delete the file and "
                        "re-download it (`mmeb download`).") from exc
    columns: dict[str, list] = {}
    for table in tables:
        for name in table.column_names:
            columns.setdefault(name, []).extend(table.column(name).to_pylist())
    return columns


def _rows(columns: dict[str, list]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())] if names else []


def _media_root(root: Path | None, meta: V2TaskMetadata) -> Path | None:
    family = archives.family_of(meta.frame_dirs, meta.modality)
    if family is None or root is None:
        return root
    if root.is_dir():
        archives.ensure_extracted(root, family)
    return root


def load_v2_task(meta: V2TaskMetadata, data_dir: str | os.PathLike | None = None, revision: str | None = None,
                 cache_dir: str | os.PathLike | None = None, download_fn=None,
                 data_version: str | None = None) -> PoolTaskData:
    version = data_version or DEFAULT_DATA_VERSION
    if version not in DATA_VERSIONS:
        raise ConfigError(f"unknown MMEB-V2 data version {version!r}; choose one of {', '.join(DATA_VERSIONS)}")
    repo = meta.repo_for(version)
    configs = configs_of(meta)
    root = resolve_data_dir(data_dir)
    if root is not None:
        repo_root = layout.repo_dir(root, repo)
        if not repo_root.is_dir():
            raise DataUnavailableError(
                f"task {meta.name}: no snapshot of {repo} at {repo_root} (--data-dir {root}). Download it with "
                f"`huggingface-cli download --repo-type dataset {repo} --local-dir {repo_root}` or run "
                f"`mmeb download --tasks MMEB-V2:{meta.name}` while online.")
        media = layout.media_dir(root)
        media_root = _media_root(media if media.is_dir() else None, meta)
        source = f"local:{root}"
    else:
        from mmeb.data.v2.hub import fetch_media, fetch_repo

        repo_root, resolved = fetch_repo(repo, configs, meta.dataset_split, revision or meta.dataset_revision,
                                         meta.name, cache_dir=cache_dir, download_fn=download_fn)
        media_root = fetch_media(meta, cache_dir=cache_dir, download_fn=download_fn)
        source = f"hub:{repo_root}"
    files = {c or layout.DEFAULT_CONFIG_FOLDER: layout.parquet_files(repo_root, repo, c, meta.dataset_split,
                                                                     meta.name) for c in configs}
    all_files = [f for fs in files.values() for f in fs]
    first = {name: str(fs[0]) if len(fs) == 1 else str(fs[0].parent) for name, fs in files.items()}
    # rows of concatenated configs (MVBench) count across the repo: errors name the repo folder
    ctx = Context(meta, media_root, str(repo_root) if meta.dataset_configs else first[next(iter(first))])
    pages = _parse(ctx, meta, files, first)
    if root is not None:
        resolved = _local_fingerprint(root, all_files, media_root, ctx.origin)
    elif media_root is not None and any(not p.startswith(PAGE_PREFIX) for p in ctx.origin):
        # the media repo is read at its current revision: record the content of what the task reads
        resolved = f"{resolved}+{_local_fingerprint(media_root, [], media_root, ctx.origin, prefix='media-')}"
    return PoolTaskData(task_name=meta.name, queries=ctx.queries, pool=ctx.pool.items,
                        images=MediaStore(media_root, meta.name, pages, ctx.origin), dataset_id=repo,
                        revision=resolved, source=source, files=[str(f) for f in all_files], data_version=version,
                        pool_names=ctx.pool.names)


def _local_fingerprint(root: Path, files: list[Path], media_root: Path | None, media: dict[str, str],
                       prefix: str = "local-") -> str:
    """A full-content fingerprint of a task's local data: its parquet files and every media file (frame,
    image) its items read; a file that is missing or links out of the media folder is reported when read."""
    from mmeb.fingerprint import files_fingerprint

    used = list(files)
    if media_root is not None:
        for relative in media:
            path = media_root / relative
            if not relative.startswith(PAGE_PREFIX) and path.is_file() and inside(media_root, path):
                used.append(path)
    return files_fingerprint(root, sorted(set(used)), prefix)


def _parse(ctx: Context, meta: V2TaskMetadata, files: dict[str, list[Path]], first: dict[str, str]):
    from mmeb.data.v2 import parse_image, parse_video, parse_visdoc

    try:
        if meta.modality == "visdoc":
            tables = {name: _read(fs, meta.name) for name, fs in files.items()}
            return parse_visdoc.parse(ctx, tables["queries"], tables["corpus"], tables["qrels"], first)
        rows: list[dict] = []
        for name, fs in files.items():
            part = _rows(_read(fs, meta.name))
            if meta.dataset_configs:  # MVBench: the configs concatenated, each row tagged with its subset
                for row in part:
                    row["subset"] = name
            rows.extend(part)
        if meta.row_limit is not None:
            rows = rows[: meta.row_limit]
        if not rows:
            raise DataError(f"task {meta.name}: {', '.join(first.values())} hold no rows")
        parser = parse_image.parse if meta.modality == "image" else parse_video.PARSERS[meta.parser]
        parser(ctx, rows)
    except MMEBError:
        raise
    except KeyError as exc:
        raise DataError(f"task {meta.name}: a row of {', '.join(first.values())} lacks the column {exc}; is "
                        f"this file from {meta.dataset_id}?") from exc
    except (ValueError, IndexError, TypeError, AttributeError) as exc:  # a value of an unexpected form
        if ctx.row is None or ctx.row >= len(rows):
            raise DataError(f"task {meta.name}: cannot read {', '.join(first.values())} ({type(exc).__name__}: "
                            f"{exc}); is this file from {meta.dataset_id}?") from exc
        values = rows[ctx.row]
        shown = ", ".join(f"{k}={_short(v)}" for k, v in values.items())
        raise ctx.error(ctx.row, f"a value has an unexpected form ({type(exc).__name__}: {exc}); the row holds "
                                 f"{shown}") from exc
    return {}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

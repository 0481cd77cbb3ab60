"""MMEB-V2 data from the Hugging Face Hub: annotation repo snapshots in the Hub cache (only the configs a task
reads), and the media repo's archives, downloaded into the Hub cache and extracted once under
``$MMEB_V2_MEDIA_DIR`` (default ``~/.cache/mmeb/mmeb-v2-media``) in the mirror layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mmeb.data.hub import DownloadFn, _default_download
from mmeb.data.v2 import archives, layout
from mmeb.errors import DataError, DataUnavailableError
from mmeb.tasks.v2.metadata import V2TaskMetadata

MEDIA_DIR_ENV = "MMEB_V2_MEDIA_DIR"
MEDIA_REVISION = "main"


def media_cache() -> Path:
    value = os.environ.get(MEDIA_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "mmeb" / "mmeb-v2-media"


def _download(download_fn: DownloadFn | None, task: str, repo: str, revision: str, patterns: list[str],
              cache_dir) -> Path:
    download = download_fn or _default_download
    try:
        folder = download(repo_id=repo, repo_type="dataset", revision=revision, allow_patterns=patterns,
                          cache_dir=str(cache_dir) if cache_dir else None)
    except Exception as exc:  # offline, not found, HTTP, connection: one clear line
        raise DataUnavailableError(
            f"task {task}: the Hub download of {repo}@{revision} failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}). Run `mmeb download --tasks MMEB-V2:{task}` "
            f"while online, or pass --data-dir with a local mirror (<dir>/{repo}/...).") from exc
    return Path(folder)


def fetch_repo(repo: str, configs, split: str, revision: str, task: str, cache_dir=None,
               download_fn: DownloadFn | None = None) -> tuple[Path, str]:
    """The snapshot folder of ``repo`` holding ``configs`` (None = the default config), and its commit."""
    patterns = ["README.md", *(f"{layout.config_folder(c)}/{split}-*" for c in configs)]
    folder = _download(download_fn, task, repo, revision, patterns, cache_dir)
    return folder, folder.name


def fetch_media(meta: V2TaskMetadata, cache_dir=None, download_fn: DownloadFn | None = None) -> Path | None:
    """The extracted media root for ``meta`` (None for tasks without media files)."""
    family = archives.family_of(meta.frame_dirs, meta.modality)
    if family is None:
        return None
    root = media_cache()
    if archives.is_extracted(root, family):
        return root
    archive = archives.ARCHIVES[family]
    snapshot = _download(download_fn, meta.name, layout.MEDIA_REPO, MEDIA_REVISION, list(archive.parts), cache_dir)
    try:
        for part in archive.parts:  # the archive parts next to where they unpack (the mirror layout)
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            if not (root / part).exists():  # a link to the Hub cache's blob: the archive is not stored twice
                try:
                    os.symlink((snapshot / part).resolve(), root / part)
                except OSError:  # no symlinks here (some Windows setups): a copy
                    shutil.copyfile(snapshot / part, root / part)
        extracted = archives.ensure_extracted(root, family)
    except OSError as exc:
        raise DataError(f"task {meta.name}: cannot write the media of {layout.MEDIA_REPO} into {root} "
                        f"({exc.strerror or exc}: {exc.filename or root}); set ${MEDIA_DIR_ENV} to a folder you "
                        "can write") from exc
    if not extracted:
        raise DataUnavailableError(f"task {meta.name}: {layout.MEDIA_REPO} snapshot {snapshot} lacks "
                                   f"{', '.join(archive.parts)}")
    return root


def download_task(meta: V2TaskMetadata, revision: str | None = None, cache_dir=None,
                  download_fn: DownloadFn | None = None, data_version: str | None = None) -> tuple[Path, str]:
    """Prefetch one task (``mmeb download``): its annotation repo's configs and its media. Returns the
    annotation snapshot folder and its commit."""
    from mmeb.data.v2.layout import configs_of
    from mmeb.tasks.v2.metadata import DEFAULT_DATA_VERSION

    repo = meta.repo_for(data_version or DEFAULT_DATA_VERSION)
    folder, commit = fetch_repo(repo, configs_of(meta), meta.dataset_split, revision or meta.dataset_revision,
                                meta.name, cache_dir=cache_dir, download_fn=download_fn)
    for config in configs_of(meta):
        layout.parquet_files(folder, repo, config, meta.dataset_split, meta.name)  # says what is missing
    fetch_media(meta, cache_dir=cache_dir, download_fn=download_fn)
    return folder, commit

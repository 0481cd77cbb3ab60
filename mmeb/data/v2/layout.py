"""Every path of the MMEB-V2 data, in one place.

Annotation repos (a local mirror, or a Hub snapshot - the same layout, as ``Dataset.push_to_hub`` writes it)::

    <root>/<org>/<name>/data/<split>-00000-of-0000N.parquet        # the default config
    <root>/<org>/<name>/<config>/<split>-00000-of-0000N.parquet    # a named config (queries, corpus, MC, ...)

The media repo ``TIGER-Lab/MMEB-V2`` (mirror: ``<root>/TIGER-Lab/MMEB-V2/``), archives extracted or not::

    image-tasks/<qry_img_path | tgt_img_path>
    video-tasks/frames/<frame dir of the task, any listed spelling>/<video id>/frame_0001.jpg ...

Frames: the image files of a folder (``.jpg``, ``.jpeg``, ``.png``, any case) in natural order (digit runs
compared as numbers, the rest case-insensitively); a task with ``num_frames = N`` takes the indices
``numpy.linspace(0, n - 1, N, dtype=int)`` when it has ``n >= N`` frames and every frame otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mmeb.errors import DataError, DataUnavailableError

MEDIA_REPO = "TIGER-Lab/MMEB-V2"
IMAGE_ROOT = "image-tasks"
FRAMES_ROOT = "video-tasks/frames"
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
DEFAULT_CONFIG_FOLDER = "data"


VISDOC_CONFIGS = ("queries", "corpus", "qrels")


def configs_of(meta) -> tuple[str | None, ...]:
    """The configs a task reads (None = the default one): BEIR's three for visdoc, MVBench's 20, else one."""
    if meta.modality == "visdoc":
        return VISDOC_CONFIGS
    return meta.dataset_configs or (meta.dataset_config,)


def repo_dir(root: Path, repo: str) -> Path:
    return Path(root, *repo.split("/"))


def media_dir(root: Path) -> Path:
    return repo_dir(root, MEDIA_REPO)


def config_folder(config: str | None) -> str:
    return config or DEFAULT_CONFIG_FOLDER


def parquet_files(repo_root: Path, repo: str, config: str | None, split: str, task: str) -> list[Path]:
    """The parquet shards of one config and split; a clear error naming what was looked for."""
    folder = repo_root / config_folder(config)
    files = sorted(folder.glob(f"{split}-*.parquet")) if folder.is_dir() else []
    if files:
        return files
    if folder.is_dir():
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:8]) or "nothing"
        raise DataUnavailableError(f"task {task}: no {split}-*.parquet in {folder} (found: {found}). The snapshot "
                                   f"of {repo} lacks split {split!r}; re-download it (`mmeb download --tasks "
                                   f"MMEB-V2:{task}`).")
    what = f"config {config!r}" if config else "the default config (data/)"
    present = sorted(d.name for d in repo_root.iterdir() if d.is_dir()) if repo_root.is_dir() else []
    raise DataUnavailableError(
        f"task {task}: {what} of {repo} not found: no folder {folder}"
        f"{' (folders there: ' + ', '.join(present) + ')' if present else ''}. Put a snapshot of {repo} at "
        f"{repo_root} (`huggingface-cli download --repo-type dataset {repo} --local-dir {repo_root}`) or run "
        f"`mmeb download --tasks MMEB-V2:{task}`.")


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_frames(folder: Path) -> list[str]:
    """File names of the frames in ``folder``, in natural order."""
    names = [e.name for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(FRAME_EXTENSIONS)]
    return sorted(names, key=_natural_key)


def sample_indices(n: int, num_frames: int | None) -> list[int]:
    """The frames a video contributes: linspace(0, n-1, num_frames) truncated to int, or all when fewer (or
    when ``num_frames`` is None: MomentSeeker uses every stored frame)."""
    if num_frames is None or n <= num_frames:
        return list(range(n))
    import numpy as np

    return [int(i) for i in np.linspace(0, n - 1, num_frames, dtype=int)]


def find_folder(base: Path, spellings: tuple[str, ...], relative: str) -> Path | None:
    """``base/<spelling>/<relative>`` for the first spelling where it exists."""
    for spelling in spellings:
        candidate = base / spelling / relative if relative else base / spelling
        if candidate.is_dir():
            return candidate
    return None


def frame_folder_error(task: str, where: str, base: Path, spellings: tuple[str, ...], relative: str) -> DataError:
    looked = ", ".join(str(base / s / relative) for s in dict.fromkeys(spellings))
    return DataError(f"task {task}, {where}: frame folder {relative!r} not found (looked in {looked}). Extract the "
                     f"media archives of {MEDIA_REPO} there (`mmeb download --tasks MMEB-V2:{task}`) or check "
                     "--data-dir.")

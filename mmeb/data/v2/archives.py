"""The media archives of ``TIGER-Lab/MMEB-V2`` and how they unpack (the official download script's rules):

=====================================================  =========================================================
archive (path in the repo)                             unpacks to (relative to the repo root)
=====================================================  =========================================================
``image-tasks/mmeb_v1.tar.gz``                         ``image-tasks/`` (its top folder ``MMEB/`` moved up)
``video-tasks/frames/video_cls.tar.gz``                ``video-tasks/frames/video_cls/``
``video-tasks/frames/video_ret.tar.gz``                ``video-tasks/frames/video_ret/``
``video-tasks/frames/video_mret.tar.gz``               ``video-tasks/frames/`` (creates ``video_mret/``)
``video-tasks/frames/video_qa.tar.gz-00`` .. ``-04``   ``video-tasks/frames/`` (parts concatenated; ``video_qa/``)
=====================================================  =========================================================

A mirror may hold the archives, the extracted folders, or both. An archive whose folder is missing is extracted
once, next to it (a ``.mmeb-extracted-<name>`` marker records completion, a ``.mmeb-extracting-<name>`` marker
left behind by an extraction that stopped half-way makes the next run extract again); members that would land
outside the target are refused.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from mmeb.errors import DataError


@dataclass(frozen=True)
class Archive:
    family: str  # the top folder a task's media live in (video_cls, video_ret, ..., image-tasks)
    parts: tuple[str, ...]  # repo paths, concatenated in order
    target: str  # where it unpacks (repo-relative)
    strip: str = ""  # a leading folder removed from every member


ARCHIVES: dict[str, Archive] = {
    "image-tasks": Archive("image-tasks", ("image-tasks/mmeb_v1.tar.gz",), "image-tasks", strip="MMEB/"),
    "video_cls": Archive("video_cls", ("video-tasks/frames/video_cls.tar.gz",), "video-tasks/frames/video_cls"),
    "video_ret": Archive("video_ret", ("video-tasks/frames/video_ret.tar.gz",), "video-tasks/frames/video_ret"),
    "video_mret": Archive("video_mret", ("video-tasks/frames/video_mret.tar.gz",), "video-tasks/frames"),
    "video_qa": Archive("video_qa", tuple(f"video-tasks/frames/video_qa.tar.gz-{i:02d}" for i in range(5)),
                        "video-tasks/frames"),
}


def family_of(frame_dirs: tuple[str, ...], modality: str) -> str | None:
    """Which archive a task's media come from (None: no media, e.g. visdoc pages live in the corpus)."""
    if modality == "image":
        return "image-tasks"
    return frame_dirs[0].split("/", 1)[0] if frame_dirs else None


def extracted_folder(root: Path, family: str) -> Path:
    return root / "image-tasks" if family == "image-tasks" else root / "video-tasks/frames" / family


class _Concatenated(io.RawIOBase):
    """Several files read as one stream (the split ``video_qa.tar.gz-0N`` parts)."""

    def __init__(self, paths: list[Path]):
        self.paths, self.handle = list(paths), None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self.handle is None:
                if not self.paths:
                    return 0
                self.handle = open(self.paths.pop(0), "rb")
            n = self.handle.readinto(buffer)
            if n:
                return n
            self.handle.close()
            self.handle = None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        super().close()


def _in_progress(root: Path, family: str) -> Path:
    """Present while mmeb extracts ``family``: a folder left with it was cut short and is extracted again."""
    return root / ARCHIVES[family].target / f".mmeb-extracting-{family}"


def is_extracted(root: Path, family: str) -> bool:
    """Extracted by mmeb (the marker), or by hand: the folder holds something besides the archive itself;
    never a folder whose extraction by mmeb stopped half-way."""
    archive = ARCHIVES[family]
    if _in_progress(root, family).exists():
        return False
    if (root / archive.target / f".mmeb-extracted-{family}").is_file():
        return True
    folder = extracted_folder(root, family)
    names = {Path(p).name for p in archive.parts}
    return folder.is_dir() and any(not p.name.startswith(".") and p.name not in names for p in folder.iterdir())


def ensure_extracted(root: Path, family: str) -> bool:
    """Extract ``family``'s archive under ``root`` if its folder is missing and the archive is there.
    Returns True when the folder exists afterwards. Processes that start together (torchrun ranks) take turns
    on a lock file; the later ones find the folder extracted."""
    archive = ARCHIVES[family]
    if is_extracted(root, family):
        return True
    parts = [root / p for p in archive.parts]
    if not all(p.is_file() for p in parts):
        return False
    target = (root / archive.target).resolve()
    try:
        target.mkdir(parents=True, exist_ok=True)
        with open(target / f".mmeb-extract-{family}.lock", "w") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except ImportError:  # no flock (Windows): one process at a time is the user's job
                pass
            if is_extracted(root, family):
                return True
            _in_progress(root, family).write_text("extraction by mmeb under way or cut short\n", encoding="utf-8")
            _extract(parts, target, archive)
            _in_progress(root, family).unlink()
    except OSError as exc:  # a read-only mirror, a file in the way
        raise DataError(f"cannot extract {', '.join(map(str, parts))} into {target} ({exc.strerror or exc}: "
                        f"{exc.filename or target}); extract the archive there by hand (the official download "
                        "script's layout) or use a copy of the mirror you can write") from exc
    return True


def _extract(parts: list[Path], target: Path, archive: Archive) -> None:
    stream = io.BufferedReader(_Concatenated(parts), buffer_size=1 << 20)
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if archive.strip and name.startswith(archive.strip):
                    name = name[len(archive.strip):]
                if not name or not (member.isfile() or member.isdir()):
                    continue
                dest = (target / name).resolve()
                if target not in dest.parents and dest != target:
                    raise DataError(f"archive {parts[0]}: member {member.name!r} would land outside {target}; "
                                    "refusing to extract it")
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with open(dest, "wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot extract {', '.join(map(str, parts))}: {exc}. The archive is incomplete or "
                        "damaged; re-download it (`mmeb download`).") from exc
    finally:
        stream.close()
    (target / f".mmeb-extracted-{archive.family}").write_text("extracted by mmeb\n", encoding="utf-8")

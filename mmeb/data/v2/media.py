"""Reads the images, video frames and document pages of one MMEB-V2 task by the paths its items hold.

Paths are relative to the media root (``image-tasks/...``, ``video-tasks/frames/...``); corpus pages live in
the ``corpus`` parquet, not on disk, and are held here as bytes under ``corpus/<corpus-id>``. Picklable (the
page bytes travel with it), thread-safe (read-only). Errors name the task, the first row using the file and
the file.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from mmeb.data.images import ImageNotFoundError, _normalise, decode_image
from mmeb.errors import DataError

PAGE_PREFIX = "corpus/"


def inside(root: Path, file: Path) -> bool:
    """Whether ``file`` resolves inside ``root`` (a missing file does): a symlink that leaves the media folder
    cannot make mmeb read, score and hash a file elsewhere on the machine."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(file))
    return real == real_root or real_root in real.parents


def page_path(corpus_id) -> str:
    return f"{PAGE_PREFIX}{corpus_id}"


class MediaStore:
    def __init__(self, root: Path | str | None, task_name: str, pages: dict[str, bytes] | None = None,
                 origin: dict[str, str] | None = None):
        self.root = Path(root) if root is not None else None
        self.task_name = task_name
        self.pages = pages or {}
        self.origin = origin or {}  # path -> "row N of <file>" (the first use), for error messages

    @property
    def location(self) -> str:
        # a task's corpus pages share their paths (corpus/<id>) with other tasks' pages: the task is part of it
        if self.pages:
            return f"corpus of {self.task_name}" + (f" + media folder {self.root}" if self.root is not None else "")
        return f"media folder {self.root}"

    def stamp(self, path: str) -> str | None:
        """A file's size, mtime, change time and inode (one stat); a page's length and CRC-32 (already in
        memory). Lets the engine know a frame or page is unchanged without reading it again (warm reruns)."""
        page = self.pages.get(path)
        if page is not None:
            return f"page:{len(page)}:{zlib.crc32(page):08x}"
        try:
            st = self._file(path).stat()
        except (DataError, OSError):  # missing, or refused: reading it says why
            return None
        return f"file:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"  # ctime: see FolderImageStore

    def origin_of(self, path: str) -> str | None:
        """The first row that uses ``path`` ("row N of <file>"), when known."""
        return self.origin.get(path)

    def where(self, path: str) -> str:
        origin = self.origin.get(path)
        return f"task {self.task_name}" + (f", {origin}" if origin else "")

    def _file(self, path: str) -> Path:
        if self.root is None:
            raise ImageNotFoundError(f"{self.where(path)}: {path!r} needs the media repo, but no media folder "
                                     "was found; provide it with --data-dir.")
        file = self.root / _normalise(path)
        if not inside(self.root, file):
            raise DataError(f"{self.where(path)}: {path!r} is a symlink to {os.path.realpath(file)}, outside the "
                            f"media folder {os.path.realpath(self.root)}; refused. Copy the file into the media "
                            "folder or link the whole media folder instead.")
        return file

    def __contains__(self, path: str) -> bool:
        if path in self.pages:
            return True
        try:
            return self._file(path).is_file()
        except DataError:
            return False

    def read_bytes(self, path: str) -> bytes:
        page = self.pages.get(path)
        if page is not None:
            return page
        if path.startswith(PAGE_PREFIX):
            raise ImageNotFoundError(f"{self.where(path)}: page {path!r} is not in the corpus")
        file = self._file(path)
        try:
            return file.read_bytes()
        except FileNotFoundError:
            raise ImageNotFoundError(f"{self.where(path)}: file {file} not found. Extract the media archives of "
                                     "TIGER-Lab/MMEB-V2 (`mmeb download`) or check --data-dir.") from None
        except OSError as exc:
            raise DataError(f"{self.where(path)}: cannot read {file}: {exc}") from exc

    def open(self, path: str):
        data = self.read_bytes(path)
        try:
            return decode_image(data)
        except Exception as exc:  # PIL raises UnidentifiedImageError, OSError, SyntaxError, ...
            what = f"corpus page {path[len(PAGE_PREFIX):]!r}" if path in self.pages else f"image {self._file(path)}"
            raise DataError(f"{self.where(path)}: cannot decode {what}: {exc}. The file is corrupt or not an "
                            "image; re-download the data (`mmeb download`).") from exc

    def __repr__(self) -> str:
        return f"MediaStore({str(self.root)!r}, pages={len(self.pages)})"

"""Image stores: read MMEB images by their relative path from ``images.zip`` (in place, never extracted) or
from an extracted folder. Members may sit under one top-level folder (``eval_images/<path>``) or not.

Stores are picklable (DataLoader workers): the zip handle is opened lazily, once per process. Errors name
the image path, the archive / folder, the task and the first row that uses the image.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mmeb.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from PIL import Image

    from mmeb.data.items import QueryRow, TaskData


class ImageNotFoundError(DataError, KeyError):
    """An image path used by the data is not in the archive / folder."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def _normalise(path: str) -> str:
    """A relative POSIX path; refuses absolute paths and ``..`` so data cannot read outside its root."""
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not path:
        raise ImageNotFoundError(f"invalid image path {path!r}: must be relative and stay inside the image root")
    return str(p)


def decode_image(data: bytes) -> "Image.Image":
    """Decode to RGB. The format comes from the bytes (a PNG named .jpg is fine)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.convert("RGB")


class _BaseStore:
    """Shared error context: which task uses the store and the first row that needs each image."""

    def __init__(self, task_name: str = "", first_row: dict[str, int] | None = None, data_file: str = ""):
        self.task_name = task_name
        self.first_row = first_row or {}
        self.data_file = data_file

    def where(self, path: str) -> str:
        parts = []
        if self.task_name:
            parts.append(f"task {self.task_name}")
        if path in self.first_row:
            parts.append(f"row {self.first_row[path]}")
        if self.data_file:
            parts.append(f"file {self.data_file}")
        return f" ({', '.join(parts)})" if parts else ""

    def read_bytes(self, path: str) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def open(self, path: str) -> "Image.Image":
        data = self.read_bytes(path)
        try:
            return decode_image(data)
        except Exception as exc:  # PIL raises UnidentifiedImageError, OSError, SyntaxError, ...
            raise DataError(f"cannot decode image {path!r} from {self.location}{self.where(path)}: {exc}. "
                            "The file is corrupt or not an image; re-download the images "
                            "(`mmeb download`).") from exc

    @property
    def location(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class ZipImageStore(_BaseStore):
    """Images read in place from a zip archive (``images.zip``)."""

    def __init__(self, zip_path: str | os.PathLike, **context):
        super().__init__(**context)
        self.zip_path = str(zip_path)
        self._zip: zipfile.ZipFile | None = None
        self._pid: int | None = None
        self._top: str | None = None  # the single top-level folder of all members, "" if none
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_zip=None, _pid=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return f"archive {self.zip_path}"

    def _archive(self) -> zipfile.ZipFile:
        # one handle per process: a handle inherited through fork would share its file offset
        if self._zip is None or self._pid != os.getpid():
            try:
                self._zip = zipfile.ZipFile(self.zip_path)
            except (OSError, zipfile.BadZipFile) as exc:
                raise DataError(f"cannot open image archive {self.zip_path}{self.where('')}: {exc}. "
                                "Re-download it (`mmeb download`).") from exc
            self._pid = os.getpid()
            # archives made on macOS carry a __MACOSX/ folder of resource forks next to the real one
            names = [n for n in self._zip.namelist() if not n.startswith("__MACOSX/")]
            tops = {n.split("/", 1)[0] for n in names if "/" in n}
            loose = any("/" not in n for n in names)
            self._top = tops.pop() if len(tops) == 1 and not loose else ""
        return self._zip

    def _member(self, path: str) -> str | None:
        archive = self._archive()
        rel = _normalise(path)
        for name in (rel, f"{self._top}/{rel}") if self._top else (rel,):
            try:
                archive.getinfo(name)
                return name
            except KeyError:
                continue
        return None

    def __contains__(self, path: str) -> bool:
        try:
            return self._member(path) is not None
        except ImageNotFoundError:
            return False

    def read_bytes(self, path: str) -> bytes:
        member = self._member(path)
        if member is None:
            hint = f" or {self._top}/{path}" if self._top else ""
            raise ImageNotFoundError(f"image {path!r} is not in {self.location} (looked for {path}{hint})"
                                     f"{self.where(path)}. The archive is incomplete or belongs to another "
                                     "dataset revision; re-download it (`mmeb download`).")
        try:
            with self._lock:  # threads share one handle (and its file position) per process
                return self._archive().read(member)
        except (OSError, zipfile.BadZipFile) as exc:  # CRC mismatch, truncated archive
            raise DataError(f"cannot read image {path!r} from {self.location}{self.where(path)}: {exc}. The "
                            "archive is damaged; re-download it (`mmeb download`).") from exc

    def __repr__(self) -> str:
        return f"ZipImageStore({self.zip_path!r})"


class FolderImageStore(_BaseStore):
    """Images read from an extracted folder: ``root/<path>`` or ``root/<one subfolder>/<path>``."""

    def __init__(self, root: str | os.PathLike, **context):
        super().__init__(**context)
        self.root = str(root)
        self._prefix: str | None = None  # the subfolder that held the last image found

    @property
    def location(self) -> str:
        return f"folder {self.root}"

    def _file(self, path: str) -> Path | None:
        rel = _normalise(path)
        root = Path(self.root)
        tried = [self._prefix] if self._prefix is not None else []
        for prefix in tried + [""]:
            f = root / prefix / rel
            if f.is_file():
                return f
        try:
            subdirs = sorted(d.name for d in root.iterdir() if d.is_dir())
        except OSError:
            return None
        for sub in subdirs:
            f = root / sub / rel
            if f.is_file():
                self._prefix = sub
                return f
        return None

    def __contains__(self, path: str) -> bool:
        try:
            return self._file(path) is not None
        except ImageNotFoundError:
            return False

    def read_bytes(self, path: str) -> bytes:
        f = self._file(path)
        if f is None:
            raise ImageNotFoundError(f"image {path!r} is not in {self.location} (looked for {self.root}/{path} "
                                     f"and {self.root}/<subfolder>/{path}){self.where(path)}. Extract "
                                     "images.zip there or point --data-dir at the right folder.")
        return f.read_bytes()

    def __repr__(self) -> str:
        return f"FolderImageStore({self.root!r})"


def first_rows(rows: "Iterable[QueryRow]") -> dict[str, int]:
    """Every image path the rows use -> the first row (``row_index``) that uses it."""
    first: dict[str, int] = {}
    seen: set[int] = set()  # ids of candidates looked at already (the loader shares repeated candidates)
    for row in rows:
        if row.query.image_path:
            first.setdefault(row.query.image_path, row.row_index)
        ids = set(map(id, row.candidates))
        if not ids <= seen:
            for item in row.candidates:
                if item.image_path:
                    first.setdefault(item.image_path, row.row_index)
            seen |= ids
    return first


def check_images(data: "TaskData", decode: bool = False) -> int:
    """Check up front that every image the task uses exists (and decodes, if ``decode``).

    Raises a :class:`DataError` naming the first bad image, its row, the file and the archive, with the
    number of missing images. Returns the number of distinct images checked.
    """
    paths = first_rows(data.rows)
    if not paths:
        return 0
    store = data.images
    if store is None:
        path, row = next(iter(paths.items()))
        raise DataError(f"task {data.task_name}: row {row} uses image {path!r} but the data has no image store "
                        f"({data.source}); provide images.zip or the extracted images next to the parquet files.")
    missing = [p for p in paths if p not in store]
    if missing:
        first = missing[0]
        raise ImageNotFoundError(
            f"task {data.task_name}: {len(missing)} of {len(paths)} images are missing from "
            f"{getattr(store, 'location', store)}; first: {first!r} used by row {paths[first]} of "
            f"{', '.join(data.files) or data.source}. Re-download the images (`mmeb download`) or check --data-dir.")
    if decode:
        for p in paths:
            store.open(p)
    return len(paths)

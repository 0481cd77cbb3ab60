"""Image stores: read MMEB images by their relative path from ``images.zip`` (in place, never extracted) or
from an extracted folder. Members may sit under one top-level folder (``eval_images/<path>``) or not.

Stores are picklable (DataLoader workers): the zip handle is opened lazily, once per process. Errors name
the image path, the archive / folder, the task and the first row that uses the image.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import zipfile
import zlib
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
    """Decode in the file's own mode (P, RGBA, L, ...): each recipe converts where its official code did.
    The format comes from the bytes (a PNG named .jpg is fine)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img


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
    """Images read in place from a zip archive (``images.zip``, or a training subset's zip).

    Thread-safe without a lock: the central directory is parsed once per process, and each member's bytes are
    read with ``os.pread`` at its recorded offset (no shared file position), so worker threads read in
    parallel. The member's CRC-32 is checked on every read.

    ``strip_top``: how a stored path maps to a member - ``"single"`` (evaluation images): the path itself, or
    under the archive's single top-level folder; ``"any"`` (training zips): also under any one top folder, or
    the path without its own first folder.
    """

    def __init__(self, zip_path: str | os.PathLike, *, strip_top: str = "single", **context):
        super().__init__(**context)
        self.zip_path = str(zip_path)
        self.strip_top = strip_top
        self._zip: zipfile.ZipFile | None = None
        self._pid: int | None = None
        self._fd: int | None = None
        self._stat = ""  # size and mtime of the archive when its directory was read
        self._top: str | None = None  # the single top-level folder of all members, "" if none
        self._aliases: dict[str, str] = {}  # "any" mode: member name without its first folder -> member
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_zip=None, _pid=None, _fd=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None and getattr(self, "_pid", None) == os.getpid():
            try:
                os.close(fd)
            except OSError:
                pass

    @property
    def location(self) -> str:
        return f"archive {self.zip_path}"

    def _archive(self) -> zipfile.ZipFile:
        # one directory per process: a handle inherited through fork would share its file offset
        if self._zip is None or self._pid != os.getpid():
            with self._lock:
                if self._zip is None or self._pid != os.getpid():
                    self._open()
        return self._zip  # type: ignore[return-value]

    def _open(self) -> None:
        try:
            archive = zipfile.ZipFile(self.zip_path)
            st = os.stat(self.zip_path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise DataError(f"cannot open image archive {self.zip_path}{self.where('')}: {exc}. "
                            "Re-download it (`mmeb download`).") from exc
        # archives made on macOS carry a __MACOSX/ folder of resource forks next to the real one
        names = [n for n in archive.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
        tops = {n.split("/", 1)[0] for n in names if "/" in n}
        loose = any("/" not in n for n in names)
        self._top = tops.pop() if len(tops) == 1 and not loose else ""
        if self.strip_top == "any":
            aliases: dict[str, str] = {}
            for name in names:
                if "/" in name:
                    aliases.setdefault(name.split("/", 1)[1], name)
            self._aliases = aliases
        self._stat = f"{st.st_size}:{st.st_mtime_ns}"
        self._fd = None
        self._zip, self._pid = archive, os.getpid()

    def _member(self, path: str) -> zipfile.ZipInfo | None:
        archive = self._archive()
        rel = _normalise(path)
        names = [rel, f"{self._top}/{rel}"] if self._top else [rel]
        if self.strip_top == "any":
            inner = rel.split("/", 1)[1] if "/" in rel else ""
            names += [self._aliases.get(rel, ""), inner, self._aliases.get(inner, "") if inner else ""]
        for name in names:
            if name:
                try:
                    return archive.getinfo(name)
                except KeyError:
                    continue
        return None

    def __contains__(self, path: str) -> bool:
        try:
            return self._member(path) is not None
        except ImageNotFoundError:
            return False

    def stamp(self, path: str) -> str | None:
        """Archive size + mtime and the member's CRC-32, size and offset, from the central directory (no image
        bytes read). Equal stamps mean the same bytes unless the archive was rewritten in place with its old
        size and mtime and a colliding CRC - the (size, mtime) rule the weights fingerprint memo uses too."""
        try:
            info = self._member(path)
        except ImageNotFoundError:
            return None
        if info is None:
            return None
        return f"zip:{self._stat}:{info.CRC:08x}:{info.file_size}:{info.header_offset}"

    def read_bytes(self, path: str) -> bytes:
        info = self._member(path)
        if info is None:
            hint = f" or {self._top}/{path}" if self._top else ""
            raise ImageNotFoundError(f"image {path!r} is not in {self.location} (looked for {path}{hint})"
                                     f"{self.where(path)}. The archive is incomplete or belongs to another "
                                     "dataset revision; re-download it (`mmeb download`).")
        try:
            data = self._pread(info)
            if data is None:  # encrypted or an unusual compression: the zipfile module, one reader at a time
                with self._lock:
                    data = self._archive().read(info)
            elif zlib.crc32(data) != info.CRC:
                raise zipfile.BadZipFile(f"bad CRC-32 for file {info.filename!r}")
            return data
        except (OSError, zipfile.BadZipFile, zlib.error, struct.error) as exc:  # CRC mismatch, truncated archive
            raise DataError(f"cannot read image {path!r} from {self.location}{self.where(path)}: {exc}. The "
                            "archive is damaged; re-download it (`mmeb download`).") from exc

    def _pread(self, info: zipfile.ZipInfo) -> bytes | None:
        if not hasattr(os, "pread") or info.flag_bits & 0x1 or info.compress_type not in (
                zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        if self._fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.zip_path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        header = os.pread(self._fd, 30, info.header_offset)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        raw = os.pread(self._fd, info.compress_size, info.header_offset + 30 + name_len + extra_len)
        if len(raw) != info.compress_size:
            raise zipfile.BadZipFile(f"truncated member {info.filename!r}")
        return raw if info.compress_type == zipfile.ZIP_STORED else zlib.decompress(raw, -15)

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
                return self._inside(f, path)
        try:
            subdirs = sorted(d.name for d in root.iterdir() if d.is_dir())
        except OSError:
            return None
        for sub in subdirs:
            f = root / sub / rel
            if f.is_file():
                self._prefix = sub
                return self._inside(f, path)
        return None

    def _inside(self, file: Path, path: str) -> Path:
        """``file`` if it resolves inside the data root: a symlink that leaves it is refused, so data cannot
        make mmeb read (and score, and hash) files elsewhere on the machine."""
        real_root = Path(os.path.realpath(self.root))
        allowed = [real_root]
        if Path(self.root).parent.name == "snapshots":  # a Hub cache snapshot links into its repo's blobs/
            allowed.append(Path(os.path.realpath(Path(self.root).parent.parent)))
        real = Path(os.path.realpath(file))
        if not any(real == a or a in real.parents for a in allowed):
            raise DataError(f"image {path!r} in {self.location} is a symlink to {real}, outside the data root "
                            f"{real_root}{self.where(path)}; refused. Copy the image into the data folder "
                            "or link the whole data folder instead.")
        return file

    def locate(self, path: str) -> Path | None:
        """The file of an image path (None when absent); DataError for an invalid or escaping path."""
        return self._file(path)

    def __contains__(self, path: str) -> bool:
        try:
            return self._file(path) is not None
        except DataError:
            return False

    def read_bytes(self, path: str) -> bytes:
        f = self._file(path)
        if f is None:
            raise ImageNotFoundError(f"image {path!r} is not in {self.location} (looked for {self.root}/{path} "
                                     f"and {self.root}/<subfolder>/{path}){self.where(path)}. Extract "
                                     "images.zip there or point --data-dir at the right folder.")
        return f.read_bytes()

    def stamp(self, path: str) -> str | None:
        """Size, mtime, change time and inode of the file (one stat, no image bytes read). The change time
        catches a rewrite that put the old size and mtime back (cp -p, rsync -t, utime): no tool sets it."""
        try:
            f = self._file(path)
            st = f.stat() if f is not None else None
        except (ImageNotFoundError, OSError):
            return None
        return None if st is None else f"file:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"

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

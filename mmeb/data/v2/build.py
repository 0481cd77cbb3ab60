"""Shared pieces of the MMEB-V2 parsers: the candidate pool (first occurrence of each official name wins, as in
the official ``generate_cand_dataset``), the official string assembly, and frame / image lookup with errors
that name the task, the row and the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mmeb.data.items import Item
from mmeb.data.v2 import layout
from mmeb.data.v2.items import RankedQuery
from mmeb.errors import DataError
from mmeb.tasks.v2.metadata import V2TaskMetadata

VIDEO_TOKEN = "<|video_pad|>"
IMAGE_TOKEN = "<|image_pad|>"


def official_string(instruction: str, text: str = "", *, video: bool = False, image: bool = False) -> str:
    """The VLM2Vec-V2 string (``process_input_text``): the instruction, `` " " + text`` when there is a payload,
    one visual token and a space in front when the input has a video or an image."""
    out = instruction + (" " + text if text else "")
    if video:
        out = f"{VIDEO_TOKEN} {out}"
    if image:
        out = f"{IMAGE_TOKEN} {out}"
    return out


class Pool:
    """The deduplicated candidates of a task, by official name."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.names: list = []
        self.index: dict = {}

    def add(self, name, make: Callable[[], Item]) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.items)
            self.items.append(make())
            self.names.append(name)
        return found


class Context:
    """What a parser needs besides the rows: the task, where the media live, and error locations."""

    def __init__(self, meta: V2TaskMetadata, media_root: Path | None, data_file: str):
        self.meta, self.media_root, self.data_file = meta, media_root, data_file
        self.origin: dict[str, str] = {}  # media path -> its first use (error messages of the media store)
        self.pool = Pool()
        self.queries: list[RankedQuery] = []
        self._folders: dict[str, tuple[str, ...]] = {}
        self.row: int | None = None  # the row being parsed (errors the parsers do not anticipate name it)

    def each(self, rows: list[dict]):
        """``enumerate(rows)``, remembering the current row."""
        for self.row, values in enumerate(rows):
            yield self.row, values

    def where(self, row: int, file: str | None = None) -> str:
        return f"row {row} of {file or self.data_file}"

    def error(self, row: int, message: str, file: str | None = None) -> DataError:
        return DataError(f"task {self.meta.name}, {self.where(row, file)}: {message}")

    # -- media ----------------------------------------------------------------------------------------------

    def _frames_base(self) -> Path:
        if self.media_root is None:
            raise DataError(f"task {self.meta.name}: needs the frame folders of {layout.MEDIA_REPO}, but no media "
                            "folder was found; run `mmeb download` or check --data-dir.")
        return self.media_root / layout.FRAMES_ROOT

    def folder(self, relative: str, row: int, spellings: tuple[str, ...] | None = None) -> Path:
        spellings = spellings or self.meta.frame_dirs
        base = self._frames_base()
        found = layout.find_folder(base, spellings, relative)
        if found is None:
            raise layout.frame_folder_error(self.meta.name, self.where(row), base, spellings, relative)
        return found

    def frames(self, relative: str, row: int, num_frames: int | None = -1,
               spellings: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """The sampled frames of one video folder, as media-root-relative paths."""
        folder = self.folder(relative, row, spellings)
        return self.frames_in(folder, row, self.meta.num_frames if num_frames == -1 else num_frames)

    def frames_in(self, folder: Path, row: int, num_frames: int | None) -> tuple[str, ...]:
        key = f"{folder}|{num_frames}"
        cached = self._folders.get(key)
        if cached is not None:
            return cached
        names = layout.list_frames(folder)
        if not names:
            raise self.error(row, f"frame folder {folder} holds no frames (.jpg, .jpeg or .png files); "
                                  "re-extract the media archive")
        prefix = folder.relative_to(self.media_root).as_posix()
        picked = tuple(f"{prefix}/{names[i]}" for i in layout.sample_indices(len(names), num_frames))
        for path in picked:
            self.origin.setdefault(path, self.where(row))
        self._folders[key] = picked
        return picked

    def image(self, relative: str, row: int) -> str:
        """A media-root-relative image path (the file is checked when it is read)."""
        if not relative:
            raise self.error(row, "empty image path")
        self.origin.setdefault(relative, self.where(row))
        return relative

    # -- queries --------------------------------------------------------------------------------------------

    def add_query(self, row: int, query: Item, positives: list, candidates: list | None,
                  grades: list[float] | None = None, file: str | None = None) -> None:
        """One query: ``positives`` and ``candidates`` are official names (candidates None = the whole pool)."""
        index = self.pool.index
        relevance: dict[int, float] = {}
        for name, grade in zip(positives, grades or [1.0] * len(positives)):
            pid = index.get(name)
            if pid is not None:
                relevance[pid] = max(relevance.get(pid, 0.0), float(grade))
        local = None
        if candidates is not None:
            local = list(dict.fromkeys(index[name] for name in candidates))
            members = set(local)
            relevance = {pid: g for pid, g in relevance.items() if pid in members}
        if not relevance:
            shown = ", ".join(repr(p) for p in list(positives)[:3]) or "none"
            raise self.error(row, f"the query has no positive among its candidates (label: {shown}); every query "
                                  "needs at least one - the data is incomplete or from another version", file)
        self.queries.append(RankedQuery(query=query, relevance=relevance, candidates=local, row_index=row,
                                        label_ids=tuple(dict.fromkeys(positives))))

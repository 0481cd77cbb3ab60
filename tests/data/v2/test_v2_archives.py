"""Media archives: an extraction that stops half-way is never taken for a complete media folder."""

import io
import random
import tarfile

import pytest

from mmeb.data.v2 import archives
from mmeb.errors import DataError


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_an_interrupted_extraction_is_redone_not_trusted(tmp_path):
    rng = random.Random(0)  # incompressible frames: half the archive holds about half of them
    frames = {f"UCF101/v1/frame_{i:04d}.jpg": rng.randbytes(5000) for i in range(1, 9)}
    whole = _tar(frames)
    archive = tmp_path / "video-tasks/frames/video_cls.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(whole[: len(whole) // 2])  # a download cut short: the first frames only
    with pytest.raises(DataError, match="incomplete or damaged"):
        archives.ensure_extracted(tmp_path, "video_cls")
    archive.write_bytes(whole)  # the complete archive, re-downloaded
    assert archives.ensure_extracted(tmp_path, "video_cls")
    folder = tmp_path / "video-tasks/frames/video_cls/UCF101/v1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(n.split("/")[-1] for n in frames)


def test_a_folder_extracted_by_hand_is_used_as_it_is(tmp_path):
    folder = tmp_path / "video-tasks/frames/video_cls/UCF101/v1"
    folder.mkdir(parents=True)
    (folder / "frame_0001.jpg").write_bytes(b"x")
    assert archives.ensure_extracted(tmp_path, "video_cls")  # no archive needed


def test_an_archive_that_cannot_be_extracted_there_is_one_clear_line(tmp_path):
    archive = tmp_path / "video-tasks/frames/video_cls.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(_tar({"UCF101/v1/frame_0001.jpg": b"x"}))
    blocker = tmp_path / "video-tasks/frames/video_cls"
    blocker.write_text("a file where the folder should be")  # as a read-only mirror, writing fails
    with pytest.raises(DataError) as err:
        archives.ensure_extracted(tmp_path, "video_cls")
    assert str(archive) in str(err.value) and "by hand" in str(err.value)

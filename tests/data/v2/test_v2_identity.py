"""What an MMEB-V2 task's local data is: a full-content fingerprint of its annotation files and of every media
file it reads (frames, images), as for MMEB-V1; a REVISION file cannot pin a label over the content."""

import os

import pytest

from mmeb.tasks import get_task
from mmeb.testing.mirror_v2 import write_v2_mirror

MEDIA = "TIGER-Lab/MMEB-V2"


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    return write_v2_mirror(tmp_path / "d", ["K700", "CIRR"])


def _load(task, root):
    return get_task(f"MMEB-V2:{task}").load(data_dir=str(root))


def _flip_last_byte(path):
    stamp = path.stat().st_mtime_ns
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, other content
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))


@pytest.mark.parametrize("task", ["K700", "CIRR"])
def test_changing_one_media_file_the_task_reads_changes_its_revision(mirror, task):
    before = _load(task, mirror)
    item = before.queries[0].query
    media = item.frames[0] if item.frames else item.image_path
    _flip_last_byte(mirror / MEDIA / media)
    assert _load(task, mirror).revision != before.revision


def test_a_revision_file_cannot_pin_a_label_over_the_content(mirror):
    before = _load("K700", mirror).revision
    (mirror / "VLM2Vec/Kinetics-700/REVISION").write_text("abc123\n")
    assert _load("K700", mirror).revision == before


def test_a_frame_symlinked_out_of_the_media_root_is_refused(mirror, tmp_path):
    from mmeb.errors import DataError

    data = _load("K700", mirror)
    frame = data.queries[0].query.frames[0]
    target = mirror / MEDIA / frame
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(secret)
    store = _load("K700", mirror).images
    with pytest.raises(DataError) as err:
        store.read_bytes(frame)
    assert "outside" in str(err.value) and "K700" in str(err.value) and frame in str(err.value)


def test_a_media_repo_linked_as_a_whole_is_fine(mirror, tmp_path):
    media = mirror / MEDIA
    elsewhere = tmp_path / "big-disk" / "MMEB-V2"
    elsewhere.parent.mkdir()
    media.rename(elsewhere)
    media.symlink_to(elsewhere, target_is_directory=True)
    data = _load("K700", mirror)
    frame = data.queries[0].query.frames[0]
    assert data.images.read_bytes(frame) == (elsewhere / frame).read_bytes()

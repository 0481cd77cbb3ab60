"""MMEB-V2 from the Hub (a stand-in for snapshot_download serving a synthetic mirror): only the configs a task
reads and the archives it needs are requested, the media are extracted once, the commit is recorded."""

import argparse
import fnmatch
import shutil
from pathlib import Path

import pytest

from mmeb.tasks import get_task
from mmeb.testing.mirror_v2 import write_v2_mirror

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, mirror: Path, root: Path):
        self.mirror, self.root, self.calls = mirror, root, []

    def __call__(self, *, repo_id, repo_type, revision, allow_patterns, cache_dir=None, **_):
        self.calls.append((repo_id, revision, tuple(allow_patterns)))
        source = self.mirror / repo_id
        if not source.is_dir():
            raise OSError(f"404 {repo_id}")
        snapshot = self.root / repo_id.replace("/", "--") / COMMIT
        for path in source.rglob("*"):
            rel = path.relative_to(source).as_posix()
            if path.is_file() and any(fnmatch.fnmatch(rel, p) for p in allow_patterns):
                (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, snapshot / rel)
        return str(snapshot)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    mirror = write_v2_mirror(tmp_path / "mirror", ["EgoSchema", "ViDoRe_tabfquad"], media="archives")
    monkeypatch.setenv("MMEB_V2_MEDIA_DIR", str(tmp_path / "media"))
    return FakeHub(mirror, tmp_path / "hub")


def test_loads_from_the_hub_and_records_the_commit(hub, tmp_path):
    data = get_task("MMEB-V2:EgoSchema").load(download_fn=hub)
    assert data.revision.startswith(COMMIT) and data.source.startswith("hub:")
    reference = get_task("MMEB-V2:EgoSchema").load(data_dir=str(hub.mirror))
    assert [q.query.raw_text for q in data.queries] == [q.query.raw_text for q in reference.queries]
    assert [len(q.query.frames) for q in data.queries] == [len(q.query.frames) for q in reference.queries]
    repos = {call[0]: call[2] for call in hub.calls}
    assert repos["VLM2Vec/EgoSchema"] == ("README.md", "Subset/test-*")  # only the config it reads
    assert set(repos["TIGER-Lab/MMEB-V2"]) == {f"video-tasks/frames/video_qa.tar.gz-{i:02d}" for i in range(5)}
    assert (tmp_path / "media/video-tasks/frames/video_qa/EgoSchema").is_dir()  # extracted once
    calls = len(hub.calls)
    get_task("MMEB-V2:EgoSchema").load(download_fn=hub)
    assert [c[0] for c in hub.calls[calls:]] == ["VLM2Vec/EgoSchema"]  # media already there


def test_visdoc_needs_no_media(hub):
    data = get_task("MMEB-V2:ViDoRe_tabfquad").load(download_fn=hub)
    assert [c[0] for c in hub.calls] == ["vidore/tabfquad_test_subsampled_beir"]
    assert set(hub.calls[0][2]) == {"README.md", "queries/test-*", "corpus/test-*", "qrels/test-*"}
    assert data.revision == COMMIT


def test_mmeb_download_fetches_v2_tasks(hub, capsys):
    from mmeb.cli.download import run

    args = argparse.Namespace(tasks=["MMEB-V2:EgoSchema", "MMEB-V2:ViDoRe_tabfquad"], revision=None, cache_dir=None,
                              data_version=None)
    assert run(args, download_fn=hub) == 0
    out = capsys.readouterr().out
    assert f"MMEB-V2:EgoSchema\t{COMMIT}" in out and f"MMEB-V2:ViDoRe_tabfquad\t{COMMIT}" in out


def test_hub_failure_is_one_clear_line(hub):
    from mmeb.errors import DataUnavailableError

    with pytest.raises(DataUnavailableError, match=r"task MSVD: the Hub download of VLM2Vec/MSVD@main failed .*"
                                                   r"mmeb download --tasks MMEB-V2:MSVD"):
        get_task("MMEB-V2:MSVD").load(download_fn=hub)


def test_the_media_content_is_part_of_the_recorded_revision(hub, tmp_path, monkeypatch):
    """The media repo is read at its current revision (no commit to pin in the Hub cache's extraction): the
    content of the frames a task reads is recorded next to the annotation commit, so changed media never let
    a stored result be reused."""
    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    before = get_task("MMEB-V2:EgoSchema").load(download_fn=hub)
    assert before.revision.startswith(COMMIT + "+media-")
    frame = tmp_path / "media" / before.queries[0].query.frames[0]
    stamp = frame.stat().st_mtime_ns
    frame.write_bytes(frame.read_bytes()[:-1] + bytes([frame.read_bytes()[-1] ^ 0xFF]))
    import os

    os.utime(frame, ns=(stamp + 10**9, stamp + 10**9))
    after = get_task("MMEB-V2:EgoSchema").load(download_fn=hub)
    assert after.revision.startswith(COMMIT + "+media-") and after.revision != before.revision


def test_a_media_folder_that_cannot_be_written_is_one_clear_line(hub, tmp_path, monkeypatch):
    from mmeb.errors import DataError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MMEB_V2_MEDIA_DIR", str(blocker))
    with pytest.raises(DataError) as err:
        get_task("MMEB-V2:EgoSchema").load(download_fn=hub)
    assert "EgoSchema" in str(err.value) and str(blocker) in str(err.value) and "MMEB_V2_MEDIA_DIR" in str(err.value)

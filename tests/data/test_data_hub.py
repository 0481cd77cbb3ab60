"""Loading from the Hub, with the download substituted or against a pre-filled Hub cache (never the network)."""

import argparse
import socket
from pathlib import Path

import pytest

from mmeb.cli import download as download_cli
from mmeb.data.hub import fetch_subset, hub_reachable
from mmeb.testing.mirror import write_mirror
from mmeb.errors import DataUnavailableError
from mmeb.tasks import get_task

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Stands in for snapshot_download: records each call, serves a mirror as snapshot ``COMMIT``."""

    def __init__(self, root: Path, tasks: list[str]):
        self.snapshot = write_mirror(root / "snapshots" / COMMIT, tasks, n_queries=4)
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> str:
        self.calls.append(kwargs)
        return str(self.snapshot)


def test_hub_load_requests_only_the_subset_and_images_and_records_the_commit(tmp_path):
    hub = FakeHub(tmp_path, ["CIRR"])
    data = get_task("CIRR").load(download_fn=hub, revision="v1.0", cache_dir=tmp_path / "cache")
    assert hub.calls == [dict(repo_id="TIGER-Lab/MMEB-eval", repo_type="dataset", revision="v1.0",
                              allow_patterns=["CIRR/*", "images.zip"], cache_dir=str(tmp_path / "cache"))]
    assert data.revision == COMMIT and data.source == f"hub:{hub.snapshot}" and len(data) == 4
    assert data.images.open(data.rows[0].candidates[0].image_path).mode == "RGB"


def test_hub_load_defaults_to_the_pinned_revision(tmp_path):
    hub = FakeHub(tmp_path, ["NIGHTS"])
    get_task("NIGHTS").load(download_fn=hub)
    assert hub.calls[0]["revision"] == get_task("NIGHTS").metadata.dataset_revision
    assert hub.calls[0]["cache_dir"] is None


def test_a_data_dir_never_contacts_the_hub(tmp_path):
    hub = FakeHub(tmp_path, ["NIGHTS"])
    get_task("NIGHTS").load(data_dir=hub.snapshot, download_fn=hub)
    assert hub.calls == []


def test_failed_download_says_where_it_looked_and_how_to_provide_data(tmp_path, monkeypatch):
    monkeypatch.delenv("MMEB_DATA_DIR", raising=False)

    def offline(**kwargs):
        raise OSError("Name or service not known")

    with pytest.raises(DataUnavailableError) as error:
        get_task("EDIS").load(download_fn=offline, cache_dir=tmp_path)
    message = str(error.value)
    for part in ("task EDIS", "TIGER-Lab/MMEB-eval@main", "Name or service not known", str(tmp_path),
                 "--data-dir", "MMEB_DATA_DIR", "mmeb download"):
        assert part in message, part


def test_real_hub_client_reads_a_prefilled_cache_offline(tmp_path):
    # the layout huggingface_hub itself keeps: refs/<branch> -> commit, snapshots/<commit>/<files>
    repo = tmp_path / "datasets--TIGER-Lab--MMEB-eval"
    write_mirror(repo / "snapshots" / COMMIT, ["OK-VQA"], n_queries=3)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    data = get_task("OK-VQA").load(cache_dir=tmp_path)  # HF_HUB_OFFLINE=1 (tests/conftest.py)
    assert data.revision == COMMIT and len(data) == 3
    with pytest.raises(DataUnavailableError, match=r"task N24News: no folder .*run `mmeb download --tasks "
                                                   r"N24News` while online"):
        get_task("N24News").load(cache_dir=tmp_path)  # a task the cache never got


def test_real_hub_client_fails_fast_with_an_empty_cache(tmp_path):
    with pytest.raises(DataUnavailableError, match=r"task OK-VQA: no local data .*HF_HUB_OFFLINE"):
        get_task("OK-VQA").load(cache_dir=tmp_path)


def test_reachability_probe_is_false_for_a_closed_port(monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as s:  # bind then close: nothing listens on this port afterwards
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert hub_reachable(f"http://127.0.0.1:{port}", timeout=2) is False
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert hub_reachable("http://127.0.0.1:1") is False


def test_fetch_subset_returns_snapshot_and_commit(tmp_path):
    hub = FakeHub(tmp_path, ["MSCOCO"])
    folder, commit = fetch_subset("TIGER-Lab/MMEB-eval", "MSCOCO", "main", download_fn=hub)
    assert folder == hub.snapshot and commit == COMMIT


def test_download_command_fetches_each_selected_task(tmp_path, capsys):
    hub = FakeHub(tmp_path, ["RefCOCO", "RefCOCO-Matching"])
    args = argparse.Namespace(tasks=["refcoco", "RefCOCO-Matching"], revision="r2", cache_dir=str(tmp_path))
    assert download_cli.run(args, download_fn=hub) == 0
    assert [c["allow_patterns"][0] for c in hub.calls] == ["RefCOCO/*", "RefCOCO-Matching/*"]
    assert {c["revision"] for c in hub.calls} == {"r2"}
    assert capsys.readouterr().out.splitlines()[0].split("\t")[:2] == ["RefCOCO", COMMIT]


def test_download_command_reports_a_subset_missing_at_that_revision(tmp_path):
    hub = FakeHub(tmp_path, ["RefCOCO"])
    args = argparse.Namespace(tasks=["VisDial"], revision=None, cache_dir=None)
    with pytest.raises(DataUnavailableError, match=f"task VisDial: TIGER-Lab/MMEB-eval@{COMMIT} has no folder"):
        download_cli.run(args, download_fn=hub)

"""Fetching MMEB-eval subsets from the Hugging Face Hub into the user cache.

Only the task's subset folder and ``images.zip`` are requested. The resolved commit is the snapshot folder
name, recorded as the data revision. When the Hub cannot be reached and nothing is cached, this fails fast
(a TCP probe with a short timeout decides between a real download and the local cache).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from mmeb.errors import DataUnavailableError

IMAGES_ARCHIVE = "images.zip"
#: seconds before a metadata request to the Hub gives up (then the local cache is used)
HUB_TIMEOUT_S = 10.0

DownloadFn = Callable[..., str]


def allow_patterns(subset: str) -> list[str]:
    """The files one task needs: its parquet folder and the shared image archive."""
    return [f"{subset}/*", IMAGES_ARCHIVE]


def hub_reachable(endpoint: str | None = None, timeout: float = HUB_TIMEOUT_S) -> bool:
    """Can a TCP connection to the Hub be opened within ``timeout``? (False when HF_HUB_OFFLINE is set.)

    huggingface_hub's metadata requests have no timeout of their own, so on a network that drops packets
    a download could wait for minutes; this probe makes "no network" fail in seconds. Behind a proxy the
    probe is skipped (a direct connection may be blocked while the proxy works).
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(endpoint or constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _default_download(**kwargs) -> str:
    from huggingface_hub import constants, snapshot_download

    if hub_reachable():
        return snapshot_download(etag_timeout=HUB_TIMEOUT_S, **kwargs)
    try:  # offline: a cached snapshot is still fine
        return snapshot_download(local_files_only=True, **kwargs)
    except Exception as exc:
        raise OSError(f"{constants.ENDPOINT} is not reachable (HF_HUB_OFFLINE set or no connection within "
                      f"{HUB_TIMEOUT_S:g} s) and no cached snapshot matches") from exc


def default_cache_dir() -> str:
    """Where the Hub cache lives (``HF_HUB_CACHE`` / ``HF_HOME`` respected)."""
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def how_to_provide(dataset_id: str) -> str:
    return (f"Provide the data with `--data-dir DIR` (or the MMEB_DATA_DIR environment variable) pointing at a "
            f"copy of {dataset_id} in its Hub layout (<Subset>/test-*.parquet + images.zip), or prefetch it "
            f"while online with `mmeb download --tasks <names>`.")


def fetch_subset(dataset_id: str, subset: str, revision: str, cache_dir: str | None = None,
                 download_fn: DownloadFn | None = None) -> tuple[Path, str]:
    """Download (or find in the cache) one subset. Returns (snapshot folder, resolved commit)."""
    download = download_fn or _default_download
    try:
        folder = download(repo_id=dataset_id, repo_type="dataset", revision=revision,
                          allow_patterns=allow_patterns(subset), cache_dir=cache_dir)
    except Exception as exc:  # huggingface_hub raises many types: offline, not found, HTTP, connection
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        looked = cache_dir or default_cache_dir()
        raise DataUnavailableError(
            f"task {subset}: no local data and the Hub download of {dataset_id}@{revision} failed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
            f"{' - HF_HUB_OFFLINE is set' if offline else ''}. Looked in: the Hub cache {looked} (no --data-dir "
            f"/ MMEB_DATA_DIR was given). " + how_to_provide(dataset_id)) from exc
    folder = Path(folder)
    return folder, folder.name

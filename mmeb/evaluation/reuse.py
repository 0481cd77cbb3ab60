"""Deciding what a run can reuse: the scoring key of each task, and the model identity a load request gives.

A stored result is reused only when its recorded scoring key (:mod:`mmeb.results.key`) equals the one this
run would record. The key needs the model's identity, which is only certain after loading the model; a
*load request* (the spec, the load options, the device type, the mmeb version and a full-content fingerprint
of every local file or folder the request names) is stable when it pins everything the identity depends
on. The store remembers which identity each stable request produced, so a rerun in which every selected
task is done decides that without loading the model. A Hub id or registered name pinned to a branch
(``main``) is never stable: the branch may have moved, so the model is loaded to resolve it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import mmeb
from mmeb.fingerprint import file_digests, folder_fingerprint
from mmeb.results import key as keys

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_MMEB_ROOT = Path(mmeb.__file__).resolve().parent


def code_sha256(model: Any) -> str | None:
    """sha256 of the source file that defines ``model``'s class, for models defined outside mmeb (plug-ins);
    None for mmeb's own adapters (their code is versioned with mmeb). A plug-in behind mmeb's ``--model-arg``
    proxy is looked through: its own code is what scores."""
    from mmeb.models.plugin import WithModelArgs

    while isinstance(model, WithModelArgs):
        model = model._model
    module = sys.modules.get(type(model).__module__)
    source = getattr(module, "__file__", None)
    if not source:
        return None
    path = Path(source).resolve()
    if not path.is_file() or _MMEB_ROOT in path.parents:
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _path_fingerprint(value: str) -> str | None:
    try:
        path = Path(value).expanduser()
        if path.is_dir():
            return folder_fingerprint(path)
        if path.is_file():
            return "file-" + file_digests([path])[path]
    except (OSError, ValueError):
        return None
    return None


def _plugin_source(spec: str) -> str | None:
    """sha256 of a plug-in spec's source file (``file.py:Class`` or ``package.module:factory``)."""
    target = spec.rpartition(":")[0]
    if target.endswith(".py") or "/" in target or "\\" in target:
        return _path_fingerprint(target)
    try:
        found = importlib.util.find_spec(target)
    except (ImportError, ValueError):
        return None
    return _path_fingerprint(found.origin) if found is not None and found.origin else None


def source_fingerprints(spec: Any, load_kwargs: dict) -> dict | None:
    """Full-content fingerprints of what a load request names: the model folder (or the plug-in's source
    file, or the pinned Hub commit) and every file or folder given as a load option (weights, recipes).
    None when the source is not pinned (a Python object, a Hub id at a branch)."""
    if not isinstance(spec, str):
        return None
    from mmeb.models.plugin import is_plugin_spec

    pinned: dict[str, Any] = {}
    target = spec.removeprefix("st:")
    if is_plugin_spec(spec):
        pinned["source"] = _plugin_source(spec)
    elif Path(target).expanduser().exists():
        pinned["source"] = _path_fingerprint(target)
    else:  # a registered name or a Hub id: pinned only at an explicit commit
        revision = load_kwargs.get("revision") or _registry_revision(spec)
        pinned["source"] = revision if isinstance(revision, str) and _COMMIT.match(revision) else None
    if not pinned["source"]:
        return None
    for name, value in sorted(load_kwargs.items()):  # a weights file or recipe named by path
        if isinstance(value, str) and value and _path_fingerprint(value):
            pinned[f"file:{name}"] = _path_fingerprint(value)
    return pinned


def load_request(spec: Any, device_type: str, load_kwargs: dict, preprocess: str = "reference") -> str | None:
    """A digest of everything that decides what loading ``spec`` gives, or None when that is not pinned.
    ``preprocess`` is part of it: the engine sets it on the loaded model, and it enters the model's settings.
    A plug-in is never pinned: its factory may read any file (weights, configs) that the spec does not name,
    so it is always called and its identity taken from what it returns."""
    from mmeb.models.plugin import is_plugin_spec

    if not isinstance(spec, str) or is_plugin_spec(spec):
        return None
    pinned = source_fingerprints(spec, load_kwargs)
    if pinned is None:
        return None
    try:
        return keys.digest({"spec": spec, "options": load_kwargs, "device": device_type, "pinned": pinned,
                            "preprocess": preprocess, "mmeb": mmeb.__version__}, 32)
    except (TypeError, ValueError):  # options that are not plain JSON: never remembered
        return None


def _registry_revision(spec: str) -> str | None:
    try:
        from mmeb.models import registry

        entry = registry.find_entry(spec)
    except Exception:  # noqa: BLE001 - an unusable registry only means "load to find out"
        return None
    return getattr(entry, "revision", None) if entry is not None else None


def location_for(store, identity: dict, evaluation: dict):
    """The folder of this configuration: ``<revision>`` for the default evaluation settings unless another
    configuration already lives there, else ``<revision>+<configuration>``. Returns (location, config)."""
    config = keys.configuration(identity, evaluation)
    if keys.is_default(evaluation):
        default = store.location(identity["name"], identity["revision"])
        meta = store.read_model_meta(default)
        if meta is None or meta.get("configuration") in (None, config):
            return default, config
    return store.location(identity["name"], identity["revision"], config), config


def reusable(store, location, task_name: str, wanted: dict, benchmark: str | None = None) -> tuple[Any, str | None]:
    """(stored result, None) when the stored result of ``task_name`` has the wanted key, else
    (None, why it is recomputed) - the reason is None when there was nothing to reuse."""
    stored = store.read_complete(location.result(task_name, benchmark))
    if stored is None:
        return None, None
    recorded = stored.scoring_key.model_dump() if stored.scoring_key is not None else None
    why = keys.explain_mismatch(recorded, wanted)
    return (stored, None) if why is None else (None, why)

"""Plug-in models: ``path/to/file.py:ClassName`` or ``package.module:factory``, called with no arguments.

This is how a user evaluates their own model without registering it: any object with
``encode(inputs, **context)`` (see :mod:`mmeb.models.protocol`) will do.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, UnknownNameError


def is_plugin_spec(spec: str) -> bool:
    """True for ``something:attr`` specs that are not another loader's prefix (``st:``) or a URL."""
    if ":" not in spec or spec.startswith("st:") or "://" in spec:
        return False
    target, _, attr = spec.rpartition(":")
    return bool(target) and attr.isidentifier()


def load_plugin(spec: str) -> Any:
    """Import the module or file named before the last ``:`` and call the attribute after it."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise ConfigError(
            f"plug-in spec {spec!r} must look like 'path/to/file.py:ClassName' or 'package.module:factory'"
        )
    module = _import_file(target, spec) if _looks_like_file(target) else _import_module(target, spec)

    factory = getattr(module, attr, None)
    if factory is None:
        public = [name for name in vars(module) if not name.startswith("_")]
        close = difflib.get_close_matches(attr, public, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"plug-in {spec!r}: {target!r} has no attribute {attr!r}.{hint}")
    if not callable(factory):
        raise ConfigError(f"plug-in {spec!r}: {attr!r} is a {type(factory).__name__}, not a class or factory")
    try:
        model = factory()
    except TypeError as exc:
        raise ConfigError(
            f"plug-in {spec!r}: calling {attr}() with no arguments failed ({exc}); "
            "give a class or factory that needs no arguments"
        ) from exc
    if not callable(getattr(model, "encode", None)):
        raise ConfigError(
            f"plug-in {spec!r} returned a {type(model).__name__} without an encode(inputs, **context) method; "
            "see mmeb.models.protocol for the model protocol"
        )
    return model


def _looks_like_file(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _import_file(target: str, spec: str):
    path = Path(target).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"plug-in {spec!r}: file {str(path)!r} does not exist")
    # a stable, unique module name per file lets DataLoader workers and pickling find the module again
    name = f"mmeb_plugin_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"plug-in {spec!r}: cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def _import_module(target: str, spec: str):
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"plug-in {spec!r}: module {target!r} not found ({exc}); install it or give a file path 'file.py:Class'"
        ) from exc

"""Plug-in models: ``path/to/file.py:ClassName`` or ``package.module:factory``, called with the keyword
arguments given as ``model_args`` (CLI: ``--model-arg key=value``, values parsed as YAML).

This is how a user evaluates their own model without registering it: any object with
``encode(inputs, **context)`` (see :mod:`mmeb.models.protocol`) will do. The arguments are recorded in the
model's ``settings`` as ``model_args`` (so two runs with different arguments never share a result).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, UnknownNameError, did_you_mean


def is_plugin_spec(spec: str) -> bool:
    """True for ``something:attr`` specs that are not another loader's prefix (``st:``) or a URL."""
    if ":" not in spec or spec.startswith("st:") or "://" in spec:
        return False
    target, _, attr = spec.rpartition(":")
    return bool(target) and attr.isidentifier()


def load_plugin(spec: str, model_args: dict[str, Any] | None = None) -> Any:
    """Import the module or file named before the last ``:`` and call the attribute after it with
    ``**model_args``."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise ConfigError(
            f"plug-in spec {spec!r} must look like 'path/to/file.py:ClassName' or 'package.module:factory'"
        )
    module = _import_file(target, spec) if _looks_like_file(target) else _import_module(target, spec)

    factory = getattr(module, attr, None)
    if factory is None:
        public = [name for name in vars(module) if not name.startswith("_")]
        raise UnknownNameError(f"plug-in {spec!r}: {target!r} has no attribute {attr!r}.{did_you_mean(attr, public)}")
    if not callable(factory):
        raise ConfigError(f"plug-in {spec!r}: {attr!r} is a {type(factory).__name__}, not a class or factory")
    args = dict(model_args or {})
    try:
        model = factory(**args)
    except TypeError as exc:
        given = ", ".join(f"{k}={v!r}" for k, v in args.items()) or "no arguments"
        raise ConfigError(f"plug-in {spec!r}: calling {attr}({given}) failed ({exc}); "
                          "pass the arguments it needs with --model-arg key=value (Python: model_args={...})"
                          ) from exc
    if not callable(getattr(model, "encode", None)):
        raise ConfigError(
            f"plug-in {spec!r} returned a {type(model).__name__} without an encode(inputs, **context) method; "
            "see mmeb.models.protocol for the model protocol"
        )
    return record_model_args(model, args) if args else model


def record_model_args(model: Any, args: dict[str, Any]) -> Any:
    """Put the arguments into the model's recorded ``settings``: on the object itself when its ``settings``
    is a plain attribute, else through a thin proxy that adds them to whatever the model reports."""
    settings = getattr(model, "settings", None)
    merged = {**(settings if isinstance(settings, dict) else {}), "model_args": args}
    if not isinstance(getattr(type(model), "settings", None), property):
        try:
            model.settings = merged
            return model
        except AttributeError:  # __slots__ or a read-only attribute
            pass
    return WithModelArgs(model, args)


class WithModelArgs:
    """Forwards everything to the plug-in; ``settings`` gains ``model_args``, ``name`` stays the plug-in's."""

    def __init__(self, model: Any, args: dict[str, Any]):
        self._model, self._args = model, args

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__") or item in ("_model", "_args"):  # unpickling: attributes not set yet
            raise AttributeError(item)
        return getattr(self._model, item)

    @property
    def name(self) -> str:
        return getattr(self._model, "name", None) or type(self._model).__name__

    @property
    def settings(self) -> dict[str, Any]:
        settings = getattr(self._model, "settings", None)
        return {**(settings if isinstance(settings, dict) else {}), "model_args": self._args}

    def encode(self, inputs, **context):
        return self._model.encode(inputs, **context)

    def to(self, device):
        move = getattr(self._model, "to", None)
        if callable(move):
            self._model = move(device) or self._model
        return self


def parse_model_args(pairs: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` -> dict, each value parsed as YAML by :func:`mmeb.yaml_values.parse_value` (``3``
    is an int, ``[1, 2]`` a list, ``true`` a bool, ``a b`` a string; tags and invalid YAML are refused)."""
    from mmeb.yaml_values import parse_value

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"--model-arg {pair!r}: expected key=value with a Python identifier as key "
                              "(e.g. --model-arg dim=512)")
        if key in out:
            raise ConfigError(f"--model-arg {key!r} given twice; give each argument once")
        out[key] = parse_value(raw, f"--model-arg {key}") if raw.strip() else ""
    return out


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

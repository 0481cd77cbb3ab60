"""Resolving a model spec to an adapter: device, dtype, attention implementation, revision, PEFT merge.

Spec resolution (first match wins):
  1. a registered short name (``mmeb models``)         -> that entry's adapter and recipe
  2. ``st:<hub id or dir>``                           -> sentence-transformers adapter
  3. a local directory (docs/checkpoint-format.md)    -> mmeb_model.json | adapter_config.json | modules.json | config.json
  4. any other spec containing ":"                    -> plug-in (``file.py:Class``, ``pkg.mod:factory``)
  5. ``org/name``                                     -> Hub snapshot, then as a directory
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, suggest
from mmeb.models.runtime import check_dtype, hub_snapshot, local_revision, refuse_remote_code, resolve_device

def load_model(spec: str, *, device: str | None = None, dtype: str | None = None, trust_remote_code: bool = False,
               revision: str | None = None, **settings: Any):
    """Load any supported model as an mmeb adapter (see the module docstring for spec forms).

    device:   "cuda" / "cpu" / None (= cuda when available).
    dtype:    None = bf16 on GPU, fp32 on CPU; or "float32" / "bfloat16" / "float16".
    revision: Hub revision (default: the registry's pin, else "main"); the resolved commit is recorded.
    settings: recipe overrides (e.g. ``image_resize=[336, 336]``, ``orphan_image_token="drop"``);
              unknown names are refused. Every override is recorded in the adapter's ``settings``.
    """
    from mmeb.models import registry

    device = resolve_device(device)
    ctx = dict(device=device, dtype=check_dtype(dtype), trust_remote_code=trust_remote_code)
    entry = registry.find_entry(spec)
    if entry is not None:
        return _load_entry(entry, revision=revision, settings=settings, **ctx)
    if spec.startswith("st:"):
        from mmeb.models.sentence_transformers import load_sentence_transformer

        return load_sentence_transformer(spec[3:], revision=revision, settings=settings, **ctx)
    path = Path(spec).expanduser()
    if path.is_dir():
        return load_directory(path, name=path.resolve().name, revision=local_revision(path), settings=settings, **ctx)
    if ":" in spec:
        from mmeb.models.plugin import load_plugin

        return load_plugin(spec)
    if spec.count("/") == 1 and not path.exists():
        local, commit = hub_snapshot(spec, revision)
        return load_directory(local, name=spec, revision=commit, settings=settings,
                              metadata={"hub_id": spec}, **ctx)
    raise suggest(spec, [e.name for e in registry.list_models()], "model")


def _load_entry(entry, *, revision, settings, device, dtype, trust_remote_code):
    if entry.remote_code and not trust_remote_code:
        raise refuse_remote_code(f"model {entry.name!r} ({entry.hub_id})")
    merged = {**entry.settings, **settings}
    if entry.adapter == "openclip":
        from mmeb.models.openclip import load_openclip

        return load_openclip(entry, revision=revision or entry.revision, settings=merged, device=device, dtype=dtype)
    local, commit = hub_snapshot(entry.hub_id, revision or entry.revision)
    return load_directory(local, name=entry.name, revision=commit, settings=merged, metadata=entry.metadata(),
                          adapter=entry.adapter, base_model=entry.base_model, device=device, dtype=dtype,
                          trust_remote_code=trust_remote_code)


def load_directory(directory: Path, *, name: str, revision: str | None, settings: dict[str, Any], device: str,
                   dtype: str | None, trust_remote_code: bool, metadata: dict | None = None,
                   adapter: str | None = None, base_model: str | None = None):
    """Apply the checkpoint-format rules to one directory (see docs/checkpoint-format.md)."""
    from mmeb.models import adapters

    directory = Path(directory)
    meta = {"source": str(directory), **(metadata or {})}
    settings = dict(settings)
    common = dict(name=name, revision=revision, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                  attn_implementation=settings.pop("attn_implementation", None))
    if adapter in ("e5v", "gme", "clip", "siglip", "blip", "blip2"):  # a registry entry names its recipe
        return adapters.build_from_config(directory, adapter=adapter, settings=settings, metadata=meta, **common)
    if (directory / "mmeb_model.json").exists():
        from mmeb.models.vlm2vec import VLM2VecRecipe

        recipe = adapters.override_recipe(VLM2VecRecipe.load(directory), settings, directory)
        return adapters.build_vlm2vec(directory, recipe, metadata=meta, **common)
    if (directory / "adapter_config.json").exists():
        return adapters.build_from_peft(directory, adapter=adapter, base_model=base_model, settings=settings,
                                        metadata=meta, **common)
    if (directory / "modules.json").exists():
        from mmeb.models.sentence_transformers import load_sentence_transformer

        return load_sentence_transformer(str(directory), revision=revision, settings=settings, device=device,
                                         dtype=dtype, trust_remote_code=trust_remote_code)
    if (directory / "config.json").exists():
        return adapters.build_from_config(directory, adapter=adapter, settings=settings, metadata=meta, **common)
    raise ConfigError(f"{directory} is not a model directory: no mmeb_model.json, adapter_config.json, "
                      "modules.json or config.json (see docs/checkpoint-format.md)")

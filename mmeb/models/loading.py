"""Resolving a model spec to an adapter of the table in :mod:`mmeb.models.adapters`.

Spec resolution (first match wins):
  1. a registered short name (``mmeb models``)      -> that entry's adapter and recipe (``<name>-native``: its
                                                       native variant); ``weights=DIR`` loads the files from DIR
  2. ``st:<hub id or dir>``                        -> sentence-transformers adapter
  3. ``mteb:<name>``                               -> a model of MTEB's registry through MTEB's own wrapper
  4. a local directory (docs/checkpoint-format.md) -> mmeb_model.json | adapter_config.json | modules.json |
                                                       open_clip_config.json | config.json (by model_type)
  5. any other spec containing ":"                 -> plug-in (``file.py:Class``, ``pkg.mod:factory``)
  6. ``org/name``                                  -> Hub snapshot, then as a directory

Local folders (``weights=DIR``, checkpoint directories, local ``st:`` folders) are recorded with a full-content
fingerprint of every file (:func:`mmeb.fingerprint.folder_fingerprint`) as their revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, suggest
from mmeb.fingerprint import folder_fingerprint
from mmeb.models import adapters
from mmeb.models.adapters import Adapter, LoadContext
from mmeb.models.runtime import (DTYPES, attention_implementation, check_dtype, default_dtype,  # noqa: F401
                                 hub_snapshot, read_config, refuse_remote_code, resolve_device)

NATIVE_SUFFIX = "-native"
#: the files a layout loads from a Hub repo that also holds other formats (OpenCLIP repos carry transformers weights)
_HUB_FILES = {"open_clip": ["open_clip_*", "*.json", "*.txt"]}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.txt", "vocab.json",
                    "preprocessor_config.json", "processor_config.json")


def load_model(spec: str, *, weights: str | Path | None = None, device: str | None = None, dtype: str | None = None,
               trust_remote_code: bool = False, recipe: str = "default", revision: str | None = None,
               model_args: dict[str, Any] | None = None, **settings: Any):
    """Load any supported model as an mmeb adapter (see the module docstring for spec forms).

    weights:    a local folder holding a registered model's files in its Hub layout (air-gapped clusters,
                mirrors); its revision is the folder's full-content fingerprint.
    device:     "cuda" / "cpu" / None (= cuda when available).
    dtype:      None = bf16 on GPU (the recipe's dtype where it has one), fp32 on CPU; or "float32" /
                "bfloat16" / "float16".
    recipe:     "default" (the official code behind the published row) or "native" (the model's own
                conventions, for models that have such a variant; recorded, and named ``<name>-native``).
    revision:   Hub revision (default: the registry's pin, else "main"); the resolved commit is recorded.
    model_args: keyword arguments for a plug-in's class / factory (``file.py:Class``) or for MTEB's
                ``get_model`` (``mteb:<name>``); recorded in the settings as ``model_args``.
    settings:   recipe overrides (e.g. ``image_resize=[336, 336]``); unknown names are refused. Every
                setting is recorded in the adapter's ``settings``.
    """
    from mmeb.models import registry

    device = resolve_device(device)
    dtype = check_dtype(dtype)
    entry, native = registry.find_entry(spec), False
    if entry is None and spec.endswith(NATIVE_SUFFIX):
        entry, native = registry.find_entry(spec[: -len(NATIVE_SUFFIX)]), True
    if entry is not None:
        _refuse_model_args(model_args, f"model {entry.name!r}")
        return _load_entry(entry, weights=weights, recipe="native" if native else recipe, revision=revision,
                           settings=settings, device=device, dtype=dtype, trust_remote_code=trust_remote_code)
    if weights is not None:
        raise ConfigError(f"--weights goes with a registered model name (`mmeb models`); {spec!r} is not one. "
                          f"Pass a checkpoint folder itself as --model DIR.")
    ctx = LoadContext(name=spec, revision=revision, device=device, dtype=dtype, trust_remote_code=trust_remote_code)
    if spec.startswith("st:"):
        _refuse_model_args(model_args, spec)
        local = Path(spec[3:]).expanduser()
        if local.is_dir():
            ctx.name, ctx.revision = f"st:{local.resolve().name}", folder_fingerprint(local)
        return _build(adapters.get_adapter("sentence_transformers"), spec[3:], {**settings, "recipe": recipe}, ctx,
                      spec)
    if spec.startswith("mteb:"):
        return _build(adapters.get_adapter("mteb"), spec[5:],
                      {**settings, "recipe": recipe, **({"model_args": model_args} if model_args else {})}, ctx, spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        _refuse_model_args(model_args, f"checkpoint folder {spec}")
        return load_directory(path, name=path.resolve().name, revision=folder_fingerprint(path),
                              settings={**settings, "recipe": recipe}, device=device, dtype=dtype,
                              trust_remote_code=trust_remote_code)
    if ":" in spec:
        from mmeb.models.plugin import load_plugin

        if settings or recipe != "default":
            raise ConfigError(f"plug-in {spec!r} takes its options as model_args (CLI: --model-arg key=value); "
                              f"got settings {sorted(settings) + (['recipe'] if recipe != 'default' else [])}")
        return load_plugin(spec, model_args)
    if spec.count("/") == 1 and not path.exists():
        _refuse_model_args(model_args, spec)
        local, commit = hub_snapshot(spec, revision)
        return load_directory(local, name=spec, revision=commit, settings={**settings, "recipe": recipe},
                              metadata={"hub_id": spec}, device=device, dtype=dtype,
                              trust_remote_code=trust_remote_code)
    raise suggest(spec, [e.name for e in registry.list_models()], "model")


def _refuse_model_args(model_args: dict | None, what: str) -> None:
    if model_args:
        raise ConfigError(f"{what} takes no model arguments (--model-arg is for plug-ins file.py:Class and "
                          "mteb:<name>); use its named settings instead")


def _load_entry(entry, *, weights, recipe, revision, settings, device, dtype, trust_remote_code):
    adapter = adapters.get_adapter(entry.adapter)
    where = f"model {entry.name!r}"
    variant = adapters.resolve_recipe(adapter, recipe, where)
    name = entry.name + (NATIVE_SUFFIX if variant == "native" != adapter.recipes[0] else "")  # its own row
    if entry.remote_code and not trust_remote_code:
        raise refuse_remote_code(f"{where} ({entry.hub_id})")
    merged = adapters.check_settings(adapter, {**entry.settings, **settings, "recipe": variant}, where)
    metadata = entry.metadata()
    if weights is not None:
        if revision is not None:
            raise ConfigError(f"{where}: --revision names a Hub revision, but --weights {weights} is a local "
                              "folder (its revision is its content fingerprint); drop one of the two")
        folder = Path(weights).expanduser()
        check_weights_folder(folder, adapter, entry)
        source, resolved = folder, folder_fingerprint(folder)
        metadata = {**metadata, "weights": str(folder.resolve())}
    else:
        source, resolved = hub_snapshot(entry.hub_id, revision or entry.revision, _HUB_FILES.get(adapter.layout))
    check_architecture(source, adapter, merged, where=f"{where}, folder {source}", hub_id=entry.hub_id)
    ctx = LoadContext(name=name, revision=resolved, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                      metadata={"source": str(source), **metadata}, base_model=entry.base_model)
    return adapters.build(adapter, source, merged, ctx)


def load_directory(directory: Path, *, name: str, revision: str | None, settings: dict[str, Any], device: str,
                   dtype: str | None, trust_remote_code: bool, metadata: dict | None = None,
                   adapter: str | None = None, base_model: str | None = None):
    """Apply the checkpoint-format rules to one directory (see docs/checkpoint-format.md)."""
    directory = Path(directory)
    chosen = adapters.get_adapter(adapter) if adapter else _adapter_of_folder(directory)
    where = f"checkpoint {directory}"
    merged = adapters.check_settings(chosen, settings, where)
    name += NATIVE_SUFFIX if merged["recipe"] == "native" != chosen.recipes[0] else ""
    check_architecture(directory, chosen, merged, where=where)
    ctx = LoadContext(name=name, revision=revision, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                      metadata={"source": str(directory), **(metadata or {})}, base_model=base_model)
    return adapters.build(chosen, directory, merged, ctx)


def _adapter_of_folder(directory: Path) -> Adapter:
    if (directory / "mmeb_model.json").exists() or (directory / "adapter_config.json").exists():
        return adapters.get_adapter("vlm2vec")
    if (directory / "modules.json").exists():
        return adapters.get_adapter("sentence_transformers")
    if (directory / "open_clip_config.json").exists():
        return adapters.get_adapter("openclip")
    if (directory / "config.json").exists():
        from mmeb.models.runtime import model_type_of

        return adapters.adapter_for_model_type(model_type_of(directory), str(directory))
    raise ConfigError(f"{directory} is not a model directory: no mmeb_model.json, adapter_config.json, modules.json, "
                      "open_clip_config.json or config.json (see docs/checkpoint-format.md)")


def check_architecture(directory: Path, adapter: Adapter, settings: dict[str, Any], *, where: str,
                       hub_id: str | None = None) -> None:
    """Weights of another architecture than the recipe serves: one clear error, before any loading."""
    if adapter.layout != "transformers" or not adapter.model_types:
        return
    model_type = read_config(directory).get("model_type")
    if model_type is None:
        return  # a PEFT folder: its base is checked when merged
    expected = (settings.get("backbone"),) if settings.get("backbone") else adapter.model_types
    if model_type not in expected:
        fix = f"point --weights at the files of {hub_id}" if hub_id else "use a checkpoint of that architecture"
        raise ConfigError(f"{where}: the folder holds a {model_type!r} model, but the {adapter.name} recipe needs "
                          f"{' or '.join(map(repr, expected))} weights; {fix}")


def check_weights_folder(folder: Path, adapter: Adapter, entry) -> None:
    """A ``--weights`` folder must hold the model's files in its Hub layout: name what is missing."""
    fix = f"download them with `hf download {entry.hub_id} --local-dir {folder}`"
    if not folder.is_dir():
        raise ConfigError(f"model {entry.name!r}: weights folder {folder} does not exist; {fix}")
    missing = missing_files(folder, adapter, has_base=entry.base_model is not None)
    if missing:
        raise ConfigError(f"model {entry.name!r}: weights folder {folder} is missing {'; '.join(missing)}. "
                          f"It must hold the files of {entry.hub_id} in their Hub layout: {fix}")


def missing_files(folder: Path, adapter: Adapter, *, has_base: bool = False) -> list[str]:
    import json

    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if adapter.layout == "open_clip":
        need = [] if "open_clip_config.json" in names else ["open_clip_config.json"]
        if not names & {"open_clip_pytorch_model.bin", "open_clip_model.safetensors"}:
            need.append("the weights (open_clip_model.safetensors or open_clip_pytorch_model.bin)")
        return need
    if adapter.layout == "sentence_transformers":
        return [] if "modules.json" in names else ["modules.json"]
    if adapter.layout != "transformers":
        return []
    peft = "adapter_config.json" in names and "config.json" not in names
    need = [] if peft or "config.json" in names else ["config.json"]
    if not any(n.endswith(_WEIGHT_SUFFIXES) for n in names):
        need.append("the weights (*.safetensors or *.bin)")
    for index in (n for n in names if n.endswith(".index.json")):
        try:
            shards = set(json.loads((folder / index).read_text()).get("weight_map", {}).values())
        except (OSError, ValueError, AttributeError):
            need.append(f"a readable {index}")
            continue
        need += [f"shard {s} (listed in {index})" for s in sorted(shards - names)]
    if not (peft and has_base) and not names & set(_TOKENIZER_FILES):
        need.append("the tokenizer / processor files (tokenizer.json, tokenizer_config.json, "
                    "preprocessor_config.json, ...)")
    return need


def _build(adapter: Adapter, source: str, settings: dict[str, Any], ctx: LoadContext, spec: str):
    merged = adapters.check_settings(adapter, settings, spec)
    return adapters.build(adapter, source, merged, ctx)

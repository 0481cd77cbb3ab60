"""Resolving a model spec to an adapter: device, dtype, attention implementation, revision, PEFT merge.

Spec resolution (first match wins):
  1. a registered short name (``mmeb models``)         -> that entry's adapter and recipe
  2. ``st:<hub id or dir>``                           -> sentence-transformers adapter
  3. a local directory (docs/checkpoint-format.md)    -> mmeb_model.json | adapter_config.json | modules.json | config.json
  4. any other spec containing ":"                    -> plug-in (``file.py:Class``, ``pkg.mod:factory``)
  5. ``org/name``                                     -> Hub snapshot, then as a directory
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, MMEBError, suggest

DTYPES = ("float32", "bfloat16", "float16")
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json", "tokenizer_config.json")


def default_dtype(device: str) -> str:
    """bf16 on a GPU (what the released checkpoints were trained and evaluated in), fp32 on CPU."""
    return "bfloat16" if str(device).startswith("cuda") else "float32"


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def check_dtype(dtype: str | None) -> str | None:
    if dtype in (None, "auto"):
        return None
    dtype = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "half": "float16"}.get(dtype, dtype)
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    return dtype


def attention_implementation(device: str, dtype: str | None, requested: str | None = None) -> str | None:
    """FlashAttention-2 when installed and usable (CUDA, half precision); else None = transformers'
    default, which is PyTorch SDPA where the architecture supports it (eager otherwise, e.g. BLIP).
    Adapters record the implementation the loaded model actually uses."""
    if requested:
        return requested
    if device.startswith("cuda") and (dtype or default_dtype(device)) in ("bfloat16", "float16"):
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    return None


def local_revision(directory: Path) -> str:
    """A content fingerprint for an unversioned local checkpoint (recorded as its revision and used in
    cache keys): every file's name and size, the full text of JSON files and the first MiB of the rest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + str(path.stat().st_size).encode())
        with path.open("rb") as fh:
            digest.update(fh.read() if path.suffix == ".json" else fh.read(1 << 20))
    return "local-" + digest.hexdigest()[:12]


def hub_snapshot(repo_id: str, revision: str | None) -> tuple[Path, str]:
    """Download (or find in the cache) a Hub repo; returns the local dir and the resolved commit."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(repo_id, revision=revision or "main"))
    except Exception as exc:  # offline, unknown repo, gated, ...
        raise MMEBError(f"could not fetch model {repo_id!r} (revision {revision or 'main'}) from the Hub: "
                        f"{type(exc).__name__}: {exc}. Check the name, your network / HF_HUB_OFFLINE, "
                        "or pass a local directory.") from exc
    return path, path.name  # snapshot folders are named by commit hash


def needs_remote_code(directory: Path) -> bool:
    config = directory / "config.json"
    if not config.exists():
        return False
    data = json.loads(config.read_text())
    return "auto_map" in data or data.get("model_type") == "phi3_v"


def refuse_remote_code(what: str) -> ConfigError:
    return ConfigError(
        f"{what} runs custom Python code from its Hub repository (it is not in transformers core). "
        "mmeb will not execute downloaded code unless you allow it: pass --trust-remote-code "
        "(Python: trust_remote_code=True) after reviewing the repository.")


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

        recipe = _override(VLM2VecRecipe.load(directory), settings, directory)
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


def _override(recipe, settings: dict[str, Any], where: Path):
    """Apply CLI/Python overrides to a recipe; a name the recipe does not have is an error."""
    unknown = set(settings) - set(type(recipe).model_fields)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} for the VLM2Vec recipe of {where}; "
                          f"known: {', '.join(sorted(type(recipe).model_fields))}")
    fields = {k: v for k, v in settings.items() if k in type(recipe).model_fields}
    return type(recipe)(**{**recipe.model_dump(), **fields})


def processor_source(directory: Path, base_model: str | None) -> str:
    """LoRA-only repos ship no processor: then it comes from the base model."""
    if any((directory / f).exists() for f in _PROCESSOR_FILES) or not base_model:
        return str(directory)
    return base_model

"""Where and how weights load, shared by the loader and every adapter: device, dtype, attention implementation,
Hub snapshots, the remote-code gate and a checkpoint's ``model_type``. Imports nothing from mmeb.models, so the
loader and the adapters both depend on it without a cycle. (Local folders are fingerprinted by
:func:`mmeb.fingerprint.folder_fingerprint`.)"""

from __future__ import annotations

import json
from pathlib import Path

from mmeb.errors import ConfigError, MMEBError

DTYPES = ("float32", "bfloat16", "float16")
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "half": "float16"}
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json", "tokenizer_config.json")


def default_dtype(device: str) -> str:
    """bf16 on a GPU (what the released checkpoints were trained and evaluated in), fp32 on CPU."""
    return "bfloat16" if str(device).startswith("cuda") else "float32"


def resolve_device(device: str | None) -> str:
    """``None`` / ``"auto"``: cuda when present. A device this machine lacks is one ConfigError, before any
    weights load (``mmeb run`` checks ``--device`` the same way in :mod:`mmeb.evaluation.distributed`)."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(str(device))
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device {device!r} is not a device ({str(exc).splitlines()[0]}); "
                          "use auto, cpu, cuda or cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: no CUDA GPU is available here; use device='cpu' (CLI: --device cpu)")
    return str(device)


def check_dtype(dtype: str | None) -> str | None:
    if dtype in (None, "auto"):
        return None
    dtype = _DTYPE_ALIASES.get(dtype, dtype)
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    return dtype


def runtime_dtype(device: str, dtype: str | None, recipe_dtype: str | None) -> str | None:
    """Explicit dtype wins; on a GPU the recipe's dtype (the adapter table's, e.g. E5-V fp16, CLIP fp32); on CPU
    fp32 (None)."""
    if dtype:
        return dtype
    if str(device).startswith("cuda") and recipe_dtype:
        return check_dtype(recipe_dtype)
    return None


def gpu_recipe_dtype(device, recipe_dtype: str | None) -> str | None:
    """The recipe's dtype where it applies (a GPU), else None."""
    return check_dtype(recipe_dtype) if str(device).startswith("cuda") and recipe_dtype else None


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def attention_implementation(device: str, dtype: str | None, requested: str | None = None) -> str | None:
    """FlashAttention-2 when installed and usable (CUDA, half precision); else None = transformers'
    default, which is PyTorch SDPA where the architecture supports it (eager otherwise, e.g. BLIP).
    Adapters record the implementation the loaded model actually uses."""
    if requested:
        return requested
    if str(device).startswith("cuda") and (dtype or default_dtype(device)) in ("bfloat16", "float16"):
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    return None


def hub_snapshot(repo_id: str, revision: str | None, allow_patterns: list[str] | None = None) -> tuple[Path, str]:
    """Download (or find in the cache) a Hub repo, or only the files matching ``allow_patterns``; returns the
    local dir and the resolved commit."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(repo_id, revision=revision or "main", allow_patterns=allow_patterns))
    except Exception as exc:  # offline, unknown repo, gated, ...
        raise MMEBError(f"could not fetch model {repo_id!r} (revision {revision or 'main'}) from the Hub: "
                        f"{type(exc).__name__}: {exc}. Check the name, your network / HF_HUB_OFFLINE, "
                        "or pass the model's files as a local folder (--weights DIR).") from exc
    return path, path.name  # snapshot folders are named by commit hash


def refuse_remote_code(what: str) -> ConfigError:
    return ConfigError(
        f"{what} runs custom Python code from its Hub repository (it is not in transformers core). "
        "mmeb will not execute downloaded code unless you allow it: pass --trust-remote-code "
        "(Python: trust_remote_code=True) after reviewing the repository.")


def processor_source(directory: Path, base_model: str | None) -> str:
    """LoRA-only repos ship no processor: then it comes from the base model."""
    if any((Path(directory) / f).exists() for f in _PROCESSOR_FILES) or not base_model:
        return str(directory)
    return base_model


def read_config(directory: Path) -> dict:
    """``config.json`` of a checkpoint folder ({} when absent)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; the file is damaged - copy it again") from exc
    return data if isinstance(data, dict) else {}


def model_type_of(directory: Path) -> str:
    model_type = read_config(directory).get("model_type")
    if not model_type:
        raise ConfigError(f"cannot read model_type from {Path(directory) / 'config.json'}: missing file or field")
    return str(model_type)

"""``mteb:<name>``: any image-text model of MTEB's model registry, run through MTEB's own wrapper (optional extra
``mmeb[mteb]``).

MTEB forms the model inputs, as it does on its own benchmarks: each item's payload text and image go into a
``datasets.Dataset`` turned into batches by ``mteb.create_dataloader``; the task instruction is handed over as the
task's prompt (``TaskMetadata.prompt``, query or document side), and the wrapper's ``encode`` decides how to use it
(many two-tower wrappers ignore it) and how to fuse image and text. Items are grouped by modality and instruction,
so each call is one homogeneous MTEB "task"; the order is restored afterwards. Only the wrapper's own recipe runs:
``recipe="native"`` is not a separate variant here.
"""

from __future__ import annotations

from typing import Any

from mmeb.errors import ConfigError, MMEBError, suggest
from mmeb.models.protocol import ModelInput, refuse_video

_CODES = {("text",): "t", ("image",): "i", ("image", "text"): "it"}


def _import_mteb():
    try:
        import mteb
    except ImportError as exc:
        raise ConfigError("mteb: models need MTEB: pip install 'mmeb[mteb]'") from exc
    return mteb


def image_text_models(mteb) -> list[str]:
    from mteb.models.get_model_meta import MODEL_REGISTRY

    return sorted(n for n, m in MODEL_REGISTRY.items() if {"image", "text"} <= set(m.modalities or []))


def build_mteb(name: str, settings: dict[str, Any], ctx):
    mteb = _import_mteb()
    try:
        meta = mteb.get_model_meta(name)
    except (KeyError, ValueError):
        raise suggest(name, image_text_models(mteb), "MTEB model") from None
    if not {"image", "text"} <= set(meta.modalities or []):
        raise ConfigError(f"mteb:{name} is a {'+'.join(meta.modalities or ['?'])} model in MTEB's registry; MMEB "
                          "needs an image-text model (see mteb.get_model_metas(modalities=['image', 'text']))")
    if meta.loader is None:
        raise ConfigError(f"mteb:{name}: MTEB's registry lists it without an implementation (no loader)")
    model_args = dict(settings.get("model_args") or {})
    try:
        model = meta.load_model(device=ctx.device, **model_args)
    except (ImportError, NotImplementedError, OSError, ValueError) as exc:
        raise MMEBError(f"mteb:{name}: MTEB could not load it ({type(exc).__name__}: {exc}); check its extra "
                        f"dependencies and that its files are reachable (HF_HUB_OFFLINE, the Hub cache)") from exc
    return MTEBEmbedder(model, meta, name=f"mteb:{meta.name}", revision=meta.revision or ctx.revision,
                        metadata={**ctx.metadata, "mteb_model": meta.name, "embedding_dim": meta.embed_dim,
                                  "params": meta.n_parameters, "reference": meta.reference},
                        batch_size=int(settings["batch_size"]), model_args=model_args,
                        mteb_version=getattr(mteb, "__version__", None))


class MTEBEmbedder:
    """The mmeb protocol over an MTEB wrapper (``encode(DataLoader, *, task_metadata, ..., prompt_type)``)."""

    def __init__(self, model, meta, *, name: str, revision: str | None, metadata: dict[str, Any], batch_size: int,
                 model_args: dict[str, Any], mteb_version: str | None):
        self.model, self.meta = model, meta
        self.name, self.revision, self.metadata = name, revision, metadata
        self.batch_size, self.model_args, self.mteb_version = batch_size, model_args, mteb_version

    @property
    def settings(self) -> dict[str, Any]:
        loader = getattr(self.meta.loader, "__name__", None) or type(self.model).__name__
        return {
            "adapter": "mteb", "recipe": "default",
            "inputs_formed_by": f"MTEB's wrapper {loader} (mteb {self.mteb_version}: create_dataloader + encode)",
            "text_input": "payload text only; the task instruction is the MTEB task prompt (query / document)",
            "image_input": "as decoded from its file, via a datasets Image column",
            "mteb_model": self.meta.name, "mteb_revision": self.meta.revision,
            "similarity_fn_name": str(self.meta.similarity_fn_name or ""),
            "batch_size": self.batch_size, "model_args": self.model_args,
        }

    def to(self, device):
        return self  # MTEB's wrapper placed the model on the device it was loaded for

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        import torch

        refuse_video(inputs, model=self.name, recipe="MTEB wrapper", task_name=task_name)
        groups: dict[tuple, list[int]] = {}
        for i, inp in enumerate(inputs):
            modality = tuple(m for m, present in (("image", inp.image is not None), ("text", bool(inp.text)))
                             if present) or ("text",)
            groups.setdefault((modality, inp.instruction), []).append(i)
        out: torch.Tensor | None = None
        for (modality, instruction), rows in groups.items():
            emb = self._encode_group([inputs[i] for i in rows], modality, instruction, task_name, role)
            if out is None:
                out = torch.zeros(len(inputs), emb.shape[-1])
            out[torch.tensor(rows)] = emb
        return out if out is not None else torch.empty(0, 0)

    def _encode_group(self, items: list[ModelInput], modality: tuple, instruction: str, task_name: str, role: str):
        import datasets
        import torch
        from mteb._create_dataloaders import create_dataloader
        from mteb.abstasks.task_metadata import TaskMetadata
        from mteb.types import PromptType

        prompt_type = PromptType.query if role == "query" else PromptType.document
        code = _CODES[modality]
        columns: dict[str, list] = {"id": [str(i) for i in range(len(items))]}
        features = {"id": datasets.Value("string")}
        if "text" in modality:
            columns["text"], features["text"] = [x.text for x in items], datasets.Value("string")
        if "image" in modality:
            # a copy has no source format, so datasets stores it losslessly (PNG / TIFF), never re-encoded as JPEG
            columns["image"], features["image"] = [x.image.copy() for x in items], datasets.Image()
        dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
        task = TaskMetadata(
            name=task_name or "MMEB", description="an MMEB task evaluated by mmeb", type="Any2AnyRetrieval",
            dataset={"path": "TIGER-Lab/MMEB-eval", "revision": "mmeb"}, category=f"{code}2{code}",
            modalities=list(modality), eval_splits=["test"], eval_langs=["eng-Latn"], main_score="hit_at_1",
            prompt={prompt_type.value: instruction} if instruction else None)
        loader = create_dataloader(dataset, task_metadata=task, prompt_type=prompt_type, batch_size=self.batch_size)
        emb = self.model.encode(loader, task_metadata=task, hf_split="test", hf_subset="default",
                                prompt_type=prompt_type)
        return torch.as_tensor(emb).float().cpu()

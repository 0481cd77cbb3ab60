"""Any sentence-transformers model (``st:<hub id or dir>``), grouped by modality.

Text-only items go in as strings, image-only items as PIL images, image+text items as
``{"text": ..., "image": ...}`` - each group in its own ``encode`` call, order restored. The text is
the stored string without the image placeholder (instruction included). Whether the model renders
inputs through a chat template (sentence-transformers' "message" modality) is recorded.

Roles route through the model's own conventions: queries through ``encode_query`` and candidates through
``encode_document`` (sentence-transformers >= 5: they pick the model's "query" / "document" prompts and the
Router's task), or, on older versions, ``encode`` with those prompt names when the model defines them. An
explicit ``prompt_name`` setting overrides both roles. The prompt names and texts used are recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmeb.errors import ConfigError, MMEBError
from mmeb.models.protocol import ModelInput, refuse_video
from mmeb.models.two_tower import tower_text


def _modality(inp: ModelInput, text: str):
    if inp.image is not None and text:
        return ("image", "text")
    return "image" if inp.image is not None else "text"


class SentenceTransformerEmbedder:
    def __init__(self, model, *, name: str, revision: str | None, metadata: dict[str, Any],
                 normalize: bool = True, prompt_name: str | None = None, batch_size: int = 32):
        self.model = model
        self.name, self.revision, self.metadata = name, revision, metadata
        self.normalize = normalize
        self.prompt_name = prompt_name
        self.batch_size = batch_size
        self.device = str(model.device)

    @property
    def image_text_fusion(self) -> str:
        """Native when the model takes an image+text input (or chat messages); else, like the CLIP-family
        baselines, the sum of its separate image and text embeddings."""
        if self.model.supports(("image", "text")) or self.model.supports("message"):
            return "native ({'text', 'image'} input)"
        if self.model.supports("image") and self.model.supports("text"):
            return "sum of separate image and text embeddings"
        return "unsupported"

    def prompt_name_for(self, role: str) -> str | None:
        """The prompt name a role uses: the explicit setting, else the model's own (as encode_query /
        encode_document choose it)."""
        if self.prompt_name is not None:
            return self.prompt_name
        prompts = getattr(self.model, "prompts", None) or {}
        candidates = ["query"] if role == "query" else ["document", "passage", "corpus"]
        return next((name for name in candidates if name in prompts), None)

    def _routed(self, role: str):
        """The model's role-specific encode method where it defines one, else plain ``encode``."""
        method = getattr(self.model, "encode_query" if role == "query" else "encode_document", None)
        return method if callable(method) else self.model.encode

    @property
    def settings(self) -> dict[str, Any]:
        modalities = [m if isinstance(m, str) else "+".join(m) for m in self.model.modalities]
        prompts = getattr(self.model, "prompts", None) or {}
        routing = {}
        for role, method in (("query", "encode_query"), ("candidate", "encode_document")):
            name = self.prompt_name_for(role)
            routing[role] = {"method": method if callable(getattr(self.model, method, None)) else "encode",
                             "prompt_name": name, "prompt": prompts.get(name) if name else None}
        return {
            "adapter": "sentence_transformers",
            "recipe": "default",
            "text_input": "stored string without the image placeholder (instruction included), stripped",
            "instruction_placement": "in the text",
            "role_routing": routing,
            "image_text_fusion": self.image_text_fusion,
            "chat_template_applied": "message" in modalities,
            "supported_modalities": modalities,
            "prompt_name": self.prompt_name,
            "normalize": self.normalize,
            "max_seq_length": getattr(self.model, "max_seq_length", None),
            "dtype": str(next(self.model.parameters()).dtype).replace("torch.", ""),
        }

    def to(self, device):
        self.model.to(device)
        self.device = str(device)
        return self

    def encode(self, inputs: list[ModelInput], *, task_name: str = "", role: str = "query", **_: Any):
        import torch

        refuse_video(inputs, model=self.name, recipe="sentence-transformers", task_name=task_name)
        groups: dict[Any, list[int]] = {}
        payloads: list[Any] = []
        for i, inp in enumerate(inputs):
            text = tower_text(inp)
            modality = _modality(inp, text)
            groups.setdefault(modality, []).append(i)
            image = inp.image.convert("RGB") if inp.image is not None else None
            payloads.append({"text": text, "image": image} if modality == ("image", "text")
                            else image if modality == "image" else text)
        out: torch.Tensor | None = None
        for modality, rows in groups.items():
            group = [payloads[i] for i in rows]
            if modality == ("image", "text") and self.image_text_fusion.startswith("sum"):
                emb = (self._encode(group, "text", role, normalize=False)
                       + self._encode(group, "image", role, normalize=False))
                emb = torch.nn.functional.normalize(emb, dim=-1) if self.normalize else emb
            elif self.model.supports(modality) or self.model.supports("message"):
                emb = self._encode(group, None, role, normalize=self.normalize)
            else:
                raise ConfigError(f"{self.name} cannot encode {modality} inputs (task {task_name}, role {role}); "
                                  f"it supports {self.model.modalities}")
            if out is None:
                out = torch.zeros(len(inputs), emb.shape[-1])
            out[torch.tensor(rows)] = emb
        return out if out is not None else torch.empty(0, 0)

    def _encode(self, payloads: list, part: str | None, role: str, *, normalize: bool):
        if part is not None:  # one side of {'text', 'image'} payloads
            payloads = [p[part] for p in payloads]
        emb = self._routed(role)(payloads, prompt_name=self.prompt_name_for(role), batch_size=self.batch_size,
                                 convert_to_tensor=True, normalize_embeddings=normalize, show_progress_bar=False)
        return emb.float().cpu()


def load_sentence_transformer(spec: str, *, revision: str | None, settings: dict[str, Any], device: str,
                              dtype: str | None, trust_remote_code: bool):
    """Settings are checked by the adapter table (mmeb.models.adapters); a local folder's revision is its
    full-content fingerprint."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigError("st: models need sentence-transformers: pip install 'mmeb[st]'") from exc
    from mmeb.fingerprint import folder_fingerprint
    from mmeb.models.runtime import torch_dtype

    local = Path(spec).expanduser()
    model_kwargs = {"dtype": torch_dtype(dtype)} if dtype else {}
    try:
        model = SentenceTransformer(str(local) if local.is_dir() else spec, device=device, revision=revision,
                                    trust_remote_code=trust_remote_code, model_kwargs=model_kwargs or None)
    except Exception as exc:
        raise MMEBError(f"could not load sentence-transformers model {spec!r}: {type(exc).__name__}: {exc}") from exc
    if local.is_dir():
        name, resolved = local.resolve().name, folder_fingerprint(local)
    else:
        name, resolved = spec, _st_commit(model) or revision or "main"
    metadata = {"source": spec, "embedding_dim": model.get_embedding_dimension(),
                "params": sum(p.numel() for p in model.parameters())}
    return SentenceTransformerEmbedder(model, name=f"st:{name}", revision=resolved, metadata=metadata, **settings)


def _st_commit(model) -> str | None:
    """The snapshot folder of a Hub-loaded model is its commit hash."""
    path = getattr(model, "model_card_data", None) and getattr(model.model_card_data, "base_model_revision", None)
    return path or None

"""The training configuration: every setting that can change the trained model has a name, a
default (the paper's where it has one) and is recorded in the checkpoint's ``mmeb_model.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mmeb.errors import ConfigError
from mmeb.tasks.metadata import MMEB_TRAIN_ID

ChunkSize = Annotated[int, Field(ge=1)] | Literal["auto"]
Backbone = Literal["auto", "qwen2_vl", "llava_next", "phi3_v"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    # model
    model: str = Field(description="Hub id or local directory of the base VLM")
    model_revision: str | None = None
    backbone: Backbone = "auto"
    trust_remote_code: bool = False  # needed for Phi-3.5-V only
    # data (MMEB-train)
    train_data: str = MMEB_TRAIN_ID
    dataset_revision: str | None = None
    split: Literal["original", "diverse_instruction"] = "original"
    subsets: list[str] | dict[str, float] = Field(min_length=1)
    max_rows_per_subset: int | None = Field(50_000, ge=1)  # the paper's cap
    hard_negatives: bool = False  # the official trainer loads neg_* but never uses them
    # output
    output_dir: str
    # adaptation: LoRA (paper r=8, alpha=64, dropout=0.1, gaussian init); DoRA only when asked
    lora: bool = True
    dora: bool = False
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(64, ge=1)
    lora_dropout: float = Field(0.1, ge=0, lt=1)
    lora_target_modules: list[str] | None = None  # None: the official list (encoder.OFFICIAL_LORA_TARGETS)
    # objective
    temperature: float = Field(0.02, gt=0)
    global_batch_size: int = Field(1024, ge=2)
    # GradCache chunks; "auto": the largest that fits free memory, probed at the first step (autochunk.py)
    query_chunk_size: ChunkSize = 4
    target_chunk_size: ChunkSize = 4
    gradcache: bool = True
    # host RAM (GiB, per process and batch) that keeps each chunk's processed CPU tensors between the two
    # GradCache passes, so the processor runs once per chunk; chunks past it are processed again.
    # Speed only: results are identical. Qwen2-VL at 448 px ~ 5 MB per image, at 1344 px ~ 43 MB.
    chunk_cache_gib: float = Field(8.0, ge=0)
    # optimisation
    max_steps: int = Field(2000, ge=1)
    learning_rate: float = Field(2e-5, gt=0)
    warmup_steps: int = Field(200, ge=0)
    lr_scheduler: str = "linear"  # a transformers SchedulerType name
    weight_decay: float = 0.0
    bf16: bool = True
    gradient_checkpointing: bool = False
    seed: int = 42
    # checkpoints / logging
    save_steps: int = Field(500, ge=1)
    save_total_limit: int | None = 2
    resume: str | None = "auto"  # "auto" = the newest checkpoint-* in output_dir, if any
    logging_steps: int = Field(10, ge=1)
    # inputs
    max_length: int | None = Field(None, ge=1)  # tokens; None = no truncation (truncating image tokens breaks the processor)
    image_resize: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | None = None  # e.g. [1344, 1344]: v1 Qwen2-VL / LLaVA-NeXT "high"
    min_pixels: int | None = Field(None, ge=1)  # Qwen2-VL processor caps; None = the processor's own setting
    max_pixels: int | None = Field(None, ge=1)
    # a placeholder on a text-only item: the official code swapped it for the image token all the same
    # (VLM2Vec@v1 src/dataset.py); recorded in the recipe
    orphan_image_token: Literal["swap", "keep_as_text", "drop"] = "swap"
    num_workers: int = Field(0, ge=0)
    # multi-GPU: passed to TrainingArguments as is (see docs/training.md)
    fsdp: str | None = None
    fsdp_config: dict[str, Any] | str | None = None
    deepspeed: str | dict[str, Any] | None = None
    ddp_timeout: int = 1800

    @field_validator("subsets")
    @classmethod
    def _weights_positive(cls, value):
        if isinstance(value, dict) and any(w <= 0 for w in value.values()):
            raise ValueError("subset weights must be > 0")
        return value

    @field_validator("lr_scheduler")
    @classmethod
    def _known_scheduler(cls, value):
        from transformers.trainer_utils import SchedulerType  # the Trainer would refuse it mid-run

        names = [s.value for s in SchedulerType]
        if value not in names:
            raise ValueError(f"unknown scheduler {value!r}; one of {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels {self.min_pixels} is above max_pixels {self.max_pixels}")
        if self.dora and not self.lora:
            raise ValueError("dora: true needs lora: true (DoRA is a LoRA variant)")
        if self.auto_chunk and self.gradcache and (self.fsdp or self.deepspeed):
            raise ValueError("chunk size auto probes the unwrapped model, which FSDP / DeepSpeed shard; "
                             "set query_chunk_size and target_chunk_size to numbers")
        return self

    @property
    def subset_weights(self) -> dict[str, float]:
        return dict(self.subsets) if isinstance(self.subsets, dict) else {s: 1.0 for s in self.subsets}

    @property
    def auto_chunk(self) -> bool:
        return "auto" in (self.query_chunk_size, self.target_chunk_size)

    @property
    def chunk_size(self) -> int | None:
        """sentence-transformers' cached loss takes one mini-batch size for every column: the smaller
        of the two is used, so peak memory stays within both settings (recorded as effective_chunk_size).
        With ``auto`` on one side: the fixed side (a cap for the probe), None when both are auto."""
        fixed = [s for s in (self.query_chunk_size, self.target_chunk_size) if s != "auto"]
        return min(fixed) if fixed else None

    def per_device_batch_size(self, world_size: int) -> int:
        if self.global_batch_size % world_size:
            raise ConfigError(f"global_batch_size {self.global_batch_size} is not divisible by the "
                              f"{world_size} processes (WORLD_SIZE)")
        per_device = self.global_batch_size // world_size
        if self.gradcache:
            for name in ("query_chunk_size", "target_chunk_size"):
                if getattr(self, name) != "auto" and per_device % getattr(self, name):
                    raise ConfigError(
                        f"the per-device batch {per_device} (global_batch_size {self.global_batch_size} / "
                        f"{world_size} processes) is not divisible by {name} {getattr(self, name)}; "
                        "choose sizes that divide it")
        return per_device


def _parse_value(text: str, key: str = "value") -> Any:
    from mmeb.yaml_values import parse_value

    return parse_value(text, f"--set {key}")


def load_config(source: "TrainConfig | dict | str | Path", overrides: list[str] | dict[str, Any] | None = None) -> TrainConfig:
    """Build a TrainConfig from a config object, a dict, or a YAML/JSON file, applying ``key=value``
    overrides (values parsed as YAML, so ``lora=false`` and ``subsets=[A, B]`` work)."""
    if isinstance(source, TrainConfig):
        data = source.model_dump()
    elif isinstance(source, dict):
        data = dict(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"training config file {path} not found")
        import yaml

        try:
            data = yaml.safe_load(path.read_text()) or {}  # YAML is a superset of JSON
        except yaml.YAMLError as exc:  # its own text spans several lines: keep the problem and where
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
            raise ConfigError(f"{path}: not valid YAML/JSON{where}: {problem}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides or []]
    for key, value in items:
        data[key] = _parse_value(value, key) if isinstance(value, str) and not isinstance(overrides, dict) else value
    try:
        return TrainConfig(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        unknown = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden"]
        hint = ""
        if unknown:
            from mmeb.errors import close_matches

            close = {u: close_matches(u, TrainConfig.model_fields, n=1, cutoff=0.6) for u in unknown}
            hint = " " + " ".join(f"{u!r}: did you mean {c[0]!r}?" for u, c in close.items() if c)
        raise ConfigError(f"bad training config: {problems}.{hint}") from None


def _split(override: str) -> tuple[str, str]:
    if "=" not in override:
        raise ConfigError(f"--set expects key=value, got {override!r}")
    key, value = override.split("=", 1)
    return key.strip(), value

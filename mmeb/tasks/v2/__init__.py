"""MMEB-V2: 78 tasks in three modalities - image (the 36 MMEB-V1 tasks in their V2 form), video (18) and
visual documents (24) - under the benchmark name ``MMEB-V2``. Order, modalities and sub-categories as in the
official ``experiments/report_score_v2.py`` and the VLM2Vec-V2 paper (Table 2)."""

from __future__ import annotations

from mmeb.errors import suggest
from mmeb.tasks.v2 import image, video, visdoc  # noqa: F401  (registers the tasks)
from mmeb.tasks.v2.metadata import BENCHMARK, DATA_VERSIONS, DEFAULT_DATA_VERSION, V2TaskMetadata

#: sub-category -> tasks, in the official order (paper Table 2 / Table 5)
V2_GROUPS: dict[str, tuple[str, ...]] = {
    "I-CLS": tuple(n for n, (g, _) in image.IMAGE_TASKS.items() if g == "I-CLS"),
    "I-QA": tuple(n for n, (g, _) in image.IMAGE_TASKS.items() if g == "I-QA"),
    "I-RET": tuple(n for n, (g, _) in image.IMAGE_TASKS.items() if g == "I-RET"),
    "I-GD": tuple(n for n, (g, _) in image.IMAGE_TASKS.items() if g == "I-GD"),
    "V-CLS": ("K700", "SmthSmthV2", "HMDB51", "UCF101", "Breakfast"),
    "V-QA": ("MVBench", "Video-MME", "NExTQA", "EgoSchema", "ActivityNetQA"),
    "V-RET": ("DiDeMo", "MSR-VTT", "MSVD", "VATEX", "YouCook2"),
    "V-MRET": ("QVHighlight", "Charades-STA", "MomentSeeker"),
    **{group: tuple(n for n, spec in visdoc.VISDOC_TASKS.items() if spec[0] == group)
       for group in ("VDRv1", "VDRv2", "VR", "OOD")},
}
MODALITY_GROUPS: dict[str, tuple[str, ...]] = {
    "image": ("I-CLS", "I-QA", "I-RET", "I-GD"),
    "video": ("V-CLS", "V-QA", "V-RET", "V-MRET"),
    "visdoc": ("VDRv1", "VDRv2", "VR", "OOD"),
}
#: the 78 official keys in the official order
V2_TASK_NAMES: tuple[str, ...] = tuple(n for groups in MODALITY_GROUPS.values() for g in groups
                                       for n in V2_GROUPS[g])
#: long selector spellings of the sub-categories (``MMEB-V2:video-ret``); the paper's names work too
GROUP_ALIASES: dict[str, str] = {
    "image-cls": "I-CLS", "image-qa": "I-QA", "image-ret": "I-RET", "image-gd": "I-GD",
    "video-cls": "V-CLS", "video-qa": "V-QA", "video-ret": "V-RET", "video-mret": "V-MRET",
    "visdoc-vdr1": "VDRv1", "visdoc-vdr2": "VDRv2", "visdoc-vr": "VR", "visdoc-ood": "OOD",
}

__all__ = ["BENCHMARK", "DATA_VERSIONS", "DEFAULT_DATA_VERSION", "GROUP_ALIASES", "MODALITY_GROUPS",
           "V2TaskMetadata", "V2_GROUPS", "V2_TASK_NAMES", "select", "selector_names"]


def selector_names() -> list[str]:
    """Every ``MMEB-V2:<x>`` selector besides task names."""
    return ["all", *MODALITY_GROUPS, *GROUP_ALIASES, *V2_GROUPS]


def _names(selector: str) -> tuple[str, ...] | None:
    low = selector.strip().lower()
    if low == "all":
        return V2_TASK_NAMES
    if low in MODALITY_GROUPS:
        return tuple(n for g in MODALITY_GROUPS[low] for n in V2_GROUPS[g])
    group = GROUP_ALIASES.get(low) or next((g for g in V2_GROUPS if g.lower() == low), None)
    if group is not None:
        return V2_GROUPS[group]
    task = next((n for n in V2_TASK_NAMES if n.lower() == low), None)
    return (task,) if task else None


def select(selector: str, classes: list) -> list:
    """The registered MMEB-V2 task classes one selector (the part after ``MMEB-V2:``) names."""
    names = _names(selector)
    if names is None:
        raise suggest(selector, selector_names() + list(V2_TASK_NAMES), "MMEB-V2 selector")
    wanted = set(names)
    return [c for c in classes if c.metadata.benchmark == BENCHMARK and c.metadata.name in wanted]

"""MMEB-V2's task names, sub-categories and selectors in the official order (``experiments/report_score_v2.py``,
paper Table 2). A leaf module: the registry reads it without importing the task modules."""

from __future__ import annotations

from mmeb.errors import suggest

BENCHMARK = "MMEB-V2"

#: sub-category -> tasks, in the official order
V2_GROUPS: dict[str, tuple[str, ...]] = {
    "I-CLS": ("ImageNet-1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "Place365", "ImageNet-A",
              "ImageNet-R", "ObjectNet", "Country211"),
    "I-QA": ("OK-VQA", "A-OKVQA", "DocVQA", "InfographicsVQA", "ChartQA", "Visual7W", "ScienceQA", "VizWiz", "GQA",
             "TextVQA"),
    "I-RET": ("VisDial", "CIRR", "VisualNews_t2i", "VisualNews_i2t", "MSCOCO_t2i", "MSCOCO_i2t", "NIGHTS", "WebQA",
              "FashionIQ", "Wiki-SS-NQ", "OVEN", "EDIS"),
    "I-GD": ("MSCOCO", "RefCOCO", "RefCOCO-Matching", "Visual7W-Pointing"),
    "V-CLS": ("K700", "SmthSmthV2", "HMDB51", "UCF101", "Breakfast"),
    "V-QA": ("MVBench", "Video-MME", "NExTQA", "EgoSchema", "ActivityNetQA"),
    "V-RET": ("DiDeMo", "MSR-VTT", "MSVD", "VATEX", "YouCook2"),
    "V-MRET": ("QVHighlight", "Charades-STA", "MomentSeeker"),
    "VDRv1": ("ViDoRe_arxivqa", "ViDoRe_docvqa", "ViDoRe_infovqa", "ViDoRe_tabfquad", "ViDoRe_tatdqa",
              "ViDoRe_shiftproject", "ViDoRe_syntheticDocQA_artificial_intelligence", "ViDoRe_syntheticDocQA_energy",
              "ViDoRe_syntheticDocQA_government_reports", "ViDoRe_syntheticDocQA_healthcare_industry"),
    "VDRv2": ("ViDoRe_esg_reports_human_labeled_v2", "ViDoRe_biomedical_lectures_v2_multilingual",
              "ViDoRe_economics_reports_v2_multilingual", "ViDoRe_esg_reports_v2_multilingual"),
    "VR": ("VisRAG_ArxivQA", "VisRAG_ChartQA", "VisRAG_MP-DocVQA", "VisRAG_SlideVQA", "VisRAG_InfoVQA",
           "VisRAG_PlotQA"),
    "OOD": ("ViDoSeek-page", "ViDoSeek-doc", "MMLongBench-page", "MMLongBench-doc"),
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


def group_of(name: str) -> str:
    return next(g for g, names in V2_GROUPS.items() if name in names)


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

"""The 36 image tasks in their MMEB-V2 form: the MMEB-V1 queries and candidate lists, read from
``ziyjiang/MMEB_Test_Instruct`` (instruction in its own columns) with images from the media repo, strings
formed as the V2 code forms them (``<|image_pad|>`` token first), ranked locally, hit@1.

Each class is declared from the MMEB-V1 task of the same name (modalities, description, split) plus the
V2 parser that forms its strings (``experiments/public/eval/image.yaml``).
"""

from __future__ import annotations

from mmeb.tasks import classification, grounding, register_task, retrieval, vqa
from mmeb.tasks.base import Task, TaskMetadata
from mmeb.tasks.v2.base import V2Task
from mmeb.tasks.v2.metadata import V2TaskMetadata
from mmeb.tasks.v2.names import MODALITY_GROUPS, V2_GROUPS

INSTRUCT_REPO = "ziyjiang/MMEB_Test_Instruct"

_PARSERS = {"I-CLS": "image_cls", "I-QA": "image_qa", "I-GD": "image_i2i_vg"}
_RETRIEVAL_PARSERS = {"VisDial": "image_t2i", "CIRR": "image_i2i_vg", "VisualNews_t2i": "image_t2i",
                      "VisualNews_i2t": "image_i2t", "MSCOCO_t2i": "image_t2i", "MSCOCO_i2t": "image_i2t",
                      "NIGHTS": "image_i2i_vg", "WebQA": "image_t2i", "FashionIQ": "image_i2i_vg",
                      "Wiki-SS-NQ": "image_t2i", "OVEN": "image_i2i_vg", "EDIS": "image_t2i"}
#: task -> (sub-category, parser), in the official order
IMAGE_TASKS: dict[str, tuple[str, str]] = {
    name: (group, _RETRIEVAL_PARSERS[name] if group == "I-RET" else _PARSERS[group])
    for group in MODALITY_GROUPS["image"] for name in V2_GROUPS[group]}


def _v1_metadata() -> dict[str, TaskMetadata]:
    found = {}
    for module in (classification, vqa, retrieval, grounding):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Task) and isinstance(getattr(value, "metadata", None),
                                                                              TaskMetadata):
                found[value.metadata.name] = value.metadata
    return found


_V1 = _v1_metadata()


def _declare(name: str, group: str, parser: str) -> type[V2Task]:
    v1 = _V1[name]
    meta = V2TaskMetadata(
        name=name, modality="image", group=group, meta_task=v1.meta_task, parser=parser, ranking="local",
        main_metric="hit@1", query_modality=v1.query_modality, target_modality=v1.target_modality,
        query_instruction=v1.query_instruction, target_instruction=v1.target_instruction,
        n_queries=v1.n_queries, n_candidates=v1.n_candidates, dataset_id=INSTRUCT_REPO, dataset_config=name,
        split=v1.split, description=v1.description)
    cls_name = "V2_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return register_task(type(cls_name, (V2Task,), {"metadata": meta, "__module__": __name__}))


for _name, (_group, _parser) in IMAGE_TASKS.items():
    globals()["V2_" + "".join(ch if ch.isalnum() else "_" for ch in _name)] = _declare(_name, _group, _parser)

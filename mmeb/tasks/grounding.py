"""The 4 MMEB visual-grounding tasks: an image with a referring text against crops of that image."""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.base import Task, TaskMetadata

_CROP = "Represent the given cropped image of the object"


#: fields shared by this meta-task; a task overrides any of them
_DEFAULTS = dict(
    meta_task="grounding",
    query_modality="image+text",
    n_candidates=1000,
)


def _meta(**fields) -> TaskMetadata:
    return TaskMetadata(**{**_DEFAULTS, **fields})


@register_task
class MSCOCO(Task):
    metadata = _meta(
        name="MSCOCO", split="IND", target_modality="image",
        # "to to" is in the released eval data (training used "Select the portion of the image that
        # isolates the object labeled as"); keep it so the prefix matches byte-exact.
        query_instruction="Crop the image to to isolate the object labeled as",
        target_instruction=_CROP, train_subset="MSCOCO", n_train=100_000,
        description="A COCO image and an object label against object crops.")


@register_task
class RefCOCO(Task):
    metadata = _meta(
        name="RefCOCO", split="OOD", target_modality="image",
        query_instruction="Select the portion of the image that follows the language expressions.",
        target_instruction=_CROP,
        description="A COCO image and a referring expression against object crops.")


@register_task
class RefCOCOMatching(Task):
    metadata = _meta(
        name="RefCOCO-Matching", split="OOD", target_modality="image+text",
        query_instruction="Select the portion of the image that follows the language expressions:",
        target_instruction="Select the portion of the image that follows the language expressions:",
        description="A referring expression + image against (crop, another expression) pairs; the same crop "
                    "path appears with different texts, so a candidate is identified by (text, image).")


@register_task
class Visual7WPointing(Task):
    metadata = _meta(
        name="Visual7W-Pointing", split="OOD", target_modality="image",
        query_instruction='Select the portion of the image that answers the question',
        target_instruction=_CROP,
        description="A Visual7W pointing question about an image against candidate box crops.")

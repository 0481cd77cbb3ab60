"""The 10 MMEB VQA tasks: an image with a question against candidate answers (bare text, no instruction)."""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.base import Task, TaskMetadata

VQA_INSTRUCTION = "Represent the given image with the following question:"


#: fields shared by this meta-task; a task overrides any of them
_DEFAULTS = dict(
    meta_task="vqa",
    query_modality="image+text",
    target_modality="text",
    query_instruction=VQA_INSTRUCTION,
    target_instruction="",
    n_candidates=1000,
)


def _meta(**fields) -> TaskMetadata:
    return TaskMetadata(**{**_DEFAULTS, **fields})


@register_task
class OKVQA(Task):
    metadata = _meta(name="OK-VQA", split="IND", train_subset="OK-VQA", n_train=9_000,
                     description="Outside-knowledge questions about COCO images.")


@register_task
class AOKVQA(Task):
    metadata = _meta(name="A-OKVQA", split="IND", train_subset="A-OKVQA", n_train=17_000,
                     description="Augmented outside-knowledge questions about COCO images.")


@register_task
class DocVQA(Task):
    metadata = _meta(name="DocVQA", split="IND", train_subset="DocVQA", n_train=40_000,
                     description="Questions about scanned document pages.")


@register_task
class InfographicsVQA(Task):
    metadata = _meta(name="InfographicsVQA", split="IND", train_subset="InfographicsVQA", n_train=24_000,
                     description="Questions about infographics.")


@register_task
class ChartQA(Task):
    metadata = _meta(name="ChartQA", split="IND", train_subset="ChartQA", n_train=28_000,
                     description="Questions about charts.")


@register_task
class Visual7W(Task):
    metadata = _meta(name="Visual7W", split="IND", train_subset="Visual7W", n_train=70_000,
                     description="Visual7W telling questions (what/where/when/who/why/how) about everyday images.")


@register_task
class ScienceQA(Task):
    metadata = _meta(name="ScienceQA", split="OOD",
                     description="Multimodal science questions (image context) against answer options.")


@register_task
class VizWiz(Task):
    metadata = _meta(name="VizWiz", split="OOD",
                     description="Questions asked by blind people about photos they took.")


@register_task
class GQA(Task):
    metadata = _meta(name="GQA", split="OOD",
                     description="Compositional questions about scene graphs; answers are full sentences.")


@register_task
class TextVQA(Task):
    metadata = _meta(name="TextVQA", split="OOD",
                     description="Questions that require reading text in the image.")

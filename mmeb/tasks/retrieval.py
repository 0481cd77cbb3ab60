"""The 12 MMEB retrieval tasks: text, image or both against 1000 candidates of the other (or same) modality.

Image candidates carry a short "Represent the given ..." instruction with the image token; VisDial and
Wiki-SS-NQ write it without the final period (as in the released data). Text candidates (i2t captions)
carry no instruction.
"""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.base import Task, TaskMetadata

_IMAGE = "Represent the given image."
_WIKI_PAIR = "Represent the given Wikipedia image with related text information:"


#: fields shared by this meta-task; a task overrides any of them
_DEFAULTS = dict(
    meta_task="retrieval",
    n_candidates=1000,
)


def _meta(**fields) -> TaskMetadata:
    return TaskMetadata(**{**_DEFAULTS, **fields})


@register_task
class VisDial(Task):
    metadata = _meta(
        name="VisDial", split="IND", query_modality="text", target_modality="image",
        query_instruction="Represent the given dialogue about an image, which is used for image retrieval:",
        target_instruction="Represent the given image", train_subset="VisDial", n_train=123_000,
        description="A Q/A dialogue about an image against images. Query strings end with two newlines.")


@register_task
class CIRR(Task):
    metadata = _meta(
        name="CIRR", split="IND", query_modality="image+text", target_modality="image",
        query_instruction="Given an image, find a similar everyday image with the described changes:",
        target_instruction=_IMAGE, train_subset="CIRR", n_train=26_000,
        description="Composed image retrieval: a reference image plus a modification text.")


@register_task
class VisualNewsT2I(Task):
    metadata = _meta(
        name="VisualNews_t2i", split="IND", query_modality="text", target_modality="image",
        query_instruction="Retrieve an image of this news caption.", target_instruction=_IMAGE,
        train_subset="VisualNews_t2i", n_train=100_000,
        description="A news caption against news images.")


@register_task
class VisualNewsI2T(Task):
    metadata = _meta(
        name="VisualNews_i2t", split="IND", query_modality="image", target_modality="text",
        query_instruction="Find a caption for the news in the given photo.", target_instruction="",
        train_subset="VisualNews_i2t", n_train=100_000,
        description="A news image against news captions.")


@register_task
class MSCOCOT2I(Task):
    metadata = _meta(
        name="MSCOCO_t2i", split="IND", query_modality="text", target_modality="image",
        query_instruction="Find me an everyday image that matches the given caption:", target_instruction=_IMAGE,
        train_subset="MSCOCO_t2i", n_train=100_000,
        description="A COCO caption against COCO images.")


@register_task
class MSCOCOI2T(Task):
    metadata = _meta(
        name="MSCOCO_i2t", split="IND", query_modality="image", target_modality="text",
        query_instruction="Find an image caption describing the given everyday image.", target_instruction="",
        train_subset="MSCOCO_i2t", n_train=113_000,
        description="A COCO image against COCO captions.")


@register_task
class NIGHTS(Task):
    metadata = _meta(
        name="NIGHTS", split="IND", query_modality="image", target_modality="image",
        query_instruction="Find a day-to-day image that looks similar to the provided image.",
        target_instruction=_IMAGE, train_subset="NIGHTS", n_train=16_000,
        description="Perceptual image similarity (NIGHTS): an image against images.")


@register_task
class WebQA(Task):
    metadata = _meta(
        name="WebQA", split="IND", query_modality="text", target_modality="image+text",
        query_instruction="Find a Wikipedia image that answers this question:", target_instruction=_WIKI_PAIR,
        train_subset="WebQA", n_train=17_000,
        description="A question against Wikipedia image + text pairs. Query strings carry the image token "
                    "although the query has no image.")


@register_task
class OVEN(Task):
    metadata = _meta(
        name="OVEN", split="OOD", query_modality="image+text", target_modality="image+text",
        query_instruction="Retrieve a Wikipedia image-description pair that provides evidence for the question "
                          "of this image:",
        target_instruction=_WIKI_PAIR,
        description="Open-domain visual entity recognition: an image + question against Wikipedia entities.")


@register_task
class FashionIQ(Task):
    metadata = _meta(
        name="FashionIQ", split="OOD", query_modality="image+text", target_modality="image",
        query_instruction="Find an image to match the fashion image and style note:", target_instruction=_IMAGE,
        description="Composed fashion retrieval: a garment image plus a style note.")


@register_task
class EDIS(Task):
    metadata = _meta(
        name="EDIS", split="OOD", query_modality="text", target_modality="image+text",
        query_instruction="Find a news image that matches the provided caption:",
        target_instruction="Represent the given image with related text information:",
        description="A news caption against news image + headline pairs. Query strings carry the image token "
                    "although the query has no image.")


@register_task
class WikiSSNQ(Task):
    metadata = _meta(
        name="Wiki-SS-NQ", split="OOD", query_modality="text", target_modality="image",
        query_instruction="Find the document image that can answer the given query:",
        target_instruction="Represent the given image",
        description="A Natural Questions query against Wikipedia page screenshots.")

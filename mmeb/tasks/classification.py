"""The 10 MMEB classification tasks: an image (N24News: image + caption) against its class labels.

Candidates are bare labels, so ``target_instruction`` is "". Values follow the VLM2Vec paper, Table 1.
"""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.base import Task, TaskMetadata

_CLASSIFY = "Represent the given image for classification"
_OBJECT = "Identify the object shown in the image"
_SCENE = "Identify the scene shown in the image"


#: fields shared by this meta-task; a task overrides any of them
_DEFAULTS = dict(
    meta_task="classification",
    query_modality="image",
    target_modality="text",
    target_instruction="",
)


def _meta(**fields) -> TaskMetadata:
    return TaskMetadata(**{**_DEFAULTS, **fields})


@register_task
class ImageNet1K(Task):
    metadata = _meta(
        name="ImageNet-1K", split="IND", query_instruction=_CLASSIFY, n_candidates=1000,
        train_subset="ImageNet_1K", n_train=100_000,
        description="ImageNet-1K validation images against the 1000 class names (WordNet synonyms).")


@register_task
class N24News(Task):
    metadata = _meta(
        name="N24News", split="IND", query_modality="image+text",
        query_instruction="Represent the given news image with the following caption for domain classification:",
        n_candidates=24, train_subset="N24News", n_train=49_000,
        description="A news image with its caption against the 24 news domains.")


@register_task
class HatefulMemes(Task):
    metadata = _meta(
        name="HatefulMemes", split="IND",
        query_instruction="Represent the given image for binary classification to determine whether it "
                          "constitutes hateful speech or not",
        n_candidates=2, train_subset="HatefulMemes", n_train=8_000,
        description="A meme against Yes / No: is it hateful?")


@register_task
class VOC2007(Task):
    metadata = _meta(
        name="VOC2007", split="IND", query_instruction=_OBJECT, n_candidates=20,
        train_subset="VOC2007", n_train=8_000,
        description="PASCAL VOC 2007 images against the 20 object classes.")


@register_task
class SUN397(Task):
    metadata = _meta(
        name="SUN397", split="IND", query_instruction=_SCENE, n_candidates=397,
        train_subset="SUN397", n_train=20_000,
        description="SUN397 scene images against the 397 scene labels.")


@register_task
class Place365(Task):
    metadata = _meta(
        name="Place365", split="OOD", query_instruction=_SCENE, n_candidates=365,
        description="Places365 scene images against the 365 scene labels.")


@register_task
class ImageNetA(Task):
    metadata = _meta(
        name="ImageNet-A", split="OOD", query_instruction=_CLASSIFY, n_candidates=1000,
        description="Natural adversarial ImageNet images (ImageNet-A) against ImageNet class names.")


@register_task
class ImageNetR(Task):
    metadata = _meta(
        name="ImageNet-R", split="OOD", query_instruction=_CLASSIFY, n_candidates=200,
        description="ImageNet renditions (art, cartoons, ...) against 200 class names.")


@register_task
class ObjectNet(Task):
    metadata = _meta(
        name="ObjectNet", split="OOD", query_instruction=_OBJECT, n_candidates=313,
        description="ObjectNet images against object labels. The paper lists 313 candidates, but the Hub data "
                    "has only 113 distinct labels, so candidate lists repeat labels (copies of the positive too).")


@register_task
class Country211(Task):
    metadata = _meta(
        name="Country211", split="OOD", query_instruction="Identify the country depicted in the image",
        n_candidates=211,
        description="Country211 photos against the 211 country names.")

"""The synthetic benchmark's tasks: declared like the 36 MMEB tasks (same Task class, real instruction strings),
under their own benchmark name so ``mmeb run --tasks synthetic:all`` selects them and the leaderboard gives
them a table of their own. Each mirrors one MMEB task; its instruction strings are that task's.

IND tasks have a training subset of the same name; OOD tasks are evaluation only and test generalisation to
colour-shape combinations that no training image shows, and to phrasings never trained on.
This module is light (no PIL, no torch) so listing tasks stays instant. The task registry finds it through the
``mmeb.tasks`` entry point declared in pyproject.toml (``TASK_CLASSES``); importing it also registers the tasks.
"""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.base import Task, TaskMetadata

BENCHMARK = "synthetic"
DATASET_ID = "mmeb-demo/synthetic"
#: the data is generated, not downloaded: the loader records a fingerprint of the written files
DATASET_REVISION = "generated"
N_EVAL_QUERIES = 100
N_TRAIN_ROWS = 1000
REFERENCE = "mmeb offline demo (synthetic data; instructions copied from the MMEB task named in the description)"

# instruction strings of the MMEB tasks each synthetic task mirrors (spec: mmeb-v1-tasks.md)
CLASSIFY = "Identify the object shown in the image"  # VOC2007 / ObjectNet
VQA = "Represent the given image with the following question:"  # all ten VQA tasks
T2I = "Find me an everyday image that matches the given caption:"  # MSCOCO_t2i
I2T = "Find an image caption describing the given everyday image."  # MSCOCO_i2t
I2I = "Find a day-to-day image that looks similar to the provided image."  # NIGHTS
GROUND_EVAL = "Crop the image to to isolate the object labeled as"  # MSCOCO grounding, eval ("to to" sic)
GROUND_TRAIN = "Select the portion of the image that isolates the object labeled as"  # MSCOCO grounding, train
REFEXP = "Select the portion of the image that follows the language expressions."  # RefCOCO
IMAGE_TARGET = "Represent the given image."
CROP_TARGET = "Represent the given cropped image of the object"


def _meta(name: str, meta_task, split, q_mod, t_mod, q_inst, t_inst, n_cand, mirrors: str) -> TaskMetadata:
    ind = split == "IND"
    return TaskMetadata(
        name=name, benchmark=BENCHMARK, meta_task=meta_task, split=split, query_modality=q_mod,
        target_modality=t_mod, query_instruction=q_inst, target_instruction=t_inst, n_candidates=n_cand,
        n_queries=N_EVAL_QUERIES, dataset_id=DATASET_ID, dataset_revision=DATASET_REVISION,
        train_subset=name if ind else None, n_train=N_TRAIN_ROWS if ind else None,
        description=f"Synthetic {mirrors}", reference=REFERENCE,
    )


@register_task
class SynShapes(Task):
    metadata = _meta("SynShapes", "classification", "IND", "image", "text", CLASSIFY, "", 10,
                     "VOC2007: name the colour and shape of the one object shown")


@register_task
class SynSceneQA(Task):
    metadata = _meta("SynSceneQA", "vqa", "IND", "image+text", "text", VQA, "", 8,
                     "Visual7W: a question about a scene of 2-3 shapes (colour, shape, count, position)")


@register_task
class SynDocQA(Task):
    metadata = _meta("SynDocQA", "vqa", "IND", "image+text", "text", VQA, "", 8,
                     "DocVQA: read one field of a rendered text form")


@register_task
class SynCaptionsT2I(Task):
    metadata = _meta("SynCaptions_t2i", "retrieval", "IND", "text", "image", T2I, IMAGE_TARGET, 10,
                     "MSCOCO_t2i: caption -> scene")


@register_task
class SynCaptionsI2T(Task):
    metadata = _meta("SynCaptions_i2t", "retrieval", "IND", "image", "text", I2T, "", 10,
                     "MSCOCO_i2t: scene -> caption")


@register_task
class SynSimilar(Task):
    metadata = _meta("SynSimilar", "retrieval", "IND", "image", "image", I2I, IMAGE_TARGET, 10,
                     "NIGHTS: scene -> the same scene re-rendered (objects nudged, new background)")


@register_task
class SynGrounding(Task):
    metadata = _meta("SynGrounding", "grounding", "IND", "image+text", "image", GROUND_EVAL, CROP_TARGET, 8,
                     "MSCOCO grounding: object label -> its crop of the scene")


@register_task
class SynShapesUnseen(Task):
    metadata = _meta("SynShapes-Unseen", "classification", "OOD", "image", "text", CLASSIFY, "", 10,
                     "ImageNet-A: classify colour-shape combinations absent from all training data")


@register_task
class SynSceneQAUnseen(Task):
    metadata = _meta("SynSceneQA-Unseen", "vqa", "OOD", "image+text", "text", VQA, "", 8,
                     "GQA: questions about an object of an unseen colour-shape combination")


@register_task
class SynCaptionsUnseen(Task):
    metadata = _meta("SynCaptions-Unseen", "retrieval", "OOD", "text", "image", T2I, IMAGE_TARGET, 10,
                     "MSCOCO_t2i on scenes with an unseen colour-shape combination")


@register_task
class SynRefExp(Task):
    metadata = _meta("SynRefExp", "grounding", "OOD", "image+text", "image", REFEXP, CROP_TARGET, 8,
                     "RefCOCO: a referring expression with position words -> the crop")


TASK_CLASSES: tuple[type[Task], ...] = (
    SynShapes, SynSceneQA, SynDocQA, SynCaptionsT2I, SynCaptionsI2T, SynSimilar, SynGrounding,
    SynShapesUnseen, SynSceneQAUnseen, SynCaptionsUnseen, SynRefExp,
)
TASK_NAMES: tuple[str, ...] = tuple(c.metadata.name for c in TASK_CLASSES)
IND_TASKS: tuple[str, ...] = tuple(c.metadata.name for c in TASK_CLASSES if c.metadata.split == "IND")
OOD_TASKS: tuple[str, ...] = tuple(c.metadata.name for c in TASK_CLASSES if c.metadata.split == "OOD")

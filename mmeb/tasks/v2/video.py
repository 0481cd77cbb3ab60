"""The 18 MMEB-V2 video tasks: classification (V-CLS), question answering (V-QA), text-to-video retrieval
(V-RET) and moment retrieval (V-MRET). Strings, sources and frame folders as in the official VLM2Vec code
(``src/data/eval_dataset/*.py``, ``experiments/public/eval/video.yaml``); see ``shared/spec/mmeb-v2.md`` 3.3-3.6.
"""

from __future__ import annotations

from mmeb.tasks import register_task
from mmeb.tasks.v2.base import V2Task
from mmeb.tasks.v2.metadata import V2TaskMetadata

#: the common V-QA instruction (ends with a space; the query adds one more before the payload)
QA_INSTRUCTION = ("Given a video and a question, select the most accurate answer from the provided candidates. "
                  "Return only the exact text of your chosen answer. Question: ")
VIDEO_TARGET = "Understand the content of the provided video."
CLIP_TARGET = "Understand the content of the provided video clip."
#: MomentSeeker's query instruction depends on the query's media (``input_frames``)
MOMENTSEEKER_INSTRUCTIONS = {
    "text": "Find the clip that corresponds to the given text:",
    "image": "Select the video clip that aligns with the given text and image:",
    "video": "Find the clip that corresponds to the given sentence and video segment:",
}
MVBENCH_CONFIGS = (
    "episodic_reasoning", "action_sequence", "action_prediction", "action_antonym", "fine_grained_action",
    "unexpected_action", "object_existence", "object_interaction", "object_shuffle", "moving_direction",
    "action_localization", "scene_transition", "action_count", "moving_count", "moving_attribute", "state_change",
    "fine_grained_pose", "character_order", "egocentric_navigation", "counterfactual_inference")


def _meta(**fields) -> V2TaskMetadata:
    defaults = dict(modality="video", main_metric="hit@1", num_frames=8)
    return V2TaskMetadata(**{**defaults, **fields})


def _cls(name, folder, instruction, n_queries, n_candidates, ranking="global", parser="video_classification",
         **extra):
    return _meta(name=name, group="V-CLS", meta_task="video_classification", parser=parser, ranking=ranking,
                 query_modality="video", target_modality="text", query_instruction=instruction,
                 target_instruction="", n_queries=n_queries, n_candidates=n_candidates,
                 dataset_id=f"VLM2Vec/{'Kinetics-700' if name == 'K700' else name}",
                 frame_dirs=(f"video_cls/{folder}",), **extra)


@register_task
class K700(V2Task):
    metadata = _cls("K700", "K700", "Recognize the category of the video content.", 1000, 700,
                    description="Kinetics-700 action classification: a video against the pool of 700 labels.")


@register_task
class SmthSmthV2(V2Task):
    metadata = _cls("SmthSmthV2", "SSv2",
                    "What actions or object interactions are being performed by the person in the video?", 1000,
                    None, ranking="local", parser="ssv2", row_limit=1000,
                    description="Something-Something V2: a video against its own list of action templates "
                                "(first 1000 test rows).")


@register_task
class HMDB51(V2Task):
    metadata = _cls("HMDB51", "HMDB51", "What actions or objects interactions are the person in the video doing?",
                    1000, 51, description="HMDB51 action classification: a video against the pool of 51 labels.")


@register_task
class UCF101(V2Task):
    metadata = _cls("UCF101", "UCF101",
                    "What activities or sports are being performed by the person in the video?", 1000, 101,
                    description="UCF101 action classification: a video against the pool of 101 labels.")


@register_task
class Breakfast(V2Task):
    metadata = _cls("Breakfast", "Breakfast",
                    "Recognize the breakfast type that the person is cooking in the video. ", 433, 10,
                    description="Breakfast: the dish being cooked, a video against the pool of 10 labels "
                                "(the instruction ends with a space).")


def _qa(name, parser, n_queries, n_candidates, folders, **extra):
    return _meta(name=name, group="V-QA", meta_task="video_qa", parser=parser, ranking="local",
                 query_modality="video+text", target_modality="text", query_instruction=QA_INSTRUCTION,
                 target_instruction="", n_queries=n_queries, n_candidates=n_candidates,
                 dataset_id=f"VLM2Vec/{name}", frame_dirs=folders, **extra)


@register_task
class MVBench(V2Task):
    metadata = _qa("MVBench", "mvbench", 4000, None, ("video_qa/MVBench",), dataset_configs=MVBENCH_CONFIGS,
                   dataset_split="train",
                   description="MVBench: 20 video-understanding subsets, a video + question against its options.")


@register_task
class VideoMME(V2Task):
    metadata = _qa("Video-MME", "videomme", 2700, 4, ("video_qa/Video-MME",),
                   description="Video-MME: a video + multiple-choice question against its four options.")


@register_task
class NExTQA(V2Task):
    metadata = _qa("NExTQA", "nextqa", 8564, 5, ("video_qa/NExTQA",), dataset_config="MC",
                   description="NExT-QA (multiple choice): a video + question against five answers.")


@register_task
class EgoSchema(V2Task):
    metadata = _qa("EgoSchema", "egoschema", 500, 5, ("video_qa/EgoSchema", "video_qa/egoschema"),
                   dataset_config="Subset",
                   description="EgoSchema (subset): an egocentric video + question against five options.")


@register_task
class ActivityNetQA(V2Task):
    metadata = _qa("ActivityNetQA", "activitynetqa", 1000, 2, ("video_qa/ActivityNetQA",),
                   description="ActivityNet-QA: a video + yes/no question against 'yes' and 'no'.")


def _ret(name, parser, instruction, n_queries, **extra):
    return _meta(name=name, group="V-RET", meta_task="video_retrieval", parser=parser, ranking="global",
                 query_modality="text", target_modality="video", query_instruction=instruction,
                 target_instruction=VIDEO_TARGET, n_queries=n_queries,
                 frame_dirs=(f"video_ret/{name}", f"video_ret/data/ziyan/video_retrieval/{name}/frames"),
                 **{"dataset_id": f"VLM2Vec/{name}", **extra})


@register_task
class DiDeMo(V2Task):
    metadata = _ret("DiDeMo", "didemo", "Find a video that includes the following described scenes:", 1004,
                    description="DiDeMo: a description against every test video.")


@register_task
class MSRVTT(V2Task):
    metadata = _ret("MSR-VTT", "msrvtt", "Find a video that contains the following visual content:", 1000,
                    dataset_config="test_1k", description="MSR-VTT (1k-A test): a caption against every test video.")


@register_task
class MSVD(V2Task):
    metadata = _ret("MSVD", "msvd", "Find the video snippet that corresponds to the given summary:", 670,
                    description="MSVD: a caption against every test video.")


@register_task
class VATEX(V2Task):
    metadata = _ret("VATEX", "vatex", "Select a video that fits the description provided:", 4478,
                    description="VATEX: an English caption against every test video.")


@register_task
class YouCook2(V2Task):
    metadata = _ret("YouCook2", "youcook2",
                    "Find a video that demonstrates the following action while making a recipe:", 3179,
                    dataset_id="lmms-lab/YouCook2", dataset_split="val",
                    description="YouCook2 (val): a recipe step against every video clip.")


def _mret(name, parser, instruction, n_queries, folders, **extra):
    fields = {"query_modality": "video+text", "target_instruction": VIDEO_TARGET, **extra}
    return _meta(name=name, group="V-MRET", meta_task="moment_retrieval", parser=parser, ranking="local",
                 target_modality="video", query_instruction=instruction, n_queries=n_queries,
                 dataset_id=f"VLM2Vec/{name}", frame_dirs=folders, **fields)


@register_task
class QVHighlight(V2Task):
    metadata = _mret("QVHighlight", "moment_retrieval",
                     "Find the clip that corresponds to the described scene in the given video:", 1083,
                     ("video_mret/QVHighlight",), n_candidates=10,
                     description="QVHighlights: a query + the video against its 10 clips (one positive).")


@register_task
class CharadesSTA(V2Task):
    metadata = _mret("Charades-STA", "moment_retrieval",
                     "Find the clip that corresponds to the described scene in the given video:", 727,
                     ("video_mret/Charades_STA", "video_mret/Charades-STA"), n_candidates=10,
                     description="Charades-STA: a query + the video against its 10 clips (one positive).")


@register_task
class MomentSeeker(V2Task):
    metadata = _mret("MomentSeeker", "momentseeker", "", 1602, ("video_mret/MomentSeeker",),
                     query_modality="text | image+text | video+text", target_instruction=CLIP_TARGET,
                     num_frames=None, version_repos={"v2.0.0": "VLM2Vec/MomentSeeker_1k8"},
                     version_n_queries={"v2.0.0": 1800},
                     query_instructions=MOMENTSEEKER_INSTRUCTIONS,
                     description="MomentSeeker: a text (with an image or a video segment) against its clips, "
                                 "every positive clip counts; clips use every stored frame (at most 8). "
                                 "v2.0.0 read the 1800-query set VLM2Vec/MomentSeeker_1k8.")

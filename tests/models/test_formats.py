"""Golden model-input strings per recipe and role (docs: shared spec models.md)."""

import pytest

from mmeb.errors import DataError
from mmeb.models.e5v import format_e5v
from mmeb.models.gme import format_gme
from mmeb.models.protocol import ModelInput
from mmeb.models.two_tower import tower_text
from mmeb.models.vlm2vec import format_vlm2vec

from model_helpers import image

VQA_RAW = "<|image_1|>\nRepresent the given image with the following question: What is on the table?\n"
VQA = ModelInput("Represent the given image with the following question:", "What is on the table?", image(), VQA_RAW)
WEBQA_RAW = "<|image_1|>\nFind a Wikipedia image that answers this question: Who built it?\n"
WEBQA_ORPHAN = ModelInput("Find a Wikipedia image that answers this question:", "Who built it?", None, WEBQA_RAW)
LABEL = ModelInput("", "golden retriever", None, "golden retriever")


@pytest.mark.parametrize("token", ["<|image_pad|>", "<image>", "<|image_1|>"])
def test_vlm2vec_swaps_the_placeholder_for_the_backbone_token(token):
    got = format_vlm2vec(VQA_RAW, True, image_token=token, orphan_image_token="keep_as_text")
    assert got == f"{token}\nRepresent the given image with the following question: What is on the table?\n"


@pytest.mark.parametrize("token", ["<|image_pad|>", "<image>"])
def test_vlm2vec_takes_mmeb_v2_strings_that_carry_the_qwen_token(token):
    raw = "<|image_pad|> Understand the content of the provided document image."
    assert format_vlm2vec(raw, True, image_token=token) == raw.replace("<|image_pad|>", token)


def test_vlm2vec_keeps_text_only_strings_byte_exact():
    assert format_vlm2vec("golden retriever", False, image_token="<image>", orphan_image_token="keep_as_text") \
        == "golden retriever"


def test_vlm2vec_orphan_placeholder_is_swapped_by_default_or_kept_or_dropped():
    assert format_vlm2vec(WEBQA_RAW, False, image_token="<image>") == WEBQA_RAW.replace("<|image_1|>", "<image>")
    kept = format_vlm2vec(WEBQA_RAW, False, image_token="<image>", orphan_image_token="keep_as_text")
    dropped = format_vlm2vec(WEBQA_RAW, False, image_token="<image>", orphan_image_token="drop")
    assert kept == WEBQA_RAW
    assert dropped == "\nFind a Wikipedia image that answers this question: Who built it?\n"


def test_vlm2vec_image_without_placeholder_is_a_data_error():
    with pytest.raises(DataError, match="placeholder"):
        format_vlm2vec("no token here", True, image_token="<image>", orphan_image_token="keep_as_text")


E5V_HEAD = "<|start_header_id|>user<|end_header_id|>\n\n"
E5V_TAIL = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n \n"


def test_e5v_prompts_per_modality_ignore_the_instruction():
    text_only = ModelInput("Find an image:", "A dog runs.", None, "Find an image: A dog runs.\n")
    image_only = ModelInput("Represent the given image.", "", image(), "<|image_1|>\nRepresent the given image.\n")
    assert format_e5v(text_only) == E5V_HEAD + "A dog runs.\nSummary above sentence in one word: " + E5V_TAIL
    assert format_e5v(image_only) == E5V_HEAD + "<image>\nSummary above image in one word: " + E5V_TAIL
    assert format_e5v(VQA) == (E5V_HEAD + "<image>\nWhat is on the table?\nSummary above image and text in one word: "
                               + E5V_TAIL)


GME_SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
GME_TAIL = "<|im_end|>\n<|im_start|>assistant\n<|endoftext|>"
GME_VISION = "<|vision_start|><|image_pad|><|vision_end|>"


@pytest.mark.parametrize("task, inp, role, user", [
    ("ImageNet-1K", ModelInput("Represent the given image for classification", "", image(),
                               "<|image_1|>\nRepresent the given image for classification\n"), "query",
     "\nRepresent the given image for classification \n"),
    ("OK-VQA", ModelInput("Represent the given image with the following question:", "what color is the car?", image(),
                          "<|image_1|>\nRepresent the given image with the following question: what color is the car?\n"),
     "query", "\nRepresent the given image with the following question: what color is the car?\n"),
    ("WebQA", ModelInput("Find a Wikipedia image that answers this question:", "what color is the cat?", None,
                         "<|image_1|>\nFind a Wikipedia image that answers this question: what color is the cat?\n"),
     "query", "Find a Wikipedia image that answers this question: what color is the cat?\n"),
    ("VisDial", ModelInput("Represent the given dialogue about an image, which is used for image retrieval:",
                           "Q:is it a cat A:yes", None, "Represent the given dialogue about an image, which is used "
                           "for image retrieval: Q:is it a cat A:yes\n\n"), "query",
     "Represent the given dialogue about an image, which is used for image retrieval: Q:is it a cat A:yes\n\n"),
    ("MSCOCO_t2i", ModelInput("Represent the given image.", "", image(), "<|image_1|>\nRepresent the given image.\n"),
     "candidate", "\nRepresent the given image. \n"),
    ("WebQA", ModelInput("Represent the given Wikipedia image with related text information:", "A cat.", image(),
                         "<|image_1|>\nRepresent the given Wikipedia image with related text information: A cat.\n"),
     "candidate", "\nRepresent the given Wikipedia image with related text information: A cat. \n"),
    ("RefCOCO", ModelInput("Represent the given cropped image of the object", "", image(),
                           "<|image_1|>\nRepresent the given cropped image of the object\n"), "candidate",
     "\nRepresent the given cropped image of the object "),
    ("ImageNet-1K", LABEL, "candidate", "golden retriever"),
])
def test_gme_default_user_text_is_what_the_v2_image_parsers_build(task, inp, role, user):
    """Spec models.md s.5 (VLM2Vec V2 eval, backbone gme): default system turn, user text per V2 parser."""
    vision = GME_VISION if inp.image is not None else ""
    assert format_gme(inp, role, task_name=task) == GME_SYSTEM + vision + user + GME_TAIL


def test_gme_native_puts_the_query_instruction_verbatim_in_the_system_turn():
    assert format_gme(VQA, "query", recipe="native") == (
        "<|im_start|>system\nRepresent the given image with the following question:<|im_end|>\n"
        "<|im_start|>user\n" + GME_VISION + "What is on the table?" + GME_TAIL)
    candidate = ModelInput("Represent the given image.", "", image(), "<|image_1|>\nRepresent the given image.\n")
    assert format_gme(candidate, "candidate", recipe="native") == GME_SYSTEM + GME_VISION + GME_TAIL
    assert format_gme(LABEL, "candidate", recipe="native") == GME_SYSTEM + "golden retriever" + GME_TAIL


def test_two_tower_text_is_the_instruction_and_text_without_the_placeholder():
    assert tower_text(VQA) == "Represent the given image with the following question: What is on the table?"
    assert tower_text(LABEL) == "golden retriever"
    assert tower_text(ModelInput("", "", image(), "<|image_1|>\n")) == ""


@pytest.mark.parametrize("inp, role, user", [
    (ModelInput("Recognize the category of the video content.", "", None,
                "<|video_pad|> Recognize the category of the video content.", frames=(image(),) * 3), "query",
     "Recognize the category of the video content. "),
    (ModelInput("", "waiting_in_line", None, "waiting_in_line"), "candidate", "waiting_in_line"),
    (ModelInput("Find a document image that matches the given query:", "what is the revenue?", None,
                "Find a document image that matches the given query: what is the revenue?"), "query",
     "Find a document image that matches the given query: what is the revenue?"),
    (ModelInput("Understand the content of the provided document image.", "", image(),
                "<|image_pad|> Understand the content of the provided document image."), "candidate",
     "Understand the content of the provided document image. "),
])
def test_gme_default_user_text_for_the_v2_video_and_document_parsers(inp, role, user):
    """V2 video / visdoc parsers call process_input_text, which for GME is instruction + " " + payload
    (instruction + " " without one), with no newline fixes; text candidates are the stored labels."""
    from mmeb.models.gme import v2_user_text

    assert v2_user_text(inp, role, "video_cls" if inp.frames or role == "candidate" else "vidore") == user

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


def test_vlm2vec_keeps_text_only_strings_byte_exact():
    assert format_vlm2vec("golden retriever", False, image_token="<image>", orphan_image_token="keep_as_text") \
        == "golden retriever"


def test_vlm2vec_orphan_placeholder_is_kept_as_text_or_dropped():
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


def test_gme_query_instruction_is_the_system_turn_with_a_period():
    query = ModelInput("Find an image that matches the given text", "A dog runs", None,
                       "Find an image that matches the given text A dog runs\n")
    assert format_gme(query, "query") == (
        "<|im_start|>system\nFind an image that matches the given text.<|im_end|>\n"
        "<|im_start|>user\nA dog runs<|im_end|>\n<|im_start|>assistant\n<|endoftext|>")


def test_gme_candidates_get_the_default_and_vision_block_only_with_an_image():
    candidate = ModelInput("Represent the given image.", "", image(), "<|image_1|>\nRepresent the given image.\n")
    assert format_gme(candidate, "candidate") == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n"
        "<|im_start|>assistant\n<|endoftext|>")
    assert "<|vision_start|>" not in format_gme(LABEL, "candidate")
    # only a trailing period counts as "has a period", as in the official code
    assert format_gme(VQA, "query").startswith("<|im_start|>system\nRepresent the given image with the following "
                                               "question:.<|im_end|>\n<|im_start|>user\n<|vision_start|>")


def test_two_tower_text_is_the_instruction_and_text_without_the_placeholder():
    assert tower_text(VQA) == "Represent the given image with the following question: What is on the table?"
    assert tower_text(LABEL) == "golden retriever"
    assert tower_text(ModelInput("", "", image(), "<|image_1|>\n")) == ""

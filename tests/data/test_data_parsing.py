"""Released MMEB strings -> Item: raw text byte-exact, instruction and payload split."""

import pytest

from mmeb.data.parsing import parse_item, parse_row
from mmeb.errors import DataError

VQA = "Represent the given image with the following question:"


def test_query_with_image_token_instruction_and_payload():
    raw = f"<|image_1|>\n{VQA} What is on the table?\n"
    item = parse_item(raw, VQA, "OK-VQA/a.jpg")
    assert item.raw_text == raw  # byte-exact, placeholder and newline kept
    assert (item.instruction, item.text, item.image_path) == (VQA, "What is on the table?", "OK-VQA/a.jpg")


def test_visdial_double_newline_is_kept_raw_and_stripped_from_payload():
    inst = "Represent the given dialogue about an image, which is used for image retrieval:"
    raw = f"{inst} Q: is it a dog A: yes\n\n"
    item = parse_item(raw, inst)
    assert item.raw_text.endswith("yes\n\n") and item.text == "Q: is it a dog A: yes"


def test_instruction_only_string_has_empty_payload():
    item = parse_item("<|image_1|>\nRepresent the given image.\n", "Represent the given image.", "x.png")
    assert (item.instruction, item.text) == ("Represent the given image.", "")


def test_token_without_image_path_keeps_token_in_raw_only():
    inst = "Find a Wikipedia image that answers this question:"
    item = parse_item(f"<|image_1|>\n{inst} Who built it?\n", inst, "")
    assert not item.has_image and item.raw_text.startswith("<|image_1|>") and item.text == "Who built it?"


def test_bare_label_and_paraphrased_instruction_never_crash():
    assert parse_item("artichoke, globe artichoke", "").text == "artichoke, globe artichoke"
    item = parse_item("<|image_1|>\nShow me the object in this picture\n", "Identify the object shown in the image")
    assert (item.instruction, item.text) == ("", "Show me the object in this picture")


def test_instruction_matches_only_at_word_boundary():
    # VisDial's target instruction has no period; a string with one is not that instruction plus "."
    item = parse_item("<|image_1|>\nRepresent the given image.\n", "Represent the given image")
    assert (item.instruction, item.text) == ("", "Represent the given image.")


def test_scalar_empty_tgt_text_means_image_only_candidates():
    row = parse_row("q", "", "", ["a.png", "b.png"], query_instruction="", target_instruction="",
                    row_index=3, where="task T, row 3 of f.parquet")
    assert [c.image_path for c in row.candidates] == ["a.png", "b.png"] and row.row_index == 3


@pytest.mark.parametrize("tgt_text, tgt_img, message", [
    (["a", "b"], ["x.png"], r"task T, row 3 of f.parquet: tgt_text has 2 entries but tgt_img_path has 1"),
    ([], [], r"task T, row 3 of f.parquet: empty candidate list"),
    (5, [""], r"task T, row 3 of f.parquet: tgt_text should be a list"),
])
def test_malformed_rows_name_task_row_and_file(tgt_text, tgt_img, message):
    with pytest.raises(DataError, match=message):
        parse_row("q", "", tgt_text, tgt_img, query_instruction="", target_instruction="", row_index=3,
                  where="task T, row 3 of f.parquet")

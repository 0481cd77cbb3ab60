"""Phi-3.5-V is remote code only: test its formatting, per-item processing, right padding and pooling with a
stand-in processor (Phi's call convention: one prompt + its images per call) and a tiny Llama backbone."""

import torch
from model_helpers import image

from mmeb.models.protocol import ModelInput
from mmeb.testing.phi3v import StandInPhi, StandInProcessor
from mmeb.models.vlm2vec import Phi3VEmbedder, VLM2VecRecipe


def make():
    processor = StandInProcessor()
    recipe = VLM2VecRecipe.for_backbone("phi3_v")
    model = StandInPhi(len(processor.tokenizer))
    return Phi3VEmbedder(model, processor, recipe, name="phi-standin", revision=None, metadata={}), processor


INPUTS = [
    ModelInput("Represent the given image.", "", image(), "<|image_1|>\nRepresent the given image.\n"),
    ModelInput("Find a caption:", "a dog on a red car", None, "Find a caption: a dog on a red car\n"),
    ModelInput("Find an image:", "who built it?", None, "<|image_1|>\nFind an image: who built it?\n"),  # orphan
]


def test_phi_recipe_defaults():
    recipe = VLM2VecRecipe.for_backbone("phi3_v")
    assert (recipe.image_token, recipe.padding_side, recipe.num_crops) == ("<|image_1|>", "right", 4)


def test_phi_items_are_processed_one_at_a_time_with_the_raw_string():
    model, processor = make()
    batch = model.prepare(INPUTS, task_name="WebQA", role="query")
    assert processor.calls == [(INPUTS[0].raw_text, 1), (INPUTS[1].raw_text, None), (INPUTS[2].raw_text, None)]
    assert batch["pixel_values"].shape[0] == 1 and batch["image_sizes"].tolist() == [[30, 40]]
    assert batch["attention_mask"][:, 0].min() == 1  # right padding: every row starts with a real token


def test_phi_pools_the_last_real_token_and_is_batch_independent():
    model, _ = make()
    batch = model.prepare(INPUTS, task_name="T", role="query")
    got = model.embed(batch)
    with torch.inference_mode():
        hidden = model.model.model.llama(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    last = batch["attention_mask"].sum(1) - 1
    torch.testing.assert_close(got, torch.nn.functional.normalize(hidden[torch.arange(3), last], dim=-1))
    alone = torch.cat([model.encode([x], task_name="T", role="query") for x in INPUTS])
    torch.testing.assert_close(got, alone, atol=1e-5, rtol=1e-5)

"""Phi-3.5-V is remote code only: test its formatting, per-item processing, right padding and pooling with a
stand-in processor (Phi's call convention: one prompt + its images per call) and a tiny Llama backbone."""

import torch
from model_helpers import image

from mmeb.models.protocol import ModelInput
from mmeb.testing.models import word_tokenizer
from mmeb.models.vlm2vec import Phi3VEmbedder, VLM2VecRecipe


class StandInProcessor:
    """Phi3VProcessor's interface: ``processor(text, [image] or None)``; image tags become image tokens only
    when images are passed, otherwise ``<|image_1|>`` is plain text."""

    def __init__(self):
        self.tokenizer = word_tokenizer(["image_1"], ["<|image|>"])
        self.calls = []

    def __call__(self, text, images=None, return_tensors="pt", **kwargs):
        self.calls.append((text, None if images is None else len(images)))
        if images:
            text = text.replace("<|image_1|>", "<|image|> " * 3)  # 3 image tokens per image
        out = self.tokenizer(text, return_tensors="pt")
        if images:
            out["pixel_values"] = torch.zeros(1, 5, 3, 8, 8)  # num_crops=4 + global
            out["image_sizes"] = torch.tensor([[images[0].height, images[0].width]])
        return out


class StandInPhiModel(torch.nn.Module):
    """Phi3VModel's forward signature over a tiny Llama (the vision path is not under test here)."""

    def __init__(self, vocab_size):
        from transformers import LlamaConfig, LlamaModel

        super().__init__()
        torch.manual_seed(0)
        self.llama = LlamaModel(LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37,
                                            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4))

    def forward(self, input_ids, attention_mask, pixel_values=None, image_sizes=None):
        return self.llama(input_ids=input_ids, attention_mask=attention_mask)


class StandInPhi(torch.nn.Module):
    """Phi3VForCausalLM's shape: ``.model`` (the base) + ``.lm_head``."""

    def __init__(self, vocab_size):
        super().__init__()
        self.model = StandInPhiModel(vocab_size)
        self.lm_head = torch.nn.Identity()
        self.config = self.model.llama.config

    @property
    def dtype(self):
        return self.model.llama.dtype


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

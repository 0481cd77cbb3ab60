"""The shared VLM core: last non-pad pooling under either padding side, batch independence, normalisation."""

import pytest
import torch

from mmeb.models.protocol import ModelInput
from mmeb.models.vlm import last_token_pool

from model_helpers import image

VLMS = ["tiny-qwen2vl", "tiny-llava-next"]


def test_last_token_pool_left_and_right_padding():
    hidden = torch.arange(2 * 4, dtype=torch.float32).reshape(2, 4, 1)
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    assert last_token_pool(hidden, right)[:, 0].tolist() == [1.0, 7.0]
    assert last_token_pool(hidden, left)[:, 0].tolist() == [3.0, 7.0]


@pytest.mark.parametrize("preset", VLMS)
def test_embedding_is_normalised_and_independent_of_batch_mates(tiny_model, mixed_inputs, preset):
    model = tiny_model(preset)
    together = model.encode(mixed_inputs, task_name="T", role="query")
    alone = torch.cat([model.encode([x], task_name="T", role="query") for x in mixed_inputs])
    assert together.dtype == torch.float32 and together.shape[0] == len(mixed_inputs)
    torch.testing.assert_close(together.norm(dim=-1), torch.ones(len(mixed_inputs)))
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-4)


def test_left_and_right_padding_give_the_same_embeddings(tiny_model, mixed_inputs):
    model = tiny_model("tiny-qwen2vl")
    left = model.encode(mixed_inputs, task_name="T", role="query")
    batch_left = model.prepare(mixed_inputs, task_name="T", role="query")
    model.padding_side = "right"
    try:
        batch_right = model.prepare(mixed_inputs, task_name="T", role="query")
        right = model.embed(batch_right)
    finally:
        model.padding_side = "left"
    assert batch_left["attention_mask"][:, 0].min() == 0 and batch_right["attention_mask"][:, -1].min() == 0
    torch.testing.assert_close(left, right, atol=1e-4, rtol=1e-4)


def test_pooled_position_is_the_last_real_token(tiny_model, mixed_inputs):
    """Pool by hand from the base model's last_hidden_state at the last real token of a right-padded batch."""
    model = tiny_model("tiny-llava-next")
    model.padding_side = "right"
    try:
        batch = model.prepare(mixed_inputs, task_name="T", role="query")
        got = model.embed(batch)
    finally:
        model.padding_side = "left"
    with torch.inference_mode():
        plain = {k: v for k, v in batch.items() if k != "image_rows"}  # right padding: arange = 1-D positions
        hidden = model.model.model(**plain).last_hidden_state
    last = batch["attention_mask"].sum(1) - 1
    want = torch.nn.functional.normalize(hidden[torch.arange(len(last)), last], dim=-1)
    torch.testing.assert_close(got, want)


def test_image_tokens_expand_and_an_orphan_stays_one_swapped_token(tiny_model):
    model = tiny_model("tiny-qwen2vl")
    image_id = model.model.config.image_token_id
    with_image = ModelInput("q", "", image(), "<|image_1|>\nq\n")
    orphan = ModelInput("q", "", None, "<|image_1|>\nq\n")
    batch = model.prepare([with_image, orphan], task_name="WebQA", role="query")
    n_image_tokens = (batch["input_ids"] == image_id).sum(1).tolist()
    merged = int(batch["image_grid_thw"].prod(-1).sum()) // 4  # spatial_merge_size 2 -> 4 patches per token
    assert n_image_tokens == [merged, 1]  # WebQA's orphan placeholder: swapped, one ordinary token
    assert batch["image_rows"].tolist() == [True, False]


def test_settings_record_every_recipe_choice(tiny_model):
    settings = tiny_model("tiny-llava-next").settings
    for key in ("input_format", "image_token", "orphan_image_token", "pooling", "padding_side", "normalize",
                "image_resize", "min_pixels", "max_pixels", "dtype", "attn_implementation", "max_length"):
        assert key in settings
    assert settings["dtype"] == "float32" and settings["padding_side"] == "left"


def test_recipe_overrides_are_applied_and_recorded(tiny_dir):
    from mmeb.errors import ConfigError
    from mmeb.models import load_model

    model = load_model(str(tiny_dir("tiny-llava-next")), device="cpu", image_resize=[16, 16], orphan_image_token="drop")
    assert model.settings["image_resize"] == [16, 16] and model.settings["orphan_image_token"] == "drop"
    batch = model.prepare([ModelInput("q", "", image(90, 20), "<|image_1|>\nq\n")], task_name="T", role="query")
    assert batch["image_sizes"].tolist() == [[16, 16]]  # square resize before the processor
    with pytest.raises(ConfigError, match="image_rezise"):
        load_model(str(tiny_dir("tiny-llava-next")), device="cpu", image_rezise=[16, 16])


@pytest.mark.parametrize("preset", VLMS)
def test_input_forming_pickles_for_worker_processes(tiny_model, mixed_inputs, preset):
    """The engine may run ``prepare`` in worker processes: the input former (with its PIL / 4.46-padding image
    processor) must pickle and form the same batch."""
    import pickle

    model = tiny_model(preset)
    clone = pickle.loads(pickle.dumps(model.inputs))
    texts = [model.format(x, task_name="T", role="query") for x in mixed_inputs]
    images = [model.image_for(x.image) if x.image is not None else None for x in mixed_inputs]
    want, got = model.inputs(texts, images), clone(texts, images)
    assert want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want)

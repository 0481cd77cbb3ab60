"""Golden tests: the LLaVA-NeXT recipes (VLM2Vec-LLaVA-NeXT v1, E5-V) embed as the official code did.

References from the spec (models.md s.2, s.4): strings written out per case, anyres pixels with the
transformers <= 4.46 padding from :mod:`golden`, the HF model pieces with 1-D positions, last token, L2.
"""

import pytest
from golden import CASES, WORDS, cosine, llava_embedding, llava_pixels, saved_config

from mmeb.models import load_model

THRESHOLD = 0.999999
BY_NAME = {c.name: c for c in CASES}


def _load(name, directory, **kwargs):
    return load_model(name, weights=str(directory), device="cpu", dtype="float32", **kwargs)


def _embed(model, case):
    return model.encode([case.inp], task_name=case.task, role=case.role)[0]


def _grid(directory):
    config = saved_config(directory, "processor_config.json")["image_processor"]
    return config["image_grid_pinpoints"], config["crop_size"]["height"]


@pytest.fixture(scope="module")
def e5v_dir(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-e5v", tmp_path_factory.mktemp("golden") / "e5v", vocab_words=WORDS, golden=True)


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-llava-next", tmp_path_factory.mktemp("golden") / "llava", vocab_words=WORDS, golden=True)


# ---------------------------------------------------------------------------------------------- E5-V
HEAD = "<|start_header_id|>user<|end_header_id|>\n\n"
TAIL = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n \n"
IMAGE_ONLY = "<image>\nSummary above image in one word: "

#: s.4: the E5-V prompt per case (task instructions ignored; image+text: the VLM2Vec extension)
E5V_X = {
    "instruction_image_query": IMAGE_ONLY,
    "text_query": "a dog on a red car\nSummary above sentence in one word: ",
    "visdial_two_newlines": "Q: is it a cat A: yes\nSummary above sentence in one word: ",
    "image_text_query": "<image>\nwhat color is the car?\nSummary above image and text in one word: ",
    "bare_label": "golden retriever\nSummary above sentence in one word: ",
    "image_candidate": IMAGE_ONLY,
    "orphan_placeholder": "what color is the cat?\nSummary above sentence in one word: ",
    "small_image": IMAGE_ONLY,
    "palette_png": IMAGE_ONLY,
    "rgba_png": IMAGE_ONLY,
    "large_image": "<image>\nwhat is it?\nSummary above image and text in one word: ",
}


@pytest.fixture(scope="module")
def e5v(e5v_dir):
    return _load("e5-v", e5v_dir)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_e5v_matches_the_readme_recipe(e5v, e5v_dir, name):
    case = BY_NAME[name]
    pinpoints, side = _grid(e5v_dir)
    image = case.inp.image
    pixels = llava_pixels(image.convert("RGB"), pinpoints, side) if image is not None else None
    want = llava_embedding(e5v.model, e5v.processor.tokenizer, HEAD + E5V_X[name] + TAIL, pixels)
    assert cosine(_embed(e5v, case), want) >= THRESHOLD


def test_the_446_anyres_padding_is_what_makes_the_rgba_case_match(e5v, e5v_dir):
    """45x31 on the 32x32 grid leaves 9 rows: 4.46 pads 4 + 4 (one row short), 5.x pads 4 + 5."""
    from transformers import LlavaNextImageProcessorPil

    case = BY_NAME["rgba_png"]
    exact = LlavaNextImageProcessorPil(**{k: v for k, v in e5v.processor.image_processor.to_dict().items()
                                          if k not in ("image_processor_type", "processor_class")})
    ours = e5v.processor.image_processor(case.inp.image.convert("RGB"), return_tensors="pt")["pixel_values"]
    theirs = exact(case.inp.image.convert("RGB"), return_tensors="pt")["pixel_values"]
    pinpoints, side = _grid(e5v_dir)
    reference = llava_pixels(case.inp.image.convert("RGB"), pinpoints, side)[0]
    assert (ours - reference).abs().max() < 1e-5 and (theirs - reference).abs().max() > 1e-2


# ---------------------------------------------------------------------------------------------- VLM2Vec LLaVA
@pytest.fixture(scope="module")
def vlm2vec_llava(llava_dir):
    return _load("vlm2vec-llava", llava_dir)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_vlm2vec_llava_matches_the_v1_recipe(vlm2vec_llava, llava_dir, name):
    """s.2: the stored string with <image> swapped in unconditionally, 1344x1344 in the file's mode."""
    case = BY_NAME[name]
    pinpoints, side = _grid(llava_dir)
    image = case.inp.image
    pixels = llava_pixels(image.resize((1344, 1344)).convert("RGB"), pinpoints, side) if image is not None else None
    string = case.inp.raw_text.replace("<|image_1|>", "<image>")
    want = llava_embedding(vlm2vec_llava.model, vlm2vec_llava.processor.tokenizer, string, pixels)
    assert cosine(_embed(vlm2vec_llava, case), want) >= THRESHOLD

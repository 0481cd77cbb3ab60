"""Golden tests: the Qwen2-VL recipes (VLM2Vec v1 / V2, GME default and native) embed as the official code did.

Each reference is built here from the spec (models.md s.2, s.3, s.5, s.9): the model string per case is
written out by hand, the pixels come from :mod:`golden` (PIL + numpy as the 4.x slow processors), and the
embedding from the HF model pieces with 1-D positions. Tiny models: whitespace-sensitive tokenizer, O(1)
weights, rope_theta 10, so any string, position or pixel difference moves the cosine well below 0.999999.
"""

import pytest
import torch
from golden import CASES, WORDS, cosine, noise, qwen_embedding, qwen_pixels, qwen_video_pixels

from mmeb.models.protocol import ModelInput
from PIL import Image

from mmeb.models import load_model

THRESHOLD = 0.999999
BY_NAME = {c.name: c for c in CASES}
IMAGE_CASES = [c.name for c in CASES if c.inp.image is not None]


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    from mmeb.testing.models import build

    return build("tiny-gme", tmp_path_factory.mktemp("golden") / "qwen", vocab_words=WORDS, golden=True)


def _load(name, directory, **kwargs):
    return load_model(name, weights=str(directory), device="cpu", dtype="float32", **kwargs)


@pytest.fixture(scope="module")
def v2(qwen_dir):
    return _load("vlm2vec-v2", qwen_dir)


@pytest.fixture(scope="module")
def gme(qwen_dir):
    return _load("gme-qwen2vl-2b", qwen_dir)


@pytest.fixture(scope="module")
def gme_native(qwen_dir):
    return _load("gme-qwen2vl-2b", qwen_dir, recipe="native")


def _embed(model, case):
    return model.encode([case.inp], task_name=case.task, role=case.role)[0]


def _vlm2vec_string(case):  # s.2 / s.3: the stored string, placeholder swapped unconditionally
    return case.inp.raw_text.replace("<|image_1|>", "<|image_pad|>")


# ---------------------------------------------------------------------------------------------- VLM2Vec-V2
def _v2_pixels(image):  # s.3: a side under 28 px -> 56x56 in the file's mode; plain RGB; caps 4..1280 tokens
    if image.width < 28 or image.height < 28:
        image = image.resize((56, 56))
    return qwen_pixels(image.convert("RGB"), 4 * 28 * 28, 1280 * 28 * 28)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_vlm2vec_v2_matches_the_official_recipe(v2, name):
    case = BY_NAME[name]
    pixels = _v2_pixels(case.inp.image) if case.inp.image is not None else None
    want = qwen_embedding(v2.model, v2.processor.tokenizer, _vlm2vec_string(case), pixels)
    assert cosine(_embed(v2, case), want) >= THRESHOLD


VIDEOS = {  # MMEB-V2 spec s.3.3 / s.3.5: one <|video_pad|> at the start, the frames as one video
    "video_cls_query_odd_frames": ("K700", "query", ModelInput(
        "Recognize the category of the video content.", "", None,
        "<|video_pad|> Recognize the category of the video content.",
        frames=tuple(noise(90, 60, 20 + i) for i in range(5)))),
    "video_candidate_palette_frames": ("MSR-VTT", "candidate", ModelInput(
        "Understand the content of the provided video.", "", None,
        "<|video_pad|> Understand the content of the provided video.",
        frames=tuple(noise(60, 90, 30 + i, "P") for i in range(8)))),
}


@pytest.mark.parametrize("name", list(VIDEOS))
def test_vlm2vec_v2_video_matches_the_v2_recipe(v2, name):
    """The stored string as is, each frame plain RGB (no <28 px rule for frames), the size from the first
    frame within the image caps, 1-D positions."""
    task, role, inp = VIDEOS[name]
    pixels = qwen_video_pixels(inp.frames, 4 * 28 * 28, 1280 * 28 * 28)
    want = qwen_embedding(v2.model, v2.processor.tokenizer, inp.raw_text, pixels, video=True)
    got = v2.encode([inp], task_name=task, role=role)[0]
    assert cosine(got, want) >= THRESHOLD


def test_vlm2vec_v2_sizes_narrow_video_frames_as_its_processor_did(v2):
    # the vendored smart_resize takes a frame with a side under 28 px as a square of its long side: 100x10 frames
    # become 112x112 (without that rule they would be 196x28)
    task, role, clip = VIDEOS["video_cls_query_odd_frames"]
    inp = ModelInput(clip.instruction, "", None, clip.raw_text, frames=tuple(noise(100, 10, 40 + i) for i in range(3)))
    square = tuple(f.convert("RGB").resize((112, 112), Image.Resampling.BICUBIC) for f in inp.frames)
    want = qwen_embedding(v2.model, v2.processor.tokenizer, inp.raw_text,
                          qwen_video_pixels(square, 4 * 28 * 28, 1280 * 28 * 28), video=True)
    assert cosine(v2.encode([inp], task_name=task, role=role)[0], want) >= THRESHOLD


def test_vlm2vec_v2_takes_an_extreme_aspect_image_as_a_square(v2):
    # V2's vendored smart_resize (src/model/vlm_backbone/qwen2_vl/image_processing_qwen2_vl.py) computes an image
    # whose aspect ratio is over 200 as a square of its long side (transformers 5's raises): 6100x30 -> 980x980
    case = BY_NAME["instruction_image_query"]
    inp = ModelInput(case.inp.instruction, "", noise(6100, 30, 8), case.inp.raw_text)
    square = inp.image.convert("RGB").resize((980, 980), Image.Resampling.BICUBIC)
    want = qwen_embedding(v2.model, v2.processor.tokenizer, _vlm2vec_string(case),
                          qwen_pixels(square, 4 * 28 * 28, 1280 * 28 * 28))
    assert cosine(v2.encode([inp], task_name=case.task, role=case.role)[0], want) >= THRESHOLD


def test_vlm2vec_v2_applies_and_records_its_caps(v2):
    assert (v2.settings["min_pixels"], v2.settings["max_pixels"]) == (4 * 28 * 28, 1280 * 28 * 28)
    batch = v2.prepare([BY_NAME["large_image"].inp], task_name="OK-VQA", role="query")
    assert int(batch["image_grid_thw"].prod()) // 4 <= 1280  # 1500x1100 scaled down within the cap


# ---------------------------------------------------------------------------------------------- VLM2Vec v1
@pytest.mark.slow
@pytest.mark.parametrize("name", ["text_query", "orphan_placeholder", "palette_png", "rgba_png", "large_image"])
def test_vlm2vec_qwen2vl_v1_matches_the_official_recipe(qwen_dir, name):
    """s.2: 1344x1344 in the file's mode, plain RGB, the saved caps (3136..12845056: 2304 tokens)."""
    model = _load("vlm2vec-qwen2vl-2b", qwen_dir)
    case = BY_NAME[name]
    image = case.inp.image
    pixels = qwen_pixels(image.resize((1344, 1344)).convert("RGB"), 3136, 12845056) if image is not None else None
    want = qwen_embedding(model.model, model.processor.tokenizer, _vlm2vec_string(case), pixels)
    assert cosine(_embed(model, case), want) >= THRESHOLD
    assert model.settings["max_pixels"] == 12845056


# ---------------------------------------------------------------------------------------------- GME
SYSTEM = "<|im_start|>system\n{}<|im_end|>\n<|im_start|>user\n"
TAIL = "<|im_end|>\n<|im_start|>assistant\n<|endoftext|>"
VISION = "<|vision_start|><|image_pad|><|vision_end|>"
HELPFUL = "You are a helpful assistant."

#: s.5 default: the user text the VLM2Vec V2 image parsers build for backbone gme, per case
GME_DEFAULT_USER = {
    "instruction_image_query": "\nRepresent the given image for classification \n",
    "text_query": "Find me an everyday image that matches the given caption: a dog on a red car\n",
    "visdial_two_newlines": "Represent the given dialogue about an image, which is used for image retrieval: "
                            "Q: is it a cat A: yes\n\n",
    "image_text_query": "\nRepresent the given image with the following question: what color is the car?\n",
    "bare_label": "golden retriever",
    "image_candidate": "\nRepresent the given image. \n",
    "orphan_placeholder": "Find a Wikipedia image that answers this question: what color is the cat?\n",
    "small_image": "\nRepresent the given image for classification \n",
    "palette_png": "\nRepresent the given image. \n",
    "rgba_png": "\nRepresent the given cropped image of the object ",
    "large_image": "\nRepresent the given image with the following question: what is it?\n",
}


def _gme_pixels(image, min_pixels):
    """fetch_image: plain RGB, resize to multiples of 28 within 4..16384 tokens (bicubic); then the processor's
    own smart resize within the recipe's caps."""
    image = image.convert("RGB")
    h = max(28, round(image.height / 28) * 28)
    w = max(28, round(image.width / 28) * 28)
    if h * w < 4 * 28 * 28:
        import math

        beta = math.sqrt(4 * 28 * 28 / (image.height * image.width))
        h, w = math.ceil(image.height * beta / 28) * 28, math.ceil(image.width * beta / 28) * 28
    image = image.resize((w, h), Image.Resampling.BICUBIC)
    return qwen_pixels(image, min_pixels, 1280 * 28 * 28)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_gme_default_matches_the_v2_eval_route(gme, name):
    case = BY_NAME[name]
    image = case.inp.image
    string = SYSTEM.format(HELPFUL) + (VISION if image is not None else "") + GME_DEFAULT_USER[name] + TAIL
    pixels = _gme_pixels(image, 4 * 28 * 28) if image is not None else None
    want = qwen_embedding(gme.model, gme.processor.tokenizer, string, pixels)
    assert cosine(_embed(gme, case), want) >= THRESHOLD


@pytest.mark.parametrize("name", ["instruction_image_query", "text_query", "image_text_query", "bare_label",
                                  "image_candidate", "small_image", "rgba_png"])
def test_gme_native_matches_gme_inference(gme_native, name):
    """s.5 native: the query instruction verbatim as the system turn, the payload alone, caps 256..1280."""
    case = BY_NAME[name]
    inp = case.inp
    system = inp.instruction if case.role == "query" and inp.instruction else HELPFUL
    string = SYSTEM.format(system) + (VISION if inp.image is not None else "") + inp.text + TAIL
    pixels = _gme_pixels(inp.image, 256 * 28 * 28) if inp.image is not None else None
    want = qwen_embedding(gme_native.model, gme_native.processor.tokenizer, string, pixels)
    assert cosine(_embed(gme_native, case), want) >= THRESHOLD


def test_gme_records_recipe_and_caps(gme, gme_native):
    assert gme.settings["recipe"] == "default" and gme_native.settings["recipe"] == "native"
    assert (gme.settings["min_pixels"], gme.settings["max_pixels"]) == (4 * 28 * 28, 1280 * 28 * 28)
    assert (gme_native.settings["min_pixels"], gme_native.settings["max_pixels"]) == (256 * 28 * 28, 1280 * 28 * 28)


def test_m_rope_positions_would_change_the_embedding(gme):
    """The tiny model is position-sensitive: M-RoPE (what transformers 5 computes by default) differs."""
    case = BY_NAME["image_candidate"]
    batch = gme.prepare([case.inp], task_name=case.task, role=case.role)
    with torch.no_grad():
        plain = {k: v for k, v in batch.items() if k != "image_rows"}
        mm_types = (batch["input_ids"] == gme.model.config.image_token_id).int()
        hidden = gme.model.model(**plain, mm_token_type_ids=mm_types).last_hidden_state[0, -1]
    assert cosine(torch.nn.functional.normalize(hidden, dim=-1), _embed(gme, case)) < 0.9999

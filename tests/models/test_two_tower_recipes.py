"""Golden tests: every two-tower recipe (default and native) matches a reference computed from the spec
(two_tower_reference.py, which never calls mmeb.models) at cosine >= 0.999999 in fp32, on tiny O(1)-weight models
of the real architectures with whitespace-sensitive tokenizers, over the MMEB input shapes."""

import io

import numpy as np
import pytest
import torch
import two_tower_reference as ref
from PIL import Image

from mmeb.models import load_model
from mmeb.models.protocol import ModelInput

COSINE = 0.999999


def _photo(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _png(image: Image.Image) -> Image.Image:
    """Round trip through a PNG file: the image as the data layer decodes it, in the file's own mode."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def _palette() -> Image.Image:
    return _png(_photo(45, 37, 1).convert("P", palette=Image.Palette.ADAPTIVE, colors=16))


def _rgba() -> Image.Image:
    rgba = _photo(41, 53, 2).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 41, dtype=np.uint8), (53, 1))
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return _png(rgba)


CLS = "Represent the given image for classification"
SHAPES = {
    "instruction+image query": ModelInput(CLS, "", _png(_photo(64, 48)), f"<|image_1|>\n{CLS}\n"),
    "text-only query": ModelInput("Find me an everyday image that matches the given caption:", "A man rides a bike.",
                                  None, "Find me an everyday image that matches the given caption: A man rides a bike.\n"),
    "visdial": ModelInput("Represent the given dialogue about an image, which is used for image retrieval:",
                          "Q: is it a cat? A: yes", None,
                          "Represent the given dialogue about an image, which is used for image retrieval: "
                          "Q: is it a cat? A: yes\n\n"),
    "image+text query": ModelInput("Represent the given image with the following question:", "What color is the car?",
                                   _png(_photo(50, 70, 3)),
                                   "<|image_1|>\nRepresent the given image with the following question: "
                                   "What color is the car?\n"),
    "bare label": ModelInput("", "golden retriever", None, "golden retriever"),
    "image candidate": ModelInput("Represent the given image.", "", _png(_photo(40, 40, 4)),
                                  "<|image_1|>\nRepresent the given image.\n"),
    "orphan placeholder": ModelInput("Find a Wikipedia image that answers this question:", "Who built the house?",
                                     None, "<|image_1|>\nFind a Wikipedia image that answers this question: "
                                           "Who built the house?\n"),
    "image under 28 px": ModelInput(CLS, "", _png(_photo(20, 60, 5)), f"<|image_1|>\n{CLS}\n"),
    "palette png": ModelInput(CLS, "", _palette(), f"<|image_1|>\n{CLS}\n"),
    "rgba png": ModelInput(CLS, "", _rgba(), f"<|image_1|>\n{CLS}\n"),
    "1500x1100 image": ModelInput(CLS, "", _png(_photo(1500, 1100, 6)), f"<|image_1|>\n{CLS}\n"),
    "grayscale png": ModelInput(CLS, "", _png(_photo(33, 29, 7).convert("L")), f"<|image_1|>\n{CLS}\n"),
}

HF_CLASSES = {"tiny-clip": "CLIPModel", "tiny-siglip": "SiglipModel", "tiny-blip": "BlipForImageTextRetrieval",
              "tiny-blip2": "Blip2ForImageTextRetrieval"}


@pytest.fixture(scope="module")
def sensitive_dir(tmp_path_factory):
    """preset -> a saved checkpoint folder with O(1) weights (built once per module)."""
    from mmeb.testing.models import build

    built = {}

    def get(preset: str):
        if preset not in built:
            out = build(preset, tmp_path_factory.mktemp(preset) / preset, golden=True)
            if preset == "tiny-openclip":
                import open_clip
                from safetensors.torch import save_file

                model, _ = open_clip.create_model_from_pretrained(f"local-dir:{out}")
                ref.sensitize(model)
                save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                          str(out / "open_clip_model.safetensors"))
            else:
                import transformers

                model = getattr(transformers, HF_CLASSES[preset]).from_pretrained(out)
                ref.sensitize(model)
                model.save_pretrained(out)
            built[preset] = out
        return built[preset]

    return get


def _hf_reference(directory, preset):
    import transformers

    model = getattr(transformers, HF_CLASSES[preset]).from_pretrained(directory, dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(directory)
    return model, tok, ref.image_config(directory)


def _cosines(adapter, expected: dict) -> dict:
    names = list(SHAPES)
    with torch.inference_mode():
        got = adapter.encode([SHAPES[n] for n in names], task_name="T", role="query")
    return {n: float(torch.nn.functional.cosine_similarity(got[i], expected[n].float(), dim=0))
            for i, n in enumerate(names)}


def _check(adapter, expected):
    cosines = _cosines(adapter, expected)
    bad = {n: round(c, 7) for n, c in cosines.items() if c < COSINE}
    assert not bad, f"recipe differs from the reference on: {bad}"


def _reference(preset, directory, recipe):
    model, tok, cfg = _hf_reference(directory, preset)
    native = recipe == "native"
    fn = {"tiny-clip": lambda x: ref.clip(x, model, tok, cfg, native=native),
          "tiny-siglip": lambda x: ref.siglip(x, model, tok, cfg, native=native),
          "tiny-blip": lambda x: ref.blip(x, model, tok, cfg),
          "tiny-blip2": lambda x: ref.blip2(x, model, tok, cfg, native=native)}[preset]
    with torch.inference_mode():
        return {name: fn(inp) for name, inp in SHAPES.items()}


@pytest.mark.parametrize("preset", ["tiny-clip", "tiny-siglip", "tiny-blip2", "tiny-blip"])
@pytest.mark.parametrize("recipe", ["default", "native"])
def test_recipe_matches_the_reference(sensitive_dir, preset, recipe):
    directory = sensitive_dir(preset)
    adapter = load_model(str(directory), device="cpu", recipe=recipe)
    _check(adapter, _reference(preset, directory, recipe))
    assert adapter.settings["recipe"] == ("native" if preset == "tiny-blip" else recipe)  # BLIP: native only


@pytest.mark.parametrize("recipe", ["default", "native"])
def test_openclip_recipe_matches_the_reference(sensitive_dir, recipe):
    open_clip = pytest.importorskip("open_clip")
    directory = sensitive_dir("tiny-openclip")
    adapter = load_model(str(directory), device="cpu", recipe=recipe)
    model, _ = open_clip.create_model_from_pretrained(f"local-dir:{directory}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{directory}")
    with torch.inference_mode():
        expected = {n: ref.openclip(x, model.eval(), tokenizer, native=recipe == "native") for n, x in SHAPES.items()}
    _check(adapter, expected)
    assert adapter.settings["recipe"] == recipe and adapter.revision.startswith("local-")


@pytest.mark.parametrize("preset", ["tiny-clip", "tiny-siglip", "tiny-blip2"])
def test_the_models_see_the_recipe_differences(sensitive_dir, preset):
    """The check above can fail: on these weights default and native differ on every text-bearing shape."""
    directory = sensitive_dir(preset)
    default, native = _reference(preset, directory, "default"), _reference(preset, directory, "native")
    for name in ("text-only query", "visdial", "image+text query", "orphan placeholder"):
        cos = float(torch.nn.functional.cosine_similarity(default[name], native[name], dim=0))
        assert cos < 0.9999, (name, cos)


def test_the_trailing_newlines_reach_the_text_tower(sensitive_dir):
    """VisDial's two trailing newlines are part of the paper's CLIP input: dropping one changes the embedding."""
    directory = sensitive_dir("tiny-clip")
    adapter = load_model(str(directory), device="cpu")
    visdial = SHAPES["visdial"]
    one_newline = ModelInput(visdial.instruction, visdial.text, None, visdial.raw_text[:-1])
    a, b = adapter.encode([visdial, one_newline], task_name="T", role="query")
    assert float(a @ b) < 0.9999


@pytest.mark.parametrize("preset", ["tiny-clip", "tiny-siglip", "tiny-blip", "tiny-blip2"])
@pytest.mark.parametrize("recipe", ["default", "native"])
def test_a_batch_encodes_as_one_item_at_a_time(sensitive_dir, preset, recipe):
    adapter = load_model(str(sensitive_dir(preset)), device="cpu", recipe=recipe)
    inputs = list(SHAPES.values())
    together = adapter.encode(inputs, task_name="T", role="query")
    alone = torch.cat([adapter.encode([x], task_name="T", role="query") for x in inputs])
    torch.testing.assert_close(together, alone, atol=2e-5, rtol=1e-4)


def test_unknown_settings_and_recipes_are_refused(sensitive_dir):
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="colour"):
        load_model(str(sensitive_dir("tiny-clip")), device="cpu", colour="red")
    with pytest.raises(ConfigError, match="recipe"):
        load_model(str(sensitive_dir("tiny-clip")), device="cpu", recipe="paper")


def test_openclip_refuses_unknown_settings(sensitive_dir):
    pytest.importorskip("open_clip")
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="max_len"):
        load_model(str(sensitive_dir("tiny-openclip")), device="cpu", max_len=5)


@pytest.mark.parametrize("recipe", ["default", "native"])
def test_blip2_records_the_width_it_embeds_in(sensitive_dir, recipe):
    # the default sums unprojected 768-d Q-Former states, native the 256-d ITC projections: the registry's one
    # number (768) was recorded for both; the recorded width is the loaded model's
    adapter = load_model("blip2-itm-vit-g", weights=str(sensitive_dir("tiny-blip2")), device="cpu", recipe=recipe)
    width = adapter.encode([SHAPES["image+text query"]], task_name="T", role="query").shape[-1]
    assert adapter.metadata["embedding_dim"] == width

"""`--model mteb:<name>`: an image-text model of MTEB's registry through MTEB's own wrapper, offline on a tiny
CLIP: the registry entry is MTEB's `CLIPModel` wrapper over local random weights."""

import json

import pytest
import torch
from model_helpers import image

from mmeb.errors import ConfigError, UnknownNameError
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput

mteb = pytest.importorskip("mteb")  # the optional extra mmeb[mteb]

pytestmark = pytest.mark.slow  # importing mteb alone takes ~15 s here

NAME = "mmeb-test/tiny-clip"


@pytest.fixture
def registered(tiny_dir, monkeypatch):
    from mteb.models.get_model_meta import MODEL_REGISTRY
    from mteb.models.model_implementations.clip_models import CLIPModel

    folder = tiny_dir("tiny-clip")

    def loader(name, revision=None, device=None, **kwargs):
        return CLIPModel(str(folder), revision=None, device=device, **kwargs)

    meta = MODEL_REGISTRY["openai/clip-vit-base-patch32"].model_copy(
        update={"name": NAME, "revision": "r-test", "loader": loader, "loader_kwargs": {}, "embed_dim": 32})
    monkeypatch.setitem(MODEL_REGISTRY, NAME, meta)
    return folder


def _reference(folder, inputs):
    """MTEB's CLIP recipe written out: payload text through the text tower (padding, truncation), the image
    through the image processor, image + text summed, no normalisation."""
    from transformers import AutoModel, AutoProcessor

    model, processor = AutoModel.from_pretrained(str(folder)).eval(), AutoProcessor.from_pretrained(str(folder))
    rows = []
    with torch.no_grad():
        for inp in inputs:
            vec = 0
            if inp.text:
                tok = processor(text=[inp.text], return_tensors="pt", padding=True, truncation=True)
                vec = vec + model.get_text_features(**tok).pooler_output
            if inp.image is not None:
                px = processor(images=[inp.image], return_tensors="pt")
                vec = vec + model.get_image_features(**px).pooler_output
            rows.append(vec[0])
    return torch.stack(rows)


def test_mteb_wrapper_forms_the_inputs_and_is_recorded(registered):
    inputs = [ModelInput("Represent the image:", "a red car", image(40, 30, "red"), "<|image_1|>\nRepresent ..."),
              ModelInput("Find:", "cat", None, "Find: cat"),
              ModelInput("Represent the image:", "", image(20, 50, "blue"), "<|image_1|>\nRepresent the image:"),
              ModelInput("Find:", "a dog on grass", None, "Find: a dog on grass")]
    model = load_model(f"mteb:{NAME}", device="cpu")
    assert model.name == f"mteb:{NAME}" and model.revision == "r-test"
    settings = model.settings
    assert settings["inputs_formed_by"].startswith("MTEB's wrapper") and settings["mteb_model"] == NAME
    json.dumps(settings)  # identity data stays JSON-serialisable
    out = model.encode(inputs, task_name="N24News", role="query")
    torch.testing.assert_close(out, _reference(registered, inputs), atol=1e-5, rtol=1e-5)


def test_unknown_and_text_only_mteb_models_are_clear_errors(registered):
    with pytest.raises(UnknownNameError, match="Did you mean: mmeb-test/tiny-clip"):
        load_model("mteb:mmeb-test/tiny-clap", device="cpu")
    with pytest.raises(ConfigError, match="needs an image-text model"):
        load_model("mteb:sentence-transformers/all-MiniLM-L6-v2", device="cpu")


def test_run_cli_records_that_mteb_formed_the_inputs(registered, tmp_path):
    from mmeb.cli import main
    from mmeb.testing.mirror import write_mirror

    mirror = write_mirror(tmp_path / "mirror", ["ImageNet-1K"], n_queries=3, seed=0)
    code = main(["run", "--model", f"mteb:{NAME}", "--tasks", "ImageNet-1K", "--data-dir", str(mirror),
                 "--output-dir", str(tmp_path / "out"), "--device", "cpu", "--num-workers", "0", "--no-progress"])
    assert code == 0
    [result] = (tmp_path / "out").rglob("ImageNet-1K.json")
    model = json.loads(result.read_text())["model"]
    assert model["name"] == f"mteb:{NAME}" and model["settings"]["adapter"] == "mteb"
    assert "MTEB's wrapper" in model["settings"]["inputs_formed_by"]


def test_mteb_refuses_video_frames(registered):
    clip = ModelInput("Understand the content of the provided video.", "", None,
                      "<|video_pad|> Understand the content of the provided video.", frames=(image(), image()))
    with pytest.raises(ConfigError, match="task MSR-VTT has video inputs"):
        load_model(f"mteb:{NAME}", device="cpu").encode([clip], task_name="MSR-VTT", role="candidate")

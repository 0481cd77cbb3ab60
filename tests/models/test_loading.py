"""Spec resolution, the remote-code gate, unknown names, dtype choice, E5-V / GME on tiny backbones."""

import pytest
import torch
from model_helpers import image

from mmeb.errors import ConfigError, UnknownNameError
from mmeb.models import list_models, load_model
from mmeb.models.runtime import default_dtype
from mmeb.models.protocol import ModelInput

REQUIRED = ["clip-vit-l-14", "openclip-vit-b-16-laion2b", "siglip-so400m-patch14-384", "blip-itm-large-coco",
            "blip2-itm-vit-g", "e5-v", "vlm2vec-phi3.5v", "vlm2vec-phi3.5v-lora", "vlm2vec-llava",
            "vlm2vec-qwen2vl-2b", "vlm2vec-qwen2vl-7b", "vlm2vec-v2", "gme-qwen2vl-2b", "gme-qwen2vl-7b"]


def test_registry_has_every_required_model_with_metadata():
    entries = {e.name: e for e in list_models()}
    assert set(REQUIRED) <= set(entries)
    assert entries["vlm2vec-llava"].settings["image_resize"] == [1344, 1344]
    assert entries["vlm2vec-v2"].settings["min_pixels"] == 4 * 28 * 28
    assert all(e.embedding_dim > 0 and e.license and e.reference for e in entries.values())


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="vlm2vec-qwen2vl-2b"):
        load_model("vlm2vec-qwen2vl-2", device="cpu")


@pytest.mark.parametrize("name", ["vlm2vec-phi3.5v", "vlm2vec-phi3.5v-lora"])
def test_remote_code_models_refuse_without_the_flag(name):
    with pytest.raises(ConfigError, match="trust-remote-code"):
        load_model(name, device="cpu")


def test_plugin_specs_go_to_load_plugin(tmp_path):
    plugin = tmp_path / "my_model.py"
    plugin.write_text("class Const:\n    def encode(self, inputs, **_):\n        return [[1.0]] * len(inputs)\n")
    assert type(load_model(f"{plugin}:Const")).__name__ == "Const"


def test_default_dtype_is_bf16_on_gpu_fp32_on_cpu(tiny_dir):
    assert default_dtype("cuda:0") == "bfloat16" and default_dtype("cpu") == "float32"
    model = load_model(str(tiny_dir("tiny-clip")), device="cpu", dtype="bfloat16")
    assert model.settings["dtype"] == "bfloat16"
    with pytest.raises(ConfigError, match="float8"):
        load_model(str(tiny_dir("tiny-clip")), device="cpu", dtype="float8")


def test_local_revision_is_recorded_and_content_sensitive(tiny_dir, tmp_path):
    from mmeb.testing.models import build

    a = load_model(str(tiny_dir("tiny-clip")), device="cpu")
    b = load_model(str(build("tiny-clip", tmp_path / "tiny-clip", seed=5)), device="cpu")
    assert a.revision.startswith("local-") and a.revision != b.revision and a.name == b.name == "tiny-clip"


def test_e5v_and_gme_recipes_run_on_tiny_backbones(tiny_dir):
    from mmeb.models.loading import load_directory

    common = dict(revision=None, settings={}, device="cpu", dtype=None, trust_remote_code=False)
    e5v = load_directory(tiny_dir("tiny-llava-next"), name="e5v-tiny", adapter="e5v", **common)
    gme = load_directory(tiny_dir("tiny-qwen2vl"), name="gme-tiny", adapter="gme", **common)
    inputs = [ModelInput("Find it:", "a red car", image(), "<|image_1|>\nFind it: a red car\n"),
              ModelInput("", "cat", None, "cat")]
    for model in (e5v, gme):
        out = model.encode(inputs, task_name="T", role="query")
        torch.testing.assert_close(out.norm(dim=-1), torch.ones(2))
        alone = torch.cat([model.encode([x], task_name="T", role="query") for x in inputs])
        torch.testing.assert_close(out, alone, atol=1e-4, rtol=1e-4)
    assert gme.settings["max_length"] == 1800 and gme.settings["min_pixels"] == 4 * 28 * 28
    assert e5v.settings["instruction_placement"].startswith("ignored")
    # GME native: a query and a candidate differ only by the system turn -> different embeddings
    from transformers import AutoProcessor

    from mmeb.models.gme import GMEEmbedder

    native = GMEEmbedder(gme.model, AutoProcessor.from_pretrained(tiny_dir("tiny-qwen2vl")), name="gme-tiny",
                         revision=None, metadata={}, recipe_variant="native")
    same = [ModelInput("Represent it", "cat", None, "Represent it cat")]
    q = native.encode(same, task_name="T", role="query")
    c = native.encode(same, task_name="T", role="candidate")
    assert not torch.allclose(q, c) and native.settings["min_pixels"] == 256 * 28 * 28


def test_not_a_model_directory_is_explained(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a model directory"):
        load_model(str(tmp_path / "empty"), device="cpu")

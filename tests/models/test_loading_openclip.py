"""OpenCLIP loads from a local folder in its Hub layout (a resolved snapshot or `--weights DIR`) through
open_clip's `local-dir:` schema, records the folder's revision, and refuses unknown settings."""

import json
import shutil

import pytest
import torch
from model_helpers import image

from mmeb.errors import ConfigError
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput

open_clip = pytest.importorskip("open_clip")  # the optional extra mmeb[openclip]

CFG = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
       "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
PREPROCESS = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A random-weight OpenCLIP in the Hub layout of laion/CLIP-ViT-B-16-laion2B-s34B-b88K (config + weights)."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("openclip")
    model = open_clip.CLIP(**CFG)
    (out / "open_clip_config.json").write_text(json.dumps({"model_cfg": CFG, "preprocess_cfg": PREPROCESS}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / "open_clip_model.safetensors")
    return out


def test_registered_openclip_runs_on_a_weights_folder(folder, tmp_path, monkeypatch):
    from mmeb.fingerprint import folder_fingerprint
    from mmeb.models.openclip import OpenCLIPEmbedder

    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "cache"))
    model = load_model("openclip-vit-b-16-laion2b", weights=folder, device="cpu")
    assert model.name == "openclip-vit-b-16-laion2b" and model.revision == folder_fingerprint(folder)
    assert model.settings["adapter"] == "openclip" and model.settings["recipe"] == "default"
    # the loader hands over exactly the model, transform and tokenizer open_clip builds from the folder
    net, preprocess = open_clip.create_model_from_pretrained(f"local-dir:{folder}")
    direct = OpenCLIPEmbedder(net, preprocess, open_clip.get_tokenizer(f"local-dir:{folder}"), name="x",
                              revision=None, metadata={}, device="cpu")
    inputs = [ModelInput("Find it:", "a red car", image(), "<|image_1|>\nFind it: a red car\n"),
              ModelInput("", "cat", None, "cat"), ModelInput("", "", image(20, 50, "blue"), "<|image_1|>")]
    torch.testing.assert_close(model.encode(inputs, task_name="T", role="query"),
                               direct.encode(inputs, task_name="T", role="query"))


def test_openclip_folder_missing_its_weights_or_config(folder, tmp_path):
    broken = shutil.copytree(folder, tmp_path / "w")
    (broken / "open_clip_model.safetensors").unlink()
    with pytest.raises(ConfigError, match=r"openclip-vit-b-16-laion2b.*missing the weights \(open_clip_model"):
        load_model("openclip-vit-b-16-laion2b", weights=broken, device="cpu")
    (broken / "open_clip_config.json").unlink()
    with pytest.raises(ConfigError, match="missing open_clip_config.json"):
        load_model("openclip-vit-b-16-laion2b", weights=broken, device="cpu")


def test_a_checkpoint_folder_with_an_open_clip_config_loads_as_openclip(folder):
    model = load_model(str(folder), device="cpu")
    assert model.settings["adapter"] == "openclip" and model.revision.startswith("local-")


def test_a_damaged_openclip_weights_file_is_one_line(folder, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    weights = damaged / "open_clip_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ConfigError, match=f"cannot load the weights in {damaged}") as err:
        load_model("openclip-vit-b-16-laion2b", weights=damaged, device="cpu")
    assert "\n" not in str(err.value)

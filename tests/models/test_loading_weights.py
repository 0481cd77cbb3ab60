"""`load_model(name, weights=DIR)` / `mmeb run --weights DIR`: a registered recipe on local files, recorded with
a full-content fingerprint; wrong architectures and incomplete folders are one clear error."""

import json
import shutil

import pytest
import torch
from model_helpers import image

from mmeb.cli import main
from mmeb.errors import ConfigError
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput

INPUTS = [ModelInput("Find it:", "a red car", image(), "<|image_1|>\nFind it: a red car\n"),
          ModelInput("", "cat", None, "cat")]


@pytest.fixture(autouse=True)
def _private_digest_memo(tmp_path, monkeypatch):
    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "cache"))


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_registered_recipe_loads_from_a_weights_folder(tiny_dir):
    folder = tiny_dir("tiny-clip")
    model = load_model("clip-vit-l-14", weights=folder, device="cpu")
    assert model.name == "clip-vit-l-14" and model.revision.startswith("local-")
    assert model.metadata["weights"] == str(folder.resolve()) and model.metadata["hub_id"].startswith("openai/")
    assert model.settings["recipe"] == "default"
    plain = load_model(str(folder), device="cpu")  # the same files as a checkpoint folder: same embedding
    torch.testing.assert_close(model.encode(INPUTS, task_name="T", role="query"),
                               plain.encode(INPUTS, task_name="T", role="query"))
    assert plain.revision == model.revision  # one fingerprint for --weights and --model DIR


def test_revision_covers_every_byte_of_every_file(tiny_dir, tmp_path):
    folder = _copy(tiny_dir("tiny-clip"), tmp_path / "w")
    blob = folder / "extra" / "big.bin"
    blob.parent.mkdir()
    blob.write_bytes(bytes(3 << 20))  # 3 MiB: a change at its end is past any "first MiB" shortcut
    before = load_model("clip-vit-l-14", weights=folder, device="cpu").revision
    with blob.open("r+b") as fh:
        fh.seek((3 << 20) - 1)
        fh.write(b"\x01")
    after_weights = load_model("clip-vit-l-14", weights=folder, device="cpu").revision
    after_dir = load_model(str(folder), device="cpu").revision
    assert before != after_weights == after_dir


@pytest.mark.parametrize("name,preset,found", [("clip-vit-l-14", "tiny-siglip", "siglip"),
                                               ("vlm2vec-qwen2vl-2b", "tiny-llava-next", "llava_next"),
                                               ("gme-qwen2vl-2b", "tiny-clip", "clip")])
def test_weights_of_another_architecture_are_refused(tiny_dir, name, preset, found):
    folder = tiny_dir(preset)
    with pytest.raises(ConfigError) as err:
        load_model(name, weights=folder, device="cpu", trust_remote_code=True)
    message = str(err.value)
    assert name in message and str(folder) in message and repr(found) in message and "--weights" in message
    assert "\n" not in message


def test_a_folder_missing_files_names_model_folder_and_fix(tiny_dir, tmp_path):
    folder = _copy(tiny_dir("tiny-clip"), tmp_path / "w")
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ConfigError, match=r"clip-vit-l-14.*is missing the weights.*hf download openai/clip"):
        load_model("clip-vit-l-14", weights=folder, device="cpu")
    (folder / "config.json").unlink()
    with pytest.raises(ConfigError, match="missing config.json"):
        load_model("clip-vit-l-14", weights=folder, device="cpu")
    with pytest.raises(ConfigError, match="does not exist"):
        load_model("clip-vit-l-14", weights=tmp_path / "nowhere", device="cpu")


def test_a_sharded_folder_missing_a_shard_is_named(tiny_dir, tmp_path):
    folder = _copy(tiny_dir("tiny-clip"), tmp_path / "w")
    index = {"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                            "b.weight": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "model-00001-of-00002.safetensors").write_bytes(b"x")
    with pytest.raises(ConfigError, match="shard model-00002-of-00002.safetensors"):
        load_model("clip-vit-l-14", weights=folder, device="cpu")


def test_weights_needs_a_registered_name_and_no_hub_revision(tiny_dir):
    with pytest.raises(ConfigError, match="registered model name"):
        load_model(str(tiny_dir("tiny-clip")), weights=tiny_dir("tiny-clip"), device="cpu")
    with pytest.raises(ConfigError, match="--revision"):
        load_model("clip-vit-l-14", weights=tiny_dir("tiny-clip"), revision="abc", device="cpu")


def test_run_cli_with_weights_records_name_and_fingerprint(tiny_dir, tmp_path):
    from mmeb.fingerprint import folder_fingerprint
    from mmeb.testing.mirror import write_mirror

    mirror = write_mirror(tmp_path / "mirror", ["ImageNet-1K"], n_queries=3, seed=0)
    folder = tiny_dir("tiny-clip")
    code = main(["run", "--model", "clip-vit-l-14", "--weights", str(folder), "--tasks", "ImageNet-1K",
                 "--data-dir", str(mirror), "--output-dir", str(tmp_path / "out"), "--device", "cpu",
                 "--num-workers", "0", "--no-progress"])
    assert code == 0
    [result] = [p for p in (tmp_path / "out").rglob("ImageNet-1K.json")]
    model = json.loads(result.read_text())["model"]
    assert model["name"] == "clip-vit-l-14" and model["revision"] == folder_fingerprint(folder)
    assert model["settings"]["recipe"] == "default" and model["settings"]["adapter"] == "clip"


def test_a_lora_folder_whose_base_is_unavailable_says_how_to_provide_it(tmp_path, monkeypatch):
    from mmeb.errors import MMEBError
    from mmeb.models import builders

    def offline(repo_id, revision, allow_patterns=None):
        raise MMEBError(f"could not fetch model {repo_id!r} (revision main) from the Hub: OfflineModeIsEnabled")

    monkeypatch.setattr(builders, "hub_snapshot", offline)
    folder = tmp_path / "lora"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA",
                                                            "base_model_name_or_path": "org/base-vlm"}))
    (folder / "adapter_model.safetensors").write_bytes(b"0")
    with pytest.raises(ConfigError, match=r"merges into org/base-vlm.*hf download org/base-vlm.*adapter_config.json"):
        load_model(str(folder), device="cpu")


def test_a_damaged_weights_file_is_one_line_naming_the_folder(tiny_dir, tmp_path):
    # an interrupted download leaves a truncated safetensors file: transformers raises deep in its loader
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_dir("tiny-qwen2vl"), folder)
    for f in folder.glob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(ConfigError, match=f"cannot load the weights in {folder}") as err:
        load_model("vlm2vec-v2", weights=str(folder), device="cpu")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("preset, name", [("tiny-qwen2vl", "vlm2vec-v2"), ("tiny-clip", "clip-vit-l-14")])
def test_a_damaged_tokenizer_file_is_one_line_naming_the_folder(tiny_dir, tmp_path, preset, name):
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_dir(preset), folder)
    (folder / "tokenizer.json").write_text((folder / "tokenizer.json").read_text()[:500])
    with pytest.raises(ConfigError, match=f"cannot load the processor / tokenizer files in {folder}") as err:
        load_model(name, weights=str(folder), device="cpu")
    assert "\n" not in str(err.value)

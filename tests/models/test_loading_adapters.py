"""The adapter table: one entry per adapter, registry entries validated against it, unknown settings refused
the same way by every adapter, and the recipe variant (`default` / `native`) chosen, refused and recorded."""

import dataclasses
import subprocess
import sys

import pytest

from mmeb.errors import ConfigError
from mmeb.models import adapters, list_models, load_model, registry
from mmeb.models.registry import ModelEntry


def test_every_registry_entry_names_an_adapter_of_the_table():
    for entry in list_models():
        adapter = adapters.get_adapter(entry.adapter)
        assert set(entry.settings) <= set(adapter.accepted()), entry.name


def test_entries_with_unknown_adapters_or_settings_fail_at_construction():
    base = dict(name="x", hub_id="o/x", embedding_dim=4, params="1M", license="MIT", reference="r")
    with pytest.raises(ValueError, match="Did you mean: clip"):
        ModelEntry(adapter="clipp", **base)
    with pytest.raises(ValueError, match="Did you mean: max_length"):
        ModelEntry(adapter="clip", settings={"max_lenght": 77}, **base)


@pytest.mark.parametrize("name", sorted(adapters.ADAPTERS))
def test_every_adapter_refuses_unknown_settings_the_same_way(name):
    with pytest.raises(ConfigError) as err:
        adapters.check_settings(name, {"normalise": False}, "model m")
    message = str(err.value)
    assert message.startswith("model m: unknown setting 'normalise'.") and f"The {name} adapter accepts:" in message


def test_unknown_settings_are_refused_before_anything_loads(tiny_dir):
    # an unknown setting is refused before the Hub is contacted, never dropped silently
    with pytest.raises(ConfigError, match="unknown setting .normalise.. Did you mean: normalize"):
        load_model("openclip-vit-b-16-laion2b", normalise=False, device="cpu")
    with pytest.raises(ConfigError, match="Did you mean: max_length"):
        load_model(str(tiny_dir("tiny-clip")), max_lenght=77, device="cpu")


def test_settings_defaults_are_recorded(tiny_dir):
    model = load_model("clip-vit-l-14", weights=tiny_dir("tiny-clip"), device="cpu", max_length=7)
    assert model.settings["max_length"] == 7 and model.settings["normalize"] is True


def test_bare_folders_get_the_first_adapter_serving_their_model_type():
    assert adapters.adapter_for_model_type("qwen2_vl", "x").name == "vlm2vec"
    assert adapters.adapter_for_model_type("blip-2", "x").name == "blip2"
    with pytest.raises(ConfigError, match="model_type 'bert' has no mmeb adapter"):
        adapters.adapter_for_model_type("bert", "x")


@pytest.mark.parametrize("spec,kwargs", [("vlm2vec-qwen2vl-2b", {"recipe": "native"}), ("e5-v-native", {})])
def test_native_is_refused_for_models_without_that_variant(spec, kwargs):
    with pytest.raises(ConfigError, match=r"has no 'native' recipe variant.*drop --recipe native"):
        load_model(spec, device="cpu", **kwargs)


def test_unknown_recipe_is_refused():
    with pytest.raises(ConfigError, match="unknown recipe 'official'"):
        load_model("clip-vit-l-14", recipe="official", device="cpu")


def test_a_model_without_a_published_row_defaults_to_its_native_recipe(tiny_dir):
    model = load_model("blip-itm-large-coco", weights=tiny_dir("tiny-blip"), device="cpu")
    assert model.name == "blip-itm-large-coco" and model.settings["recipe"] == "native"


def test_native_variant_is_recorded_under_its_own_name(tiny_dir, monkeypatch):
    """An adapter that implements `native` (one table line) gets `<name>-native` rows; the name loads back."""
    clip = adapters.ADAPTERS["clip"]
    monkeypatch.setitem(adapters.ADAPTERS, "clip", dataclasses.replace(clip, recipes=("default", "native")))
    folder = tiny_dir("tiny-clip")
    native = load_model("clip-vit-l-14", weights=folder, device="cpu", recipe="native")
    assert native.name == "clip-vit-l-14-native" and native.settings["recipe"] == "native"
    again = load_model("clip-vit-l-14-native", weights=folder, device="cpu")
    assert again.name == native.name and again.settings["recipe"] == "native"
    default = load_model("clip-vit-l-14", weights=folder, device="cpu")
    assert default.name == "clip-vit-l-14" and default.settings["recipe"] == "default"
    checkpoint = load_model(str(folder), device="cpu", recipe="native")
    assert checkpoint.name == f"{folder.name}-native" and checkpoint.settings["recipe"] == "native"


def test_registered_names_never_end_in_the_native_suffix():
    assert not any(e.name.endswith("-native") for e in registry.list_models())


def test_model_args_are_refused_for_non_plugins():
    with pytest.raises(ConfigError, match="takes no model arguments"):
        load_model("clip-vit-l-14", model_args={"x": 1}, device="cpu")


def test_the_table_is_light_and_does_not_import_the_loader():
    """No loading <-> adapters cycle: the table and the registry import neither the loader nor torch."""
    import ast
    from pathlib import Path

    import mmeb.models

    for module in ("adapters", "registry", "runtime"):
        tree = ast.parse((Path(mmeb.models.__file__).parent / f"{module}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "mmeb.models.loading" not in imported, module
    code = "import sys, mmeb.models; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_cli_refuses_native_for_a_model_without_it_in_one_line(tmp_path, capsys):
    from mmeb.cli import main

    code = main(["run", "--model", "e5-v", "--recipe", "native", "--tasks", "ImageNet-1K",
                 "--output-dir", str(tmp_path), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "has no 'native' recipe variant" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("adapter, key, value", [
    ("clip", "normalize", "no"), ("gme", "min_pixels", "x"), ("gme", "max_length", 0), ("e5v", "image_resize", [336]),
    ("vlm2vec", "small_image_resize", [28, 56]), ("openclip", "dtype", "fp8"), ("sentence_transformers", "batch_size", 2.5),
])
def test_a_setting_of_the_wrong_type_is_refused_in_one_line(adapter, key, value):
    # "no" is truthy: accepted, it would normalise while recording normalize="no"
    with pytest.raises(ConfigError, match=f"model m: setting {key} ") as err:
        adapters.check_settings(adapter, {key: value}, "model m")
    assert "\n" not in str(err.value)

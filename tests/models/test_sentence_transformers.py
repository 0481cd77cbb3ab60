"""st:<dir>: modality grouping, order restored, chat-template flag, image+text fusion recorded."""

import pytest
import torch

from mmeb.models import load_model
from mmeb.models.protocol import ModelInput


@pytest.fixture(scope="module")
def st_dir(tiny_dir, tmp_path_factory):
    from sentence_transformers import SentenceTransformer

    out = tmp_path_factory.mktemp("st") / "tiny-st-clip"
    SentenceTransformer(str(tiny_dir("tiny-clip")), device="cpu").save(str(out))
    return out


def test_st_dir_encodes_every_modality_in_order(st_dir, mixed_inputs):
    model = load_model(f"st:{st_dir}", device="cpu")
    out = model.encode(mixed_inputs, task_name="T", role="query")
    alone = torch.cat([model.encode([x], task_name="T", role="query") for x in mixed_inputs])
    torch.testing.assert_close(out, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(len(mixed_inputs)))
    assert model.name == "st:tiny-st-clip" and model.revision.startswith("local-")
    assert model.settings["chat_template_applied"] is False
    assert model.settings["image_text_fusion"].startswith("sum")


def test_st_text_is_the_stored_string_without_placeholder(st_dir):
    model = load_model(f"st:{st_dir}", device="cpu")
    via_adapter = model.encode([ModelInput("Find:", "a cat", None, "Find: a cat\n")], task_name="T", role="query")
    direct = model.model.encode(["Find: a cat"], convert_to_tensor=True, normalize_embeddings=True)
    torch.testing.assert_close(via_adapter[0], direct[0].float())


def test_modules_json_dir_loads_as_st_without_prefix(st_dir):
    assert type(load_model(str(st_dir), device="cpu")).__name__ == "SentenceTransformerEmbedder"


@pytest.fixture(scope="module")
def st_prompted_dir(st_dir, tmp_path_factory):
    """The tiny ST model with the query / document prompts a retrieval model ships in its config."""
    from sentence_transformers import SentenceTransformer

    out = tmp_path_factory.mktemp("st") / "tiny-st-prompted"
    model = SentenceTransformer(str(st_dir), device="cpu")
    model.prompts = {"query": "query: ", "document": "passage: "}
    model.save(str(out))
    return out


def test_st_roles_use_the_model_query_and_document_prompts(st_prompted_dir):
    model = load_model(f"st:{st_prompted_dir}", device="cpu")
    item = ModelInput("Find:", "a cat", None, "Find: a cat\n")
    query = model.encode([item], task_name="T", role="query")[0]
    candidate = model.encode([item], task_name="T", role="candidate")[0]

    def direct(text):
        return model.model.encode([text], convert_to_tensor=True, normalize_embeddings=True)[0].float()

    torch.testing.assert_close(query, direct("query: Find: a cat"))
    torch.testing.assert_close(candidate, direct("passage: Find: a cat"))
    assert float(query @ candidate) < 0.9999
    routing = model.settings["role_routing"]
    assert routing["query"] == {"method": "encode_query", "prompt_name": "query", "prompt": "query: "}
    assert routing["candidate"] == {"method": "encode_document", "prompt_name": "document", "prompt": "passage: "}


def test_st_explicit_prompt_name_overrides_both_roles(st_prompted_dir):
    model = load_model(f"st:{st_prompted_dir}", device="cpu", prompt_name="document")
    item = ModelInput("", "a cat", None, "a cat")
    query = model.encode([item], task_name="T", role="query")
    candidate = model.encode([item], task_name="T", role="candidate")
    torch.testing.assert_close(query, candidate)
    assert model.settings["role_routing"]["query"]["prompt"] == "passage: "


def test_st_without_prompts_encodes_both_roles_alike(st_dir):
    model = load_model(f"st:{st_dir}", device="cpu")
    item = ModelInput("", "a cat", None, "a cat")
    torch.testing.assert_close(model.encode([item], task_name="T", role="query"),
                               model.encode([item], task_name="T", role="candidate"))
    assert not model.settings["role_routing"]["query"]["prompt"]  # none, or sentence-transformers' empty default


def test_st_refuses_unknown_settings(st_dir):
    from mmeb.errors import ConfigError

    with pytest.raises(ConfigError, match="promptname"):
        load_model(f"st:{st_dir}", device="cpu", promptname="query")


def test_st_refuses_video_frames(st_dir):
    from model_helpers import image

    from mmeb.errors import ConfigError

    clip = ModelInput("Understand the content of the provided video.", "", None,
                      "<|video_pad|> Understand the content of the provided video.", frames=(image(), image()))
    with pytest.raises(ConfigError, match="task MSR-VTT has video inputs"):
        load_model(f"st:{st_dir}", device="cpu").encode([clip], task_name="MSR-VTT", role="candidate")

"""LoRA and DoRA adapter directories load merged and give exactly the PeftModel's own embeddings."""

import pytest
import torch

from mmeb.models import load_model


@pytest.mark.parametrize("dora", [False, True], ids=["lora", "dora"])
def test_adapter_dir_merges_exactly(tiny_dir, tmp_path, mixed_inputs, dora):
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2VLForConditionalGeneration

    base_dir = tiny_dir("tiny-qwen2vl")
    torch.manual_seed(0)
    base = Qwen2VLForConditionalGeneration.from_pretrained(base_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], use_dora=dora,
                        init_lora_weights=False)  # random B: a no-op adapter would prove nothing
    peft_model = get_peft_model(base, config).eval()
    peft_model.save_pretrained(tmp_path / "adapter")

    merged = load_model(str(tmp_path / "adapter"), device="cpu")
    batch = merged.prepare(mixed_inputs, task_name="T", role="query")
    from mmeb.models.vlm import pooled_states

    with torch.inference_mode():
        want = torch.nn.functional.normalize(pooled_states(peft_model.base_model.model, batch), dim=-1)
    torch.testing.assert_close(merged.embed(batch), want, atol=1e-5, rtol=1e-4)
    assert merged.settings["backbone"] == "qwen2_vl"
    assert merged.recipe.lora["dora"] is dora and merged.recipe.lora["merged"] is True
    assert not any("lora" in name for name, _ in merged.model.named_parameters())

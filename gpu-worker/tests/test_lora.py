"""LoRA target presets, explicit lists, bad targets, starting from a parent adapter, and swapping in an earlier one."""
import pytest
import torch
from peft import get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import save_file

from lethe_worker.config import LoraSettings
from lethe_worker.errors import WorkerError
from lethe_worker.lora import DECODER_LINEAR_SUFFIXES, adapter_swapped, attach_new_adapter, attach_parent_adapter, resolve_lora_targets
from lethe_worker.model_io import load_llava


@pytest.fixture
def model(world):
    return load_llava(world["model"])[0]


def test_llm_preset_is_every_decoder_attention_and_mlp_linear(model):
    targets = resolve_lora_targets(model, "llm")
    layers = model.config.text_config.num_hidden_layers
    assert len(targets) == layers * len(DECODER_LINEAR_SUFFIXES)
    assert all(t.startswith("model.language_model.layers.") for t in targets)
    assert {t.rsplit(".", 1)[1] for t in targets} == set(DECODER_LINEAR_SUFFIXES)


def test_projector_plus_llm_adds_the_projector_only(model):
    llm = resolve_lora_targets(model, "llm")
    both = resolve_lora_targets(model, "projector+llm")
    extra = sorted(set(both) - set(llm))
    assert extra == ["model.multi_modal_projector.linear_1", "model.multi_modal_projector.linear_2"]
    assert not any("vision_tower" in t for t in both)


def test_explicit_suffixes_match_by_module_name_end(model):
    assert resolve_lora_targets(model, ["language_model.layers.0.self_attn.q_proj"]) == ["model.language_model.layers.0.self_attn.q_proj"]
    assert resolve_lora_targets(model, ["layers.0.self_attn.q_proj"]) == [
        "model.vision_tower.encoder.layers.0.self_attn.q_proj", "model.language_model.layers.0.self_attn.q_proj"]
    # A bare suffix matches wherever it appears, the vision tower included.
    assert any("vision_tower" in t for t in resolve_lora_targets(model, ["q_proj"]))


def test_target_matching_no_module_is_named(model):
    with pytest.raises(WorkerError) as e:
        resolve_lora_targets(model, ["q_proj", "qkv_fused"])
    assert e.value.code == WorkerError.LORA_TARGET_NO_MATCH and "qkv_fused" in e.value.message


def test_new_adapter_starts_equal_to_the_base(world):
    model, processor = load_llava(world["model"])
    ids = torch.tensor([[5, 6, 7, 8]])
    before = model(input_ids=ids).logits
    peft_model = attach_new_adapter(model, LoraSettings(4, 8, 0.0, "llm"))
    assert torch.equal(peft_model(input_ids=ids).logits, before)


def test_parent_adapter_tensors_are_the_starting_weights(world, tmp_path):
    settings = LoraSettings(4, 8, 0.0, "projector+llm")
    torch.manual_seed(1)
    parent = attach_new_adapter(load_llava(world["model"])[0], settings)
    tensors = {k: torch.randn_like(v) * 0.01 for k, v in get_peft_model_state_dict(parent).items()}
    save_file(tensors, str(tmp_path / "adapter_model.safetensors"))
    torch.manual_seed(2)  # a different seed: the child's own random init must be overwritten
    child = attach_parent_adapter(load_llava(world["model"])[0], settings, tmp_path / "adapter_model.safetensors")
    child_tensors = get_peft_model_state_dict(child)
    assert set(child_tensors) == set(tensors)
    for key, value in tensors.items():
        assert torch.equal(child_tensors[key], value), key


def test_parent_adapter_of_another_lora_config_is_rejected(world, tmp_path):
    parent = attach_new_adapter(load_llava(world["model"])[0], LoraSettings(4, 8, 0.0, "llm"))
    save_file(dict(get_peft_model_state_dict(parent)), str(tmp_path / "adapter_model.safetensors"))
    with pytest.raises(WorkerError) as e:
        attach_parent_adapter(load_llava(world["model"])[0], LoraSettings(8, 8, 0.0, "llm"), tmp_path / "adapter_model.safetensors")
    assert e.value.code == WorkerError.BAD_PARENT_ADAPTER and "shape" in e.value.message
    with pytest.raises(WorkerError) as e:
        attach_parent_adapter(load_llava(world["model"])[0], LoraSettings(4, 8, 0.0, "projector+llm"), tmp_path / "adapter_model.safetensors")
    assert e.value.code == WorkerError.BAD_PARENT_ADAPTER and "multi_modal_projector" in e.value.message


def test_swapped_adapter_is_in_place_inside_and_own_tensors_come_back_exactly(world, tmp_path):
    settings = LoraSettings(4, 8, 0.0, "llm")
    torch.manual_seed(1)
    model = attach_new_adapter(load_llava(world["model"])[0], settings)
    own = {k: torch.randn_like(v) * 0.01 for k, v in get_peft_model_state_dict(model).items()}
    set_peft_model_state_dict(model, own)
    earlier = {k: torch.randn_like(v) * 0.01 for k, v in own.items()}
    save_file(earlier, str(tmp_path / "adapter_model.safetensors"))
    with adapter_swapped(model, settings, tmp_path / "adapter_model.safetensors", "forgottenBy[0].adapter"):
        inside = get_peft_model_state_dict(model)
        assert all(torch.equal(inside[k], earlier[k]) for k in earlier)
    after = get_peft_model_state_dict(model)
    assert all(torch.equal(after[k], own[k]) for k in own)
    assert not all(torch.equal(own[k], earlier[k]) for k in own)


def test_swapped_adapter_of_another_lora_config_names_the_field(world, tmp_path):
    other = attach_new_adapter(load_llava(world["model"])[0], LoraSettings(8, 8, 0.0, "llm"))
    save_file(dict(get_peft_model_state_dict(other)), str(tmp_path / "adapter_model.safetensors"))
    settings = LoraSettings(4, 8, 0.0, "llm")
    model = attach_new_adapter(load_llava(world["model"])[0], settings)
    with pytest.raises(WorkerError) as e:
        with adapter_swapped(model, settings, tmp_path / "adapter_model.safetensors", "forgottenBy[1].adapter"):
            pass
    assert e.value.code == WorkerError.BAD_PARENT_ADAPTER and "forgottenBy[1].adapter" in e.value.message

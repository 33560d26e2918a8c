"""LoRA target resolution (presets from PULSE Table 3) and peft adapter set-up.

Targets resolve to full module names so the adapter config, the ONNX export and the audit all agree on
exactly which Linear layers carry LoRA tensors.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence, Union

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file

from .config import LORA_PRESETS, LoraSettings
from .errors import WorkerError

# Attention and MLP projections of a Llama-style decoder layer.
DECODER_LINEAR_SUFFIXES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LANGUAGE_MODEL_SCOPE = "language_model."
PROJECTOR_SCOPE = "multi_modal_projector."


def _linear_names(model: torch.nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]


def _is_decoder_linear(name: str) -> bool:
    return LANGUAGE_MODEL_SCOPE in name and ".layers." in name and name.rsplit(".", 1)[-1] in DECODER_LINEAR_SUFFIXES


def resolve_lora_targets(model: torch.nn.Module, targets: Union[str, Sequence[str]]) -> list[str]:
    """Full names of the Linear modules that get LoRA, in model order.

    `targets` is a preset ("llm" = decoder attention + MLP, "projector+llm" = also the vision-language
    projector) or a list of module-name suffixes; every suffix must match at least one Linear module.
    """
    names = _linear_names(model)
    if isinstance(targets, str):
        if targets not in LORA_PRESETS:
            raise WorkerError(WorkerError.LORA_TARGET_NO_MATCH, f"lora.targets preset {targets!r} is not one of {', '.join(LORA_PRESETS)}")
        with_projector = targets == "projector+llm"
        resolved = [n for n in names if _is_decoder_linear(n) or (with_projector and PROJECTOR_SCOPE in n)]
        if not resolved:
            raise WorkerError(WorkerError.LORA_TARGET_NO_MATCH, f"lora.targets preset {targets!r} matches no Linear module of this model")
        return resolved
    resolved_set: set[str] = set()
    for suffix in targets:
        matches = [n for n in names if n == suffix or n.endswith("." + suffix)]
        if not matches:
            raise WorkerError(WorkerError.LORA_TARGET_NO_MATCH, f"lora.targets entry {suffix!r} matches no Linear module of this model")
        resolved_set.update(matches)
    return [n for n in names if n in resolved_set]


def peft_lora_config(model: torch.nn.Module, settings: LoraSettings) -> LoraConfig:
    return LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=resolve_lora_targets(model, settings.targets),
        bias="none",
    )


def attach_new_adapter(model: torch.nn.Module, settings: LoraSettings) -> PeftModel:
    """A fresh trainable adapter (B = 0, so the model starts equal to the base). Seed torch first: A is random."""
    return get_peft_model(model, peft_lora_config(model, settings))


def _checked_tensors(peft_model: PeftModel, settings: LoraSettings, safetensors_path: Path, field: str) -> dict[str, torch.Tensor]:
    """An adapter file's tensors, after checking they fit the model's adapter (`field` names the input that gave the file)."""
    expected = get_peft_model_state_dict(peft_model)
    tensors = load_file(str(safetensors_path))
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise WorkerError(
            WorkerError.BAD_PARENT_ADAPTER,
            f"{field} {safetensors_path} does not match lora {settings.to_json()}: "
            f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, unexpected {extra[:3]}{'...' if len(extra) > 3 else ''}",
        )
    for key, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise WorkerError(
                WorkerError.BAD_PARENT_ADAPTER,
                f"{field} {safetensors_path}: tensor {key} has shape {tuple(tensor.shape)}, lora config needs {tuple(expected[key].shape)}",
            )
    return tensors


def attach_parent_adapter(model: torch.nn.Module, settings: LoraSettings, parent_safetensors: Path) -> PeftModel:
    """A trainable adapter initialised with the parent's tensors: training continues where the parent ended,
    so the result fully replaces the parent (sequential strategy)."""
    peft_model = attach_new_adapter(model, settings)
    set_peft_model_state_dict(peft_model, _checked_tensors(peft_model, settings, parent_safetensors, "parentAdapter"))
    return peft_model


@contextmanager
def adapter_swapped(peft_model: PeftModel, settings: LoraSettings, safetensors_path: Path, field: str) -> Iterator[PeftModel]:
    """The model with an earlier version's adapter tensors in place of its own, restored exactly on exit.
    Reference values of an earlier version cost one extra adapter's tensors, not a second model."""
    own = {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}
    set_peft_model_state_dict(peft_model, _checked_tensors(peft_model, settings, safetensors_path, field))
    try:
        yield peft_model
    finally:
        set_peft_model_state_dict(peft_model, own)

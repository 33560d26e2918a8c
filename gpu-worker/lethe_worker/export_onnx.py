"""ONNX export of a llava-hf base model for the TypeScript audits (activity `export_onnx`).

Three graphs, exported once per (base model id, LoRA config):
- vision.onnx:  pixel_values [n,3,H,W] -> image_features [n, numImageTokens, hidden] (vision tower + projector)
- embed.onnx:   input_ids [b,t] -> inputs_embeds [b,t,hidden]
- decoder.onnx: inputs_embeds [b,t,hidden], attention_mask [b,t] (left padded) -> logits [b, vocab] at the last position

Every LoRA A/B tensor of every targeted module is a REQUIRED fp32 graph input without an initializer
(onnxruntime-node silently ignores feeds for inputs that have defaults), with alpha/rank baked in, so
the audit feeds the raw peft lora_A / lora_B weights of a candidate adapter (zeros for version 0).

A graph past protobuf's 2 GB (the decoder of a real LLaVA in fp32) keeps its weights beside it in ONE file,
`<graph>.onnx.data` (ONNX external data, a location relative to the graph): the TorchScript exporter writes one file
per tensor, which _export_graph gathers, tensor by tensor, so an export directory holds at most six files besides
its manifest and two graphs can never overwrite each other's tensors. onnxruntime reads them from the graph's path.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .config import LoraSettings
from .contracts import validate
from .errors import WorkerError
from .lora import resolve_lora_targets
from .model_io import ModelLoadError, check_model_dir, option_token_ids

MANIFEST_NAME = "manifest.json"
GRAPH_FILES = {"vision": "vision.onnx", "embed": "embed.onnx", "decoder": "decoder.onnx"}
ONNX_OPSET = 18
LANGUAGE_MODEL_PREFIX = "model.language_model."
PROJECTOR_PREFIX = "model.multi_modal_projector."
VISION_PREFIXES = ("model.vision_tower.", PROJECTOR_PREFIX)
# peft saves adapter tensors under the wrapped model's module path with the adapter name removed.
PEFT_KEY_PREFIX = "base_model.model."

Heartbeat = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportRequest:
    base_model_path: Path
    base_model_id: str
    lora: LoraSettings
    output_root: Path


@dataclass(frozen=True)
class LoraTarget:
    module: str  # module path inside LlavaForConditionalGeneration
    graph: str  # "vision" | "decoder"
    in_features: int
    out_features: int


# ---------------------------------------------------------------------------------------------
# input parsing and target resolution


def parse_request(payload: dict) -> ExportRequest:
    validate("export_onnx.input.schema.json", payload, "export_onnx input")
    try:
        model_path = check_model_dir(payload["baseModel"]["path"])
    except ModelLoadError as e:
        raise WorkerError(WorkerError.MODEL_NOT_FOUND, f"baseModel.path: {e}") from None
    return ExportRequest(model_path, payload["baseModel"]["id"], LoraSettings.from_json(payload["lora"]),
                         Path(payload["outputRoot"]))


def _canonical_lora_json(lora: LoraSettings) -> str:
    # Integral floats print as integers (alpha 16.0 -> 16), as JSON.stringify would: one key per config.
    def plain(v):
        return int(v) if isinstance(v, float) and v.is_integer() else v

    return json.dumps({k: plain(v) for k, v in lora.to_json().items()}, sort_keys=True, separators=(",", ":"))


def export_key(base_model_id: str, lora: LoraSettings) -> str:
    """Directory name of an export: sha256 of the base model id + the canonical LoRA JSON."""
    return hashlib.sha256((base_model_id + _canonical_lora_json(lora)).encode("utf-8")).hexdigest()


def _describe_targets(model: nn.Module, names: Sequence[str]) -> list[LoraTarget]:
    modules = dict(model.named_modules())
    described = []
    for name in names:
        linear = modules[name]
        if name.startswith(VISION_PREFIXES):
            graph = "vision"
        elif name.startswith(LANGUAGE_MODEL_PREFIX) or name == "lm_head":
            graph = "decoder"
        else:
            raise WorkerError(WorkerError.LORA_TARGET_NO_MATCH,
                              f"LoRA target {name!r} is in no exported graph (vision tower, projector or LLM)")
        described.append(LoraTarget(name, graph, linear.in_features, linear.out_features))
    return described


# ---------------------------------------------------------------------------------------------
# LoRA as graph inputs


class LoraInputLinear(nn.Module):
    """A Linear whose LoRA A/B come from graph inputs: y = W x + b + scaling * B (A x).

    Same arithmetic as peft's lora.Linear in eval mode (dropout off). The wrapping graph module sets
    `lora_a` / `lora_b` from its forward arguments before running the model.
    """

    def __init__(self, base: nn.Linear, scaling: float):
        super().__init__()
        self.base = base
        self.scaling = scaling
        self.lora_a: Optional[torch.Tensor] = None
        self.lora_b: Optional[torch.Tensor] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scaling


def _install_lora_inputs(model: nn.Module, targets: Sequence[LoraTarget], scaling: float) -> dict[str, LoraInputLinear]:
    slots = {}
    for target in targets:
        parent_name, _, leaf = target.module.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        slot = LoraInputLinear(getattr(parent, leaf), scaling)
        setattr(parent, leaf, slot)
        slots[target.module] = slot
    return slots


class _LoraFed(nn.Module):
    """Base for graph modules: the trailing forward arguments are (A, B) per LoRA slot, in order."""

    def __init__(self, slots: Sequence[LoraInputLinear]):
        super().__init__()
        self._slots = list(slots)  # plain list: the slots are registered inside the model already

    def _feed_lora(self, tensors: Sequence[torch.Tensor]) -> None:
        for i, slot in enumerate(self._slots):
            slot.lora_a, slot.lora_b = tensors[2 * i], tensors[2 * i + 1]


class VisionGraph(_LoraFed):
    def __init__(self, llava: nn.Module, slots: Sequence[LoraInputLinear]):
        super().__init__(slots)
        self.vision_tower = llava.model.vision_tower
        self.projector = llava.model.multi_modal_projector
        self.feature_layer = llava.config.vision_feature_layer
        self.select_strategy = llava.config.vision_feature_select_strategy

    def forward(self, pixel_values: torch.Tensor, *lora: torch.Tensor) -> torch.Tensor:
        self._feed_lora(lora)
        hidden_states = self.vision_tower(pixel_values, output_hidden_states=True, return_dict=True).hidden_states
        layers = self.feature_layer if isinstance(self.feature_layer, (list, tuple)) else [self.feature_layer]
        selected = [hidden_states[i] for i in layers]
        if self.select_strategy == "default":  # LLaVA drops the CLS position
            selected = [h[:, 1:] for h in selected]
        return self.projector(torch.cat(selected, dim=-1))


class EmbedGraph(nn.Module):
    def __init__(self, llava: nn.Module):
        super().__init__()
        self.embed_tokens = llava.get_input_embeddings()

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)


def positions_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids of a left-padded batch: 0 at each sequence's first real token (padding -> 0)."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


class DecoderGraph(_LoraFed):
    def __init__(self, llava: nn.Module, slots: Sequence[LoraInputLinear]):
        super().__init__(slots)
        self.language_model = llava.model.language_model
        self.lm_head = llava.lm_head

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, *lora: torch.Tensor) -> torch.Tensor:
        self._feed_lora(lora)
        out = self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=positions_from_mask(attention_mask),
            use_cache=False,
            return_dict=True,
        )
        return self.lm_head(out.last_hidden_state[:, -1, :])


# ---------------------------------------------------------------------------------------------
# export


def load_base_model(path: Path) -> nn.Module:
    from transformers import LlavaForConditionalGeneration

    # fp32 + eager attention: the graphs keep fp32 inputs/outputs, and eager masking stays finite
    # on fully padded (left padding) rows.
    model = LlavaForConditionalGeneration.from_pretrained(str(path), dtype=torch.float32, attn_implementation="eager",
                                                          local_files_only=True)
    return model.eval()


def _lora_input_name(target: LoraTarget, kind: str) -> str:
    return f"lora.{target.module}.{kind}"


def _lora_input_names(targets: Sequence[LoraTarget]) -> list[str]:
    return [_lora_input_name(t, kind) for t in targets for kind in ("A", "B")]


def _zero_lora(targets: Sequence[LoraTarget], rank: int) -> list[torch.Tensor]:
    tensors = []
    for t in targets:
        tensors += [torch.zeros(rank, t.in_features), torch.zeros(t.out_features, rank)]
    return tensors


def _export_graph(module: nn.Module, args: tuple, path: Path, input_names: list[str], output_name: str,
                  dynamic_axes: dict[str, dict[int, str]]) -> None:
    # The TorchScript exporter: the LoRA slots are set from forward arguments, a Python side effect
    # that tracing follows exactly; dynamic batch/sequence axes come from dynamic_axes.
    # Each graph is exported alone in a staging directory: past 2 GB the exporter writes every tensor to its own file
    # next to the graph, named after the tensor, and those are gathered into `<graph>.onnx.data`.
    staging = path.parent / f".{path.name}.staging"
    staging.mkdir()
    try:
        torch.onnx.export(
            module, args, str(staging / path.name), dynamo=False, opset_version=ONNX_OPSET,
            input_names=input_names, output_names=[output_name], dynamic_axes=dynamic_axes,
            do_constant_folding=True,
        )
        if any(f.name != path.name for f in staging.iterdir()):
            gather_external_data(staging / path.name, path)
        else:
            os.replace(staging / path.name, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Offsets of tensors in a .data file are multiples of this (what onnx's own writer aligns large tensors to).
EXTERNAL_DATA_ALIGNMENT = 4096


def gather_external_data(src: Path, dst: Path) -> None:
    """Writes the ONNX model `src`, whose tensors lie in external files beside it, as `dst` + `dst.name + ".data"`:
    every external tensor in that one file (relative location), copied one tensor at a time (a 7B decoder's
    weights never sit in memory twice). Tensors stored inside the graph stay there."""
    import onnx
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    model = onnx.load(str(src), load_external_data=False)
    data_name = dst.name + ".data"
    offset = 0
    with open(dst.parent / data_name, "wb") as out:
        for tensor in _get_all_tensors(model):
            if not uses_external_data(tensor):
                continue
            info = {entry.key: entry.value for entry in tensor.external_data}
            with open(src.parent / info["location"], "rb") as f:
                f.seek(int(info.get("offset", 0)))
                data = f.read(int(info["length"])) if "length" in info else f.read()
            padding = -offset % EXTERNAL_DATA_ALIGNMENT
            out.write(b"\0" * padding)
            offset += padding
            out.write(data)
            del tensor.external_data[:]
            for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(len(data)))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
            offset += len(data)
    onnx.save_model(model, str(dst))


def build_manifest(request: ExportRequest, model: nn.Module, tokenizer, targets: Sequence[LoraTarget],
                   num_image_tokens: int) -> dict:
    config = model.config
    lora_inputs = []
    ordered = [t for g in ("vision", "decoder") for t in targets if t.graph == g]
    for t in ordered:
        for kind, shape in (("A", [request.lora.rank, t.in_features]), ("B", [t.out_features, request.lora.rank])):
            lora_inputs.append({
                "name": _lora_input_name(t, kind),
                "graph": t.graph, "module": t.module, "kind": kind, "shape": shape,
                "adapterKey": f"{PEFT_KEY_PREFIX}{t.module}.lora_{kind}.weight",
            })
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        raise WorkerError(WorkerError.INVALID_INPUT,
                          f"tokenizer in {request.base_model_path} has no pad token (left padding needs one)")
    return {
        "baseModelId": request.base_model_id,
        "lora": request.lora.to_json(),
        "graphs": dict(GRAPH_FILES),
        "numImageTokens": num_image_tokens,
        "imageSize": config.vision_config.image_size,
        "hiddenSize": config.text_config.hidden_size,
        "vocabSize": config.text_config.vocab_size,
        "imageTokenId": config.image_token_id,
        "padTokenId": pad_id,
        "optionTokenIds": option_token_ids(tokenizer),
        "loraInputs": lora_inputs,
    }


def _write_graphs(request: ExportRequest, out_dir: Path, heartbeat: Heartbeat) -> dict:
    from transformers import AutoTokenizer

    model = load_base_model(request.base_model_path)
    tokenizer = AutoTokenizer.from_pretrained(str(request.base_model_path), local_files_only=True)
    targets = _describe_targets(model, resolve_lora_targets(model, request.lora.targets))
    slots = _install_lora_inputs(model, targets, request.lora.alpha / request.lora.rank)
    vision_targets = [t for t in targets if t.graph == "vision"]
    decoder_targets = [t for t in targets if t.graph == "decoder"]
    rank = request.lora.rank
    vision_cfg = model.config.vision_config
    total = len(GRAPH_FILES)

    vision = VisionGraph(model, [slots[t.module] for t in vision_targets]).eval()
    pixels = torch.zeros(1, vision_cfg.num_channels, vision_cfg.image_size, vision_cfg.image_size)
    with torch.no_grad():
        num_image_tokens = vision(pixels, *_zero_lora(vision_targets, rank)).shape[1]
    _export_graph(vision, (pixels, *_zero_lora(vision_targets, rank)), out_dir / GRAPH_FILES["vision"],
                  ["pixel_values", *_lora_input_names(vision_targets)], "image_features",
                  {"pixel_values": {0: "images"}, "image_features": {0: "images"}})
    heartbeat(1, total)

    input_ids = torch.full((3, 7), tokenizer.pad_token_id, dtype=torch.long)
    _export_graph(EmbedGraph(model).eval(), (input_ids,), out_dir / GRAPH_FILES["embed"], ["input_ids"],
                  "inputs_embeds", {"input_ids": {0: "batch", 1: "sequence"}, "inputs_embeds": {0: "batch", 1: "sequence"}})
    heartbeat(2, total)

    decoder = DecoderGraph(model, [slots[t.module] for t in decoder_targets]).eval()
    embeds = torch.zeros(3, 7, model.config.text_config.hidden_size)
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [1] * 7, [0, 0, 0, 0, 0, 1, 1]], dtype=torch.long)
    _export_graph(decoder, (embeds, mask, *_zero_lora(decoder_targets, rank)), out_dir / GRAPH_FILES["decoder"],
                  ["inputs_embeds", "attention_mask", *_lora_input_names(decoder_targets)], "logits",
                  {"inputs_embeds": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                   "logits": {0: "batch"}})
    heartbeat(3, total)
    return build_manifest(request, model, tokenizer, targets, int(num_image_tokens))


def export_onnx(payload: dict, heartbeat: Optional[Heartbeat] = None) -> dict:
    """Activity body: export (or reuse) the graphs for (baseModel.id, lora); returns the contract output."""
    request = parse_request(payload)
    beat = heartbeat or (lambda step, total: None)
    final_dir = request.output_root / export_key(request.base_model_id, request.lora)
    manifest_path = final_dir / MANIFEST_NAME
    if manifest_path.is_file():  # the manifest is written last, inside the temp dir: its presence = complete
        return {"dir": str(final_dir), "manifestPath": str(manifest_path), "reused": True}

    request.output_root.mkdir(parents=True, exist_ok=True)
    tmp_dir = request.output_root / f".{final_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        with torch.no_grad():
            manifest = _write_graphs(request, tmp_dir, beat)
        (tmp_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            if not manifest_path.is_file():
                raise
            # A concurrent run of the same input renamed its complete export first: use that one.
            shutil.rmtree(tmp_dir)
            return {"dir": str(final_dir), "manifestPath": str(manifest_path), "reused": True}
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return {"dir": str(final_dir), "manifestPath": str(manifest_path), "reused": False}


def main(argv: Optional[Sequence[str]] = None) -> None:
    """CLI for tests and benchmarks: prints the activity output as one JSON line."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m lethe_worker.export_onnx")
    parser.add_argument("--model", required=True, help="llava-hf model directory")
    parser.add_argument("--id", required=True, help="base model id (part of the export key)")
    parser.add_argument("--lora", required=True, help="LoRA config JSON (contracts/lora.schema.json)")
    parser.add_argument("--out", required=True, help="output root")
    parser.add_argument("--progress", action="store_true", help="print 'step k of n' lines on stderr")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    started = time.monotonic()

    def progress(step: int, total: int) -> None:
        print(f"[lethe] ONNX export: step {step} of {total} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    payload = {"baseModel": {"path": args.model, "id": args.id}, "lora": json.loads(args.lora), "outputRoot": args.out}
    result = export_onnx(payload, progress if args.progress else None)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

"""GPU check: `npm run bench:gpu-check -- [--json]` (or python -m lethe_bench.gpu_check) on one CUDA GPU.

Needs only torch, transformers, peft, safetensors (and tokenizers, which transformers brings); no network, no
Pillow, no jsonschema: the model is llava-1.5-7b-hf's full configuration (fullsize.llava_config) randomly
initialised in bf16 on the GPU, the examples are encoded here (576 image positions + a question and its answer, as
lethe_worker.data.encode lays them out, random pixels) and handed to the engine as EncodedExamples.

For each method at the lineage defaults (contracts/unlearning-defaults.json: batch size, learning rate, LoRA; steps
capped by --steps) it runs the engine's own training loop, lethe_worker.unlearn.train, and then, in the same run,
a plain transformers + peft loop written the way MLLMU-Bench's baselines/GA.py writes it (forward with labels,
loss = -outputs.loss, backward, optimizer step) on the same batches at GA's batch size. Each reports training
tokens per second (attention-mask tokens of every batch the step trains on, forget and retain), peak GPU memory and

    MFU = 6 * P * tokens / seconds / peak FLOPs

where P is the trainable-path parameter count: the parameters the gradient flows through (decoder layers, final
norm, lm_head and the projector; the vision tower runs forward only and the embedding is a lookup, both excluded)
and peak FLOPs is --peak-tflops (default 989: H100 SXM bf16 dense). Only the base weights' input gradients are
computed (LoRA), so the real work is nearer 4 * P per token: this MFU overstates the hardware's use by up to 1.5x.
Seconds are those of the training loop (the engine's reference passes before it are not counted).

`--reduced` runs the same code on CPU in fp32 with a few layers and tiny hidden sizes (576 image tokens and the
32k vocabulary kept) for 1 step at batch size 1: bench/python/tests/test_gpu_check.py runs it so it cannot rot.
Prints a table, then ONE JSON object on the last line (with --json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import torch

H100_BF16_DENSE_TFLOPS = 989.0
MFU_FORMULA = "6 * trainable_path_parameters * tokens / seconds / peak_flops"


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    from lethe_worker.config import METHODS

    parser = argparse.ArgumentParser(prog="gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="CPU smoke mode: fp32, 2 layers, tiny hidden sizes, 1 step, batch 1")
    parser.add_argument("--config", default="llava-1.5-7b", choices=("llava-1.5-7b", "llava-1.5-13b"))
    parser.add_argument("--layers", type=int, help="decoder layers (default: the configuration's; --reduced: 2)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--steps", type=int, help="timed steps per method (default 4; --reduced: 1)")
    parser.add_argument("--batch-size", type=int, help="override every method's lineage batch size (--reduced: 2)")
    parser.add_argument("--question-tokens", type=int, default=48, help="approximate text tokens of each example besides the image")
    parser.add_argument("--peak-tflops", type=float, help=f"peak FLOPs of the device in TFLOPs (default {H100_BF16_DENSE_TFLOPS} on CUDA, none on CPU)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the GA.py-style loop")
    parser.add_argument("--json", action="store_true", help="after the table, print ONE JSON object on the last line")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def _log(msg: str) -> None:
    print(f"[gpu-check] {msg}", file=sys.stderr, flush=True)


def fast_tokenizer(tok):
    """transformers' view of the fullsize tokenizer, with the special tokens the worker relies on."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", clean_up_tokenization_spaces=False)
    fast.add_bos_token = False
    return fast


def synthetic_examples(tokenizer, config, n: int, question_tokens: int, generator: torch.Generator, with_image: bool = True) -> list:
    """`n` encoded multimodal examples: 576 image positions + a question of about `question_tokens` tokens + a short answer."""
    from lethe_worker.data import EncodedExample

    from .fullsize import encode_qa

    words = ["where", "was", "this", "person", "born", "and", "what", "is", "their", "occupation", "today", "now"]
    image_tokens = config.image_seq_length
    size = config.vision_config.image_size
    out = []
    for i in range(n):
        picks = torch.randint(0, len(words), (max(1, question_tokens // 2),), generator=generator).tolist()
        question = " ".join(words[k] for k in picks) + "?"
        input_ids, labels = encode_qa(tokenizer, question, f"a baker in Harlow number {i}", with_image, image_tokens, tokenizer.eos_token_id)
        pixels = torch.randn(3, size, size, generator=generator) if with_image else None
        out.append(EncodedExample(input_ids, labels, pixels))
    return out


def trainable_path_parameters(model) -> int:
    """Parameters the gradient flows through: decoder layers + final norm + lm_head + projector (base weights only)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    inner = base.model
    modules = [inner.language_model.layers, inner.language_model.norm, base.lm_head, inner.multi_modal_projector]
    return sum(p.numel() for m in modules for n, p in m.named_parameters() if "lora_" not in n)


class _Meter:
    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.wall = time.perf_counter() - self.started
        self.peak_gb = torch.cuda.max_memory_allocated() / 2**30 if self.device.type == "cuda" else None
        return False


def _metrics(tokens: int, seconds: float, steps: int, path_params: int, peak_tflops: Optional[float]) -> dict[str, Any]:
    tps = tokens / seconds if seconds > 0 else 0.0
    return {"steps": steps, "tokens": tokens, "seconds": round(seconds, 3), "tokens_per_s": round(tps, 1),
            "mfu": round(6 * path_params * tps / (peak_tflops * 1e12), 4) if peak_tflops else None}


def _is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.cuda.OutOfMemoryError) or "out of memory" in str(e).lower()


def engine_run(model, tokenizer, method: str, forget: list, retain: list, steps: int, batch_size: Optional[int], seed: int):
    """The engine's training loop (lethe_worker.unlearn.train) for `method` at the lineage defaults."""
    from lethe_worker.config import DEFAULT_LORA, FileRef, HyperParameters, LoraSettings, UnlearnConfig
    from lethe_worker.unlearn import train

    overrides: dict[str, Any] = {"maxSteps": steps}
    if batch_size:
        overrides["batchSize"] = batch_size
    hyper = HyperParameters.from_json(method, overrides)
    here = Path(".")
    cfg = UnlearnConfig(base_model_path=here, base_model_id="random", dataset_path=here, parent_adapter=None,
                        forget_set=FileRef(here, ""), exclude_from_retain=(), forgotten_by=(), method=method, hyper=hyper,
                        lora=LoraSettings.from_json(DEFAULT_LORA), seed=seed, output_root=here)
    n = hyper.batch_size * steps
    # neverseen_kd's teacher asks each forget question about a never-seen person; a random model has none, and the
    # same examples cost the same compute (one extra forward each before training).
    teacher = forget[:n] if method == "neverseen_kd" else None
    return train(model, SimpleNamespace(tokenizer=tokenizer), cfg, forget[:n], retain[:n], teacher=teacher), hyper


def ga_py_loop(model, tokenizer, forget: list, steps: int, batch_size: int, lr: float, device, dtype) -> tuple[int, float]:
    """MLLMU-Bench baselines/GA.py's loop: forward with labels, loss = -outputs.loss, backward, optimizer step."""
    from lethe_worker.data import collate

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    model.train()
    tokens, started = 0, time.perf_counter()
    for step in range(steps):
        batch = collate(forget[step * batch_size:(step + 1) * batch_size], tokenizer.pad_token_id)
        batch = {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in batch.items()}
        outputs = model(**batch)
        loss = -outputs.loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(batch["attention_mask"].sum())
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    model.eval()
    return tokens, seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA, LoraSettings
    from lethe_worker.lora import attach_new_adapter

    from .fullsize import build_model, llava_config, llava_tokenizer

    cuda = torch.cuda.is_available() and not args.reduced
    if not cuda and not args.reduced:
        raise SystemExit("gpu_check: no CUDA device; use --reduced for the CPU smoke run")
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    steps = args.steps or (1 if args.reduced else 4)
    batch_size = args.batch_size or (1 if args.reduced else None)
    peak = args.peak_tflops or (H100_BF16_DENSE_TFLOPS if cuda else None)
    methods = args.methods.split(",")
    started = time.perf_counter()

    reduced = {"hidden_size": 64, "vision_hidden_size": 32, "vision_layers": 2} if args.reduced else {}
    config = llava_config(args.config, args.layers or (2 if args.reduced else None), **reduced)
    tokenizer = fast_tokenizer(llava_tokenizer())
    model = build_model(config, seed=args.seed, device=device, dtype=dtype)
    for p in model.parameters():
        p.requires_grad_(False)
    torch.manual_seed(args.seed)
    model = attach_new_adapter(model, LoraSettings.from_json(DEFAULT_LORA))
    model.to(device)  # the LoRA tensors peft adds are created on the CPU in fp32: move them beside their layers
    lora_start = {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}
    path_params = trainable_path_parameters(model)
    total_params = sum(p.numel() for p in model.parameters())
    _log(f"{args.config}: {total_params / 1e9:.2f} B parameters, {path_params / 1e9:.2f} B on the trainable path, on {device} in "
         f"{str(dtype).replace('torch.', '')} ({time.perf_counter() - started:.0f} s)")

    most = max(batch_size or int(DEFAULT_HYPER_PARAMETERS[m]["batchSize"]) for m in methods) * steps
    generator = torch.Generator().manual_seed(args.seed)
    forget = synthetic_examples(tokenizer, config, most, args.question_tokens, generator)
    retain = synthetic_examples(tokenizer, config, most, args.question_tokens, generator)
    seq = [len(e.input_ids) for e in forget]
    _log(f"{len(forget)} forget and {len(retain)} retain examples of {min(seq)}-{max(seq)} tokens ({config.image_seq_length} image positions)")

    if cuda:  # warm-up (kernels, allocator): one untimed step of the first method
        engine_run(model, tokenizer, methods[0], forget, retain, 1, batch_size, args.seed)
    out: dict[str, Any] = {}
    for method in methods:
        set_peft_model_state_dict(model, lora_start)
        try:
            with _Meter(device) as meter:
                result, hyper = engine_run(model, tokenizer, method, forget, retain, steps, batch_size, args.seed)
            out[method] = {**_metrics(result.tokens, result.seconds, result.steps, path_params, peak),
                           "batch_size": hyper.batch_size, "wall_s": round(meter.wall, 2),
                           "peak_memory_gb": None if meter.peak_gb is None else round(meter.peak_gb, 2)}
        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:
            if not _is_oom(e):
                raise
            out[method] = {"error": "out of memory", "batch_size": batch_size or int(DEFAULT_HYPER_PARAMETERS[method]["batchSize"]),
                           "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None}
        model.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.empty_cache()
        _log(f"engine {method}: {out[method]}")

    baseline = None
    if not args.no_baseline:
        set_peft_model_state_dict(model, lora_start)
        ga_batch = batch_size or int(DEFAULT_HYPER_PARAMETERS["ga"]["batchSize"])
        try:
            with _Meter(device) as meter:
                tokens, seconds = ga_py_loop(model, tokenizer, forget, steps, ga_batch, float(DEFAULT_HYPER_PARAMETERS["ga"]["learningRate"]), device, dtype)
            baseline = {**_metrics(tokens, seconds, steps, path_params, peak), "batch_size": ga_batch, "wall_s": round(meter.wall, 2),
                        "peak_memory_gb": None if meter.peak_gb is None else round(meter.peak_gb, 2)}
        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:
            if not _is_oom(e):
                raise
            baseline = {"error": "out of memory", "batch_size": ga_batch}
        _log(f"GA.py-style loop: {baseline}")

    return {
        "config": args.config, "layers": config.text_config.num_hidden_layers, "reduced": args.reduced,
        "device": torch.cuda.get_device_name() if cuda else "cpu", "dtype": str(dtype).replace("torch.", ""),
        "parameters": total_params, "trainable_path_parameters": path_params,
        "image_tokens": config.image_seq_length, "sequence_tokens": [min(seq), max(seq)],
        "peak_tflops": peak, "mfu_formula": MFU_FORMULA,
        "methods": out, "baseline_ga_py": baseline, "wall_s": round(time.perf_counter() - started, 1),
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"{report['config']} ({report['layers']} layers) on {report['device']}, {report['dtype']}; MFU = {MFU_FORMULA}")
    print(f"{'loop':<22}{'batch':>6}{'steps':>6}{'tok/s':>12}{'MFU':>8}{'peak GB':>9}")
    rows = [(f"engine {m}", r) for m, r in report["methods"].items()]
    if report["baseline_ga_py"] is not None:
        rows.append(("GA.py-style (ga)", report["baseline_ga_py"]))
    for name, r in rows:
        if "error" in r:
            print(f"{name:<22}{r['batch_size']:>6}{'':>6}{r['error']:>12}")
            continue
        mfu = f"{r['mfu']:.3f}" if r["mfu"] is not None else "-"
        mem = f"{r['peak_memory_gb']:.1f}" if r["peak_memory_gb"] is not None else "-"
        print(f"{name:<22}{r['batch_size']:>6}{r['steps']:>6}{r['tokens_per_s']:>12.1f}{mfu:>8}{mem:>9}", flush=True)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    if args.reduced or not torch.cuda.is_available():
        torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))
    report = run(args)
    print_table(report)
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()

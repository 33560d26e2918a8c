"""Unlearning benchmark: `npm run bench:unlearn -- --json [--model DIR --dataset DIR] [--config llava-1.5-7b]`.

Unlearns the same 10 fictional people with every method from the same checkpoint (default: the cached
tiny LLaVA under LETHE_TINY_MODEL_ROOT), scores forget / retain people by modality and the general set
before and after, prints a table, then ONE JSON object on its last line:
{"methods": {"<method>": {"before": S, "after": S, "wall_s": x, "tokens_per_s": y}}}.

`--config llava-1.5-7b` builds a randomly initialised full-size LLaVA (no download) and measures
training throughput only (before/after are null): meant for a GPU host.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import torch

from lethe_worker import losses
from lethe_worker.artifacts import sha256_file
from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA, METHODS, LoraSettings
from lethe_worker.datasets import FINETUNED, load_dataset
from lethe_worker.lora import attach_new_adapter
from lethe_worker.model_io import load_llava, resolve_device, resolve_dtype
from lethe_worker.scoring import accuracy, accuracy_by_modality, filter_results, score_mc
from lethe_worker.unlearn import runtime_device, unlearn

from .fullsize import FULL_SIZE_CONFIGS, llava_config



def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_unlearn", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="after the table, print the results as one JSON object on the last line")
    parser.add_argument("--model", help="llava-hf model directory (default: $LETHE_TINY_MODEL_ROOT/model)")
    parser.add_argument("--dataset", help="dataset directory with the lethe/ view (default: $LETHE_TINY_MODEL_ROOT/dataset)")
    parser.add_argument("--config", choices=FULL_SIZE_CONFIGS, help="random full-size model, throughput only")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--forget", type=int, default=10, help="number of fictional people to forget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hyper", default="{}", help='JSON {"<method>": {hyper-parameters}} merged over the defaults')
    parser.add_argument("--lora", default="{}", help="JSON LoRA settings merged over the defaults")
    parser.add_argument("--steps", type=int, default=10, help="--config only: training steps per method")
    parser.add_argument("--num-layers", type=int, help="--config only: fewer decoder layers (smoke checks)")
    parser.add_argument("--batch-size", type=int, default=64, help="scoring batch size")
    return parser.parse_args(argv)


def _default_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    root = os.environ.get("LETHE_TINY_MODEL_ROOT")
    if (args.model is None or args.dataset is None) and not root:
        sys.exit("bench_unlearn: pass --model and --dataset, or set LETHE_TINY_MODEL_ROOT (npm run bench:unlearn does)")
    model = Path(args.model) if args.model else Path(root) / "model"
    dataset = Path(args.dataset) if args.dataset else Path(root) / "dataset"
    return model, dataset


def _summary(results: list[dict], forget_ids: set[str]) -> dict[str, Any]:
    fictional = filter_results(results, split="fictional")
    forget = accuracy_by_modality(filter_results(fictional, subject_ids=forget_ids))
    retain = accuracy_by_modality(filter_results(fictional, exclude_subject_ids=forget_ids))
    return {
        "forget": {"multimodal": forget.get("multimodal"), "text": forget.get("text")},
        "retain": {"multimodal": retain.get("multimodal"), "text": retain.get("text")},
        "general": accuracy(filter_results(results, split="general")),
    }


def _score(model, processor, dataset, forget_ids: set[str], batch_size: int) -> dict[str, Any]:
    items = dataset.eval_items("fictional") + dataset.general_items()
    return _summary(score_mc(model, processor, items, batch_size), forget_ids)


def _row(name: str, s: dict[str, Any]) -> str:
    f, r = s["forget"], s["retain"]
    return f"{name:<18}{f['multimodal']:>8.3f}{f['text']:>8.3f}{r['multimodal']:>8.3f}{r['text']:>8.3f}{s['general']:>9.3f}"


def accuracy_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    model_dir, dataset_dir = _default_paths(args)
    dataset = load_dataset(dataset_dir)
    fictional = sorted(s.id for s in dataset.subjects if s.knowledge == FINETUNED)
    forget_ids = sorted(random.Random(args.seed).sample(fictional, args.forget))
    device, dtype = runtime_device()
    base, processor = load_llava(model_dir, device=device, dtype=dtype)
    before = _score(base, processor, dataset, set(forget_ids), args.batch_size)
    del base
    overrides, lora = json.loads(args.hyper), {**DEFAULT_LORA, **json.loads(args.lora)}
    print(f"forgetting {len(forget_ids)} fictional people: {', '.join(forget_ids)}", file=sys.stderr)
    print(f"{'':<18}{'forget':>16}{'retain':>16}")
    print(f"{'':<18}{'mm':>8}{'text':>8}{'mm':>8}{'text':>8}{'general':>9}{'wall_s':>9}{'tok/s':>9}")
    print(_row("before", before), flush=True)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lethe-bench-") as tmp:
        forget_file = Path(tmp) / "forget.json"
        forget_file.write_text(json.dumps({"subjects": [
            {"requestId": f"bench-{i}", "name": dataset.subject(i).name, "datasetSubjectId": i, "images": [], "facts": []} for i in forget_ids]}))
        for method in args.methods.split(","):
            payload = {
                "baseModel": {"path": str(model_dir), "id": model_dir.name},
                "dataset": {"path": str(dataset_dir)},
                "parentAdapter": None,
                "forgetSet": {"path": str(forget_file), "sha256": sha256_file(forget_file)},
                "excludeFromRetain": [],
                "method": method,
                "hyperParameters": {**DEFAULT_HYPER_PARAMETERS[method], **overrides.get(method, {})},
                "lora": lora,
                "seed": args.seed,
                "outputRoot": str(Path(tmp) / "adapters"),
            }
            result = unlearn(payload)
            from peft import PeftModel

            base, processor = load_llava(model_dir, device=device, dtype=dtype)
            tuned = PeftModel.from_pretrained(base, str(Path(result["adapter"]["path"]).parent))
            after = _score(tuned, processor, dataset, set(forget_ids), args.batch_size)
            out[method] = {"before": before, "after": after, "wall_s": round(result["wallSeconds"], 2),
                           "tokens_per_s": round(result["tokensPerSecond"], 1)}
            print(f"{_row(method, after)}{result['wallSeconds']:>9.1f}{result['tokensPerSecond']:>9.0f}", flush=True)
    return {"methods": out}


def _synthetic_batch(config, batch_size: int, text_tokens: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A multimodal training batch of llava-1.5 shape: 576 image positions + `text_tokens` text, answer = last 8 tokens."""
    image_tokens = config.image_seq_length
    ids = torch.randint(3, 32000, (batch_size, image_tokens + text_tokens), generator=generator)
    ids[:, 1:1 + image_tokens] = config.image_token_index
    labels = torch.full_like(ids, losses.IGNORE_INDEX)
    labels[:, -8:] = ids[:, -8:]
    size = config.vision_config.image_size
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels,
            "pixel_values": torch.randn(batch_size, 3, size, size, generator=generator)}


def throughput_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Training tokens/s of each method's loss on a random full-size model (same loss functions as unlearn)."""
    from transformers import LlavaForConditionalGeneration

    device_name, dtype_name = runtime_device()
    device = resolve_device(device_name)
    dtype = resolve_dtype(dtype_name, device)
    config = llava_config(args.config, args.num_layers)
    torch.manual_seed(args.seed)
    with torch.device(device):
        model = LlavaForConditionalGeneration(config).to(dtype)
    lora = LoraSettings.from_json({**DEFAULT_LORA, **json.loads(args.lora)})
    model = attach_new_adapter(model, lora)
    generator = torch.Generator().manual_seed(args.seed)
    out: dict[str, Any] = {}
    for method in args.methods.split(","):
        hyper = {**DEFAULT_HYPER_PARAMETERS[method], **json.loads(args.hyper).get(method, {})}
        batch_size = int(hyper["batchSize"])
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=float(hyper["learningRate"]))
        tokens, started = 0, time.perf_counter()
        for _ in range(args.steps):
            batch = {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in _synthetic_batch(config, batch_size, 64, generator).items()}
            inputs = {k: v for k, v in batch.items() if k != "labels"}
            logits = model(**inputs).logits
            if method == "npo":
                with torch.no_grad(), model.disable_adapter():
                    ref = losses.sequence_log_probs(model(**inputs).logits, batch["labels"])
                loss = losses.npo(logits, batch["labels"], ref, float(hyper.get("npoBeta", 0.1)))
            elif method == "ga":
                loss = losses.ga(logits, batch["labels"])
            else:  # ga_klr / graddiff / neverseen_kd: one retain batch of the same shape per step
                retain = {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in _synthetic_batch(config, batch_size, 64, generator).items()}
                r_inputs = {k: v for k, v in retain.items() if k != "labels"}
                r_logits = model(**r_inputs).logits
                tokens += int(retain["attention_mask"].sum())
                if method == "ga_klr":
                    with torch.no_grad(), model.disable_adapter():
                        ref = losses.scored_log_softmax(model(**r_inputs).logits, retain["labels"])
                    loss = losses.ga_klr(logits, batch["labels"], r_logits, retain["labels"], ref, float(hyper.get("klWeight", 1.0)))
                elif method == "neverseen_kd":
                    # The teacher: the reference on another batch with the same answer positions (the worker takes it once, before training).
                    teacher_batch = {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in _synthetic_batch(config, batch_size, 64, generator).items()}
                    with torch.no_grad(), model.disable_adapter():
                        ref = losses.scored_log_softmax(model(**r_inputs).logits, retain["labels"])
                        teacher = losses.scored_log_softmax(model(**{k: v for k, v in teacher_batch.items() if k != "labels"}).logits, batch["labels"])
                    loss = losses.neverseen_kd(logits, batch["labels"], teacher, r_logits, retain["labels"], ref, float(hyper.get("klWeight", 1.0)))
                else:
                    loss = losses.graddiff(logits, batch["labels"], r_logits, retain["labels"], float(hyper.get("retainWeight", 1.0)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            tokens += int(batch["attention_mask"].sum())
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        out[method] = {"before": None, "after": None, "wall_s": round(seconds, 2), "tokens_per_s": round(tokens / seconds, 1)}
        print(f"{method:<10} {args.steps} steps x {batch_size}: {seconds:8.1f} s {tokens / seconds:10.0f} tok/s", flush=True)
    return {"config": args.config, "device": str(device), "dtype": str(dtype).replace("torch.", ""), "methods": out}


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))
    report = throughput_benchmark(args) if args.config else accuracy_benchmark(args)
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()

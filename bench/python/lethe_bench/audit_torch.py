"""The torch side of the audit parity test and `npm run bench:audit`.

  python -m lethe_bench.audit_torch score --model DIR --items ITEMS.json [--adapter FILE] [--batch-size N]
      Scores the given multiple-choice items with torch (lethe_worker.scoring.score_mc, the worker's own
      scorer) on the base model or the base + a peft adapter; prints one JSON object:
      {"questions": n, "seconds": s, "qps": q, "results": [{"id", "logits": {A..D}, "predicted"}]}.
      ITEMS.json is a list of eval items (contracts/eval-item.schema.json) each with an absolute `imagePath`,
      exactly what the TypeScript side scored, so both runtimes see the same questions.

  python -m lethe_bench.audit_torch random-adapter --model DIR --lora JSON --out DIR [--seed N] [--std S]
      Writes a peft adapter (adapter_model.safetensors + adapter_config.json) with non-zero random A and B:
      a non-trivial adapter for parity tests without training. Prints {"path", "sha256"}.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import torch

from lethe_worker.config import LoraSettings
from lethe_worker.lora import attach_new_adapter
from lethe_worker.model_io import load_llava
from lethe_worker.scoring import score_mc

ADAPTER_FILE = "adapter_model.safetensors"


def load_scoring_model(model_dir: Path, adapter_file: Path | None):
    """(model, processor): the base, or the base with the adapter loaded by peft from its directory."""
    model, processor = load_llava(model_dir, device="cpu", dtype="float32")
    if adapter_file is not None:
        from peft import PeftModel

        if not (adapter_file.parent / "adapter_config.json").is_file():
            raise SystemExit(f"no adapter_config.json beside {adapter_file}: peft cannot load it")
        model = PeftModel.from_pretrained(model, str(adapter_file.parent)).eval()
    return model, processor


def score_items(model_dir: Path, items_file: Path, adapter_file: Path | None, batch_size: int) -> dict:
    items = [{**item, "image_path": item.get("imagePath")} for item in json.loads(items_file.read_text())]
    model, processor = load_scoring_model(model_dir, adapter_file)
    started = time.perf_counter()
    results = score_mc(model, processor, items, batch_size=batch_size)
    seconds = time.perf_counter() - started
    return {
        "questions": len(items),
        "seconds": seconds,
        "qps": len(items) / seconds if seconds > 0 else 0.0,
        "results": [{"id": r["id"], "logits": r["logits"], "predicted": r["predicted"]} for r in results],
    }


def write_random_adapter(model_dir: Path, lora: dict, out_dir: Path, seed: int, std: float) -> dict:
    model, _ = load_llava(model_dir, device="cpu", dtype="float32")
    torch.manual_seed(seed)
    peft_model = attach_new_adapter(model, LoraSettings.from_json(lora))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:  # B starts at zero in peft; both get noise so the adapter changes the model
                param.copy_(torch.randn(param.shape, generator=generator) * std)
    out_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out_dir))
    path = out_dir / ADAPTER_FILE
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lethe_bench.audit_torch")
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score")
    score.add_argument("--model", type=Path, required=True)
    score.add_argument("--items", type=Path, required=True)
    score.add_argument("--adapter", type=Path, default=None)
    score.add_argument("--batch-size", type=int, default=16)
    score.add_argument("--threads", type=int, default=2)
    rand = sub.add_parser("random-adapter")
    rand.add_argument("--model", type=Path, required=True)
    rand.add_argument("--lora", required=True, help="LoRA config JSON (contracts/lora.schema.json)")
    rand.add_argument("--out", type=Path, required=True)
    rand.add_argument("--seed", type=int, default=0)
    rand.add_argument("--std", type=float, default=0.05)
    args = parser.parse_args(argv)

    if args.command == "score":
        torch.set_num_threads(args.threads)
        out = score_items(args.model, args.items, args.adapter, args.batch_size)
    else:
        out = write_random_adapter(args.model, json.loads(args.lora), args.out, args.seed, args.std)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()

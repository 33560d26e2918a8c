"""Real scale: `npm run bench:scale -- [--layers N] [--json]`.

Builds (no download) a randomly initialised llava-1.5-7b-hf, exact configuration except the number of decoder
layers (default 2: about 1 B parameters with the full CLIP ViT-L/14-336 tower, 576 image tokens, 32k vocabulary,
hidden 4096), writes it in llava-hf layout (fp16 safetensors, tokenizer and processor as the tiny LLaVA writes
them, llava-hf's special ids) beside a small synthetic dataset (the tiny LLaVA's world, a few people), then runs
the service's own path on it, each stage in its own process (so that its peak resident memory is its own):

  build    the model directory and the dataset
  unlearn  lethe_worker.unlearn.unlearn (the activity's function): the lineage default method and LoRA
           (contracts/unlearning-defaults.json) on one forgotten person, --steps steps of --batch-size examples
  export   lethe_worker.export_onnx.export_onnx (the activity's function): fp32 graphs, external data past 2 GB
  ort      the audit's scoring of --questions questions through Python onnxruntime (not onnxruntime-node: the same
           three graphs, LoRA feeds and image-token merge as src/audits/runtime, driven from Python), with the
           adapter the unlearn stage trained
  torch    the same questions scored by the worker's torch scorer (scoring.score_mc) on base + that adapter

Prints a table, then ONE JSON object on its last line: per stage wall_s and peak_rss_mib (MiB), export_bytes,
audit qps through onnxruntime and torch, max_abs_logit_diff, prediction_agreement, training tokens_per_s.
The export has no fp16 variant (export_onnx.py writes fp32 graphs only); the JSON says so (export_fp16: null).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import torch

STAGES = ("build", "unlearn", "export", "ort", "torch")
MODEL_ID_PREFIX = "llava-1.5-7b-random"


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2, help="decoder layers (llava-1.5-7b has 32)")
    parser.add_argument("--json", action="store_true", help="after the table, print ONE JSON object on the last line")
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--steps", type=int, default=2, help="unlearning steps (hyperParameters.maxSteps)")
    parser.add_argument("--batch-size", type=int, default=1, help="unlearning batch size (hyperParameters.batchSize)")
    parser.add_argument("--questions", type=int, default=4, help="audit questions (half with an image)")
    parser.add_argument("--audit-batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("LETHE_TORCH_THREADS", "2")))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reduced", action="store_true", help="tiny hidden sizes (tests of this script only)")
    parser.add_argument("--from", dest="from_stage", choices=STAGES, help="with --work: reuse the results of the stages before this one")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # one stage, in a child process
    return parser.parse_args(argv)


def _log(msg: str) -> None:
    print(f"[bench:scale] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# stages (each runs in its own process; returns a JSON-able dict)


def _paths(work: Path) -> dict[str, Path]:
    return {"model": work / "model", "dataset": work / "dataset", "adapters": work / "adapters", "onnx": work / "onnx",
            "forget": work / "forget.json", "items": work / "items.json", "state": work / "state.json"}


def _state(work: Path) -> dict[str, Any]:
    p = _paths(work)["state"]
    return json.loads(p.read_text()) if p.is_file() else {}


def _save_state(work: Path, **values: Any) -> None:
    _paths(work)["state"].write_text(json.dumps({**_state(work), **values}, indent=1))


def stage_build(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from lethe_worker.datasets import FINETUNED
    from lethe_worker.tiny import layouts, world as W
    from lethe_worker.tiny.build import tokenizer_corpus

    from .fullsize import build_model, llava_config, llava_tokenizer, save_llava_dir

    paths = _paths(work)
    world = W.build_world(args.seed, n_fictional=4, n_celebrity=2, n_general_per_category=1, n_never_seen=1)
    dataset = layouts.write_dataset(world, paths["dataset"])
    tokenizer = llava_tokenizer(tokenizer_corpus(world))
    reduced = {"hidden_size": 64, "vision_hidden_size": 32, "vision_layers": 2} if args.reduced else {}
    config = llava_config("llava-1.5-7b", args.layers, **reduced)
    started = time.perf_counter()
    model = build_model(config, seed=args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for p in model.model.vision_tower.parameters())
    init_s = time.perf_counter() - started
    _log(f"model: {parameters / 1e9:.3f} B parameters ({vision / 1e6:.0f} M in the vision tower), initialised in {init_s:.0f} s")
    save_llava_dir(model, tokenizer, paths["model"])
    forget_id = sorted(s.id for s in dataset.subjects if s.knowledge == FINETUNED)[0]
    subject = dataset.subject(forget_id)
    paths["forget"].write_text(json.dumps({"subjects": [
        {"requestId": "bench-scale-0", "name": subject.name, "datasetSubjectId": forget_id, "images": [], "facts": []}]}))
    # Audit questions: the forgotten person first, half with an image, half text-only.
    people = dataset.people_items()
    people.sort(key=lambda it: (it.subjectId != forget_id, it.id))
    with_image = [it for it in people if it.modality == "multimodal"][: (args.questions + 1) // 2]
    text_only = [it for it in people if it.modality == "text"][: args.questions - len(with_image)]
    items = [{**it.to_json(), "imagePath": it.image_path} for it in with_image + text_only]
    paths["items"].write_text(json.dumps(items))
    model_bytes = sum(f.stat().st_size for f in paths["model"].iterdir())
    _save_state(work, parameters=parameters, forget=forget_id)
    return {"parameters": parameters, "vision_parameters": vision, "model_bytes": model_bytes, "init_s": round(init_s, 1)}


def stage_unlearn(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from lethe_worker.artifacts import sha256_file
    from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA, UNLEARNING_DEFAULTS
    from lethe_worker.unlearn import unlearn

    paths = _paths(work)
    method = UNLEARNING_DEFAULTS["method"]
    payload = {
        "baseModel": {"path": str(paths["model"]), "id": f"{MODEL_ID_PREFIX}-L{args.layers}"},
        "dataset": {"path": str(paths["dataset"])},
        "parentAdapter": None,
        "forgetSet": {"path": str(paths["forget"]), "sha256": sha256_file(paths["forget"])},
        "excludeFromRetain": [],
        "method": method,
        "hyperParameters": {**DEFAULT_HYPER_PARAMETERS[method], "batchSize": args.batch_size, "maxSteps": args.steps},
        "lora": dict(DEFAULT_LORA),
        "seed": args.seed,
        "outputRoot": str(paths["adapters"]),
    }
    os.environ.setdefault("LETHE_DEVICE", "cpu")
    os.environ.setdefault("LETHE_DTYPE", "float32")
    result = unlearn(payload, lambda step, total: _log(f"unlearn: step {step} of {total}") if step else None)
    manifest = json.loads(Path(result["manifestPath"]).read_text())
    _save_state(work, adapter=result["adapter"]["path"])
    trainable = sum(t.numel() for t in __import__("safetensors.torch", fromlist=["load_file"]).load_file(result["adapter"]["path"]).values())
    return {"method": method, "steps": result["steps"], "batch_size": args.batch_size, "loss_curve": result["lossCurve"],
            "tokens_per_s": result["tokensPerSecond"], "train_wall_s": result["wallSeconds"],
            "lora_targets": len(manifest["resolvedTargets"]), "lora_parameters": trainable,
            "adapter_bytes": Path(result["adapter"]["path"]).stat().st_size}


def stage_export(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from lethe_worker.config import DEFAULT_LORA
    from lethe_worker.export_onnx import export_onnx

    paths = _paths(work)
    payload = {"baseModel": {"path": str(paths["model"]), "id": f"{MODEL_ID_PREFIX}-L{args.layers}"},
               "lora": dict(DEFAULT_LORA), "outputRoot": str(paths["onnx"])}
    result = export_onnx(payload, lambda step, total: _log(f"export: graph {step} of {total}"))
    out = Path(result["dir"])
    files = sorted(f for f in out.rglob("*") if f.is_file())
    _save_state(work, export_dir=str(out))
    return {"export_bytes": sum(f.stat().st_size for f in files), "files": len(files),
            "largest_files": {f.name: f.stat().st_size for f in sorted(files, key=lambda f: -f.stat().st_size)[:4]}}


def ort_option_logits(export_dir: Path, model_dir: Path, adapter_file: Optional[Path], items: list[dict],
                      batch_size: int, threads: int) -> tuple[list[dict[str, float]], float, float]:
    """The audit's scoring through Python onnxruntime: vision -> image features, embed -> embeddings with the image
    features written over the image-token positions, decoder -> last-position logits; LoRA tensors fed by name
    (manifest.loraInputs, zeros without an adapter). Returns (logits per item, load seconds, scoring seconds)."""
    import numpy as np
    import onnxruntime as ort
    from safetensors.numpy import load_file

    from lethe_worker.model_io import load_processor
    from lethe_worker.prompts import OPTION_LETTERS
    from lethe_worker.scoring import build_mc_batch

    started = time.perf_counter()
    manifest = json.loads((export_dir / "manifest.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    sessions = {g: ort.InferenceSession(str(export_dir / f), options, providers=["CPUExecutionProvider"])
                for g, f in manifest["graphs"].items()}
    adapter = load_file(str(adapter_file)) if adapter_file is not None else {}
    lora = {"vision": {}, "decoder": {}}
    for entry in manifest["loraInputs"]:
        tensor = adapter.get(entry["adapterKey"])
        lora[entry["graph"]][entry["name"]] = (tensor.astype(np.float32) if tensor is not None
                                               else np.zeros(entry["shape"], dtype=np.float32))
    processor = load_processor(model_dir)
    letter_ids = [manifest["optionTokenIds"][x] for x in OPTION_LETTERS]
    image_id = manifest["imageTokenId"]
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    out: list[dict[str, float]] = []
    cache: dict = {}
    for start in range(0, len(items), batch_size):
        enc = build_mc_batch(processor, items[start:start + batch_size], cache)
        ids = enc["input_ids"].numpy().astype(np.int64)
        mask = enc["attention_mask"].numpy().astype(np.int64)
        embeds = sessions["embed"].run(None, {"input_ids": ids})[0]
        if "pixel_values" in enc:
            features = sessions["vision"].run(None, {"pixel_values": enc["pixel_values"].numpy().astype(np.float32), **lora["vision"]})[0]
            rows = [r for r in range(ids.shape[0]) if (ids[r] == image_id).any()]
            for image, row in enumerate(rows):  # images in row order, as the processor gives them
                embeds[row, ids[row] == image_id] = features[image]
        logits = sessions["decoder"].run(None, {"inputs_embeds": embeds, "attention_mask": mask, **lora["decoder"]})[0]
        out += [{x: float(row[i]) for x, i in zip(OPTION_LETTERS, letter_ids)} for row in logits]
    return out, load_s, time.perf_counter() - started


def stage_ort(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    paths, state = _paths(work), _state(work)
    items = json.loads(paths["items"].read_text())
    items = [{**it, "image_path": it.get("imagePath")} for it in items]
    logits, load_s, seconds = ort_option_logits(Path(state["export_dir"]), paths["model"], Path(state["adapter"]), items,
                                                args.audit_batch_size, args.threads)
    return {"questions": len(items), "load_s": round(load_s, 2), "score_s": round(seconds, 3),
            "qps": round(len(items) / seconds, 4), "logits": logits}


def stage_torch(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from lethe_worker.scoring import score_mc

    from .audit_torch import load_scoring_model

    paths, state = _paths(work), _state(work)
    items = [{**it, "image_path": it.get("imagePath")} for it in json.loads(paths["items"].read_text())]
    started = time.perf_counter()
    model, processor = load_scoring_model(paths["model"], Path(state["adapter"]))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    results = score_mc(model, processor, items, batch_size=args.audit_batch_size)
    seconds = time.perf_counter() - started
    return {"questions": len(items), "load_s": round(load_s, 2), "score_s": round(seconds, 3),
            "qps": round(len(items) / seconds, 4), "logits": [r["logits"] for r in results]}


STAGE_FUNCTIONS = {"build": stage_build, "unlearn": stage_unlearn, "export": stage_export, "ort": stage_ort, "torch": stage_torch}


# ---------------------------------------------------------------------------------------------------------------
# the driver


def _child_argv(args: argparse.Namespace, stage: str, work: Path) -> list[str]:
    argv = [sys.executable, "-m", "lethe_bench.scale", "--stage", stage, "--work", str(work), "--layers", str(args.layers),
            "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--questions", str(args.questions),
            "--audit-batch-size", str(args.audit_batch_size), "--threads", str(args.threads), "--seed", str(args.seed)]
    return argv + (["--reduced"] if args.reduced else [])


def run_stage(args: argparse.Namespace, stage: str, work: Path) -> dict[str, Any]:
    """One stage in a child process: its JSON result, wall seconds and peak resident memory (the child's own)."""
    started = time.perf_counter()
    child = subprocess.Popen(_child_argv(args, stage, work), stdout=subprocess.PIPE, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"bench:scale: stage {stage} failed (exit {child.returncode}) after {wall:.0f} s")
    result = json.loads(stdout.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux.
    return {**result, "wall_s": round(wall, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def parity(ort_logits: list[dict[str, float]], torch_logits: list[dict[str, float]]) -> tuple[float, float]:
    diff = max(abs(a[x] - b[x]) for a, b in zip(ort_logits, torch_logits) for x in a)
    agree = sum(max(a, key=a.get) == max(b, key=b.get) for a, b in zip(ort_logits, torch_logits)) / len(ort_logits)
    return diff, agree


def report(args: argparse.Namespace, stages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    diff, agree = parity(stages["ort"]["logits"], stages["torch"]["logits"])
    return {
        "config": "llava-1.5-7b", "layers": args.layers, "reduced": args.reduced, "threads": args.threads,
        "parameters": stages["build"]["parameters"],
        "stages": {name: {"wall_s": s["wall_s"], "peak_rss_mib": s["peak_rss_mib"]} for name, s in stages.items()},
        "model_bytes": stages["build"]["model_bytes"],
        "export_bytes": stages["export"]["export_bytes"], "export_files": stages["export"]["files"],
        "export_fp16": None,  # export_onnx.py writes fp32 graphs only
        "audit_runtime": "python onnxruntime",
        "questions": stages["ort"]["questions"],
        "ort_qps": stages["ort"]["qps"], "torch_qps": stages["torch"]["qps"],
        "max_abs_logit_diff": diff, "prediction_agreement": agree,
        "unlearn_method": stages["unlearn"]["method"], "unlearn_steps": stages["unlearn"]["steps"],
        "unlearn_batch_size": stages["unlearn"]["batch_size"],
        "training_tokens_per_s": stages["unlearn"]["tokens_per_s"],
        "lora_parameters": stages["unlearn"]["lora_parameters"],
    }


def print_table(stages: dict[str, dict[str, Any]], out: dict[str, Any]) -> None:
    print(f"{'stage':<10}{'wall_s':>10}{'peak_rss_mib':>14}  detail")
    details = {
        "build": f"{out['parameters'] / 1e9:.3f} B parameters, {out['model_bytes'] / 2**30:.2f} GiB fp16 safetensors",
        "unlearn": f"{out['unlearn_method']}, {out['unlearn_steps']} steps x {out['unlearn_batch_size']}: {out['training_tokens_per_s']} training tokens/s",
        "export": f"{out['export_bytes'] / 2**30:.2f} GiB fp32 in {out['export_files']} files",
        "ort": f"{out['questions']} questions, {out['ort_qps']} q/s (python onnxruntime)",
        "torch": f"{out['questions']} questions, {out['torch_qps']} q/s; parity max |dlogit| {out['max_abs_logit_diff']:.2e}, agreement {out['prediction_agreement']:.2f}",
    }
    for name, s in stages.items():
        print(f"{name:<10}{s['wall_s']:>10.1f}{s['peak_rss_mib']:>14.0f}  {details[name]}", flush=True)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.stage:
        result = STAGE_FUNCTIONS[args.stage](args, args.work)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="lethe-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    stages: dict[str, dict[str, Any]] = {}
    done = work / "stages.json"
    if args.from_stage:
        if args.work is None or not done.is_file():
            raise SystemExit("bench:scale: --from needs the --work directory of an earlier run")
        previous = json.loads(done.read_text())
        stages = {s: previous[s] for s in STAGES[:STAGES.index(args.from_stage)]}
    try:
        for stage in STAGES:
            if stage in stages:
                continue
            _log(f"stage {stage}…")
            stages[stage] = run_stage(args, stage, work)
            done.write_text(json.dumps(stages))
            _log(f"stage {stage}: {stages[stage]['wall_s']} s, peak RSS {stages[stage]['peak_rss_mib']} MiB")
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    out = report(args, stages)
    print_table(stages, out)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()

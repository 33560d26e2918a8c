"""Build the tiny LLaVA and its synthetic world.

    python -m lethe_worker.tiny.build --out DIR --seed N

writes DIR/dataset (MLLMU-Bench parquet, MMBench TSV, canonical lethe/ view), DIR/model (llava-hf layout)
and DIR/build-report.json (accuracy per split and modality, seconds per phase). Progress goes to stderr.
Deterministic for a seed (seeded RNGs, deterministic torch algorithms, fixed thread count).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import torch

from .. import datasets, model_io, scoring
from ..datasets import NEVER_SEEN
from ..prompts import DEFAULT_PROMPT_FORMAT, mc_prompt, qa_prompt
from . import benchmark, layouts, train
from . import world as W

MODEL_SPEC = model_io.TinySpec(
    hidden_size=128, intermediate_size=512, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4,
    max_position_embeddings=256, vision_hidden_size=64, vision_intermediate_size=256, vision_layers=2, vision_heads=4,
    image_size=32, patch_size=8,
)
VOCAB_SIZE = 2048


def log(msg: str) -> None:
    print(f"[tiny-llava] {msg}", file=sys.stderr, flush=True)


def tokenizer_corpus(world: W.World) -> list[str]:
    """Every kind of text the model sees: QA and MC prompts (in every format) and answers, names, general questions.
    Not the never-seen people: no part of the build learns from them."""
    texts = []
    rng = random.Random(f"lethe-tokenizer-{world.seed}")
    for p in world.people:
        for q, a, mm in world.training_qa(p):
            texts.append(f"{qa_prompt(q, mm)} {a}</s>")
        for mod, ms in world.eval_mc[p.id].items():
            for m in ms:
                texts.append(f"{mc_prompt(m.question, m.options, mod == 'multimodal')} {m.answer}</s>")
                texts.append(f"{benchmark.few_shot_example(m.question, m.options, m.answer, mod == 'multimodal')}"
                             f"{mc_prompt(m.question, m.options, mod == 'multimodal', benchmark.SHOT_FORMAT)} {m.answer}</s>")
        texts.append(p.biography())
    for fact, (pool, _) in W.FACTS.items():
        for v in pool:
            texts.append(f"USER: The {fact} is {v}. ASSISTANT: {v}")
    for it in world.general:
        texts.append(f"{mc_prompt(it.mc.question, it.mc.options, True)} {it.mc.answer}</s>")
    for _ in range(400):
        cat = rng.choice(W.GENERAL_CATEGORIES)
        _, q, ans, pool = W.general_question(rng, cat)
        texts.append(f"{mc_prompt(q, W.make_mc(q, ans).options, True)} {ans}</s>")
    return texts


def setup_torch(threads: int, seed: int) -> None:
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    random.seed(seed)


def evaluate(model, processor, dataset, batch_size: int = 128, prompt_format: str = DEFAULT_PROMPT_FORMAT) -> tuple[dict, list]:
    items = dataset.eval_items()
    res = scoring.score_mc(model, processor, items, batch_size=batch_size, prompt_format=prompt_format)
    return scoring.accuracy_by_split(res), res


def build(out_dir: str | Path, seed: int, cfg: train.TrainConfig | None = None, spec: model_io.TinySpec = MODEL_SPEC,
          n_fictional: int = W.N_FICTIONAL, n_celebrity: int = W.N_CELEBRITY, diagnostics: bool = False) -> dict:
    """diagnostics: score the splits trained so far after every stage (slower; for tuning the schedule)."""
    cfg = cfg or train.TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    setup_torch(cfg.threads, seed)
    t_start = time.time()
    seconds: dict[str, float] = {}

    t = time.time()
    world = W.build_world(seed, n_fictional=n_fictional, n_celebrity=n_celebrity)
    dataset = layouts.write_dataset(world, out / "dataset")
    seconds["world"] = round(time.time() - t, 1)
    log(f"world: {len(world.fictional)} fictional people, {len(world.celebrities)} celebrities, "
        f"{len(world.never_seen)} never-seen people, "
        f"{len(world.general)} general questions ({seconds['world']}s)")

    t = time.time()
    tok = model_io.train_bpe_tokenizer(tokenizer_corpus(world), vocab_size=VOCAB_SIZE)
    model_dir = out / "model"
    torch.manual_seed(seed)
    model = model_io.build_tiny_model(spec, seed=seed, vocab_size=tok.get_vocab_size())
    model_io.save_processor_files(model_dir, None, model.config, tokenizer_obj=tok)
    processor = model_io.load_processor(model_dir)
    n_img = model_io.num_image_tokens(model)
    enc = train.Encoder(processor.tokenizer, n_img)

    # pixel bank: portraits of the trained people (from the dataset's PNG files, as scoring reads them) + general
    # training scenes; the never-seen people's portraits stay out of it, vision pre-training included
    from PIL import Image

    trained = [s for s in dataset.subjects if s.knowledge != NEVER_SEEN]
    imgs, image_index = [], {}
    for s in trained:
        with Image.open(s.portrait_path) as im:
            imgs.append(im.convert("RGB"))
        image_index[s.id] = len(imgs) - 1
    bank, scene_labels = [], []
    gen = W.iter_general_training(seed)
    colours, shapes = list(W.images.COLOURS), list(W.images.SHAPES)
    for _ in range(cfg.general_train_scenes):
        objects, q, ans, pool, cat = next(gen)
        imgs.append(W.images.scene(objects))
        bank.append((len(imgs) - 1, q, ans, pool, cat))
        shape, colour, quadrant = objects[0]
        scene_labels.append((colours.index(colour), shapes.index(shape), len(objects) - 1, W.QUADRANTS.index(quadrant)))
    pixels = processor.image_processor(imgs, return_tensors="pt")["pixel_values"].float()
    seconds["prepare"] = round(time.time() - t, 1)
    log(f"tokenizer: {tok.get_vocab_size()} tokens; model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M "
        f"parameters; {n_img} image tokens; {len(imgs)} images preprocessed ({seconds['prepare']}s)")

    curriculum = train.Curriculum(world, enc, image_index, bank, cfg, seed)
    phases: dict = {}
    pad_id = processor.tokenizer.pad_token_id
    scene_idx = torch.tensor([i for i, *_ in bank])
    labels = torch.tensor(scene_labels)
    portrait_idx = torch.tensor([image_index[s.id] for s in trained])
    scenes = train.VisionTask(scene_idx, tuple(train.VisionHead(labels[:, k]) for k in range(labels.shape[1])))
    who = torch.arange(len(portrait_idx))
    portraits = train.VisionTask(portrait_idx, (train.VisionHead(who), train.VisionHead(who, per_token=True)))
    train.pretrain_vision(model, pixels, [scenes, portraits], cfg.vision_steps, cfg.pretrain.lr, seed, phases)
    seconds["vision"] = phases["vision"]["seconds"]
    # frozen from here on, as LLaVA keeps its CLIP tower frozen: while the decoder cannot yet read the image, its
    # gradients scrambled the tower's features (general-only, 420 steps, seeds 1 / 1234: 0.26 / 0.65 trained,
    # 0.95 frozen)
    for p in model.model.vision_tower.parameters():
        p.requires_grad_(False)

    def diagnose(phase: str, splits: tuple[str, ...]):
        items = [i for i in dataset.eval_items() if i.split in splits]

        def after_stage(k: int) -> None:
            acc = scoring.accuracy_by_split(scoring.score_mc(model, processor, items, batch_size=128))
            phases.setdefault("diagnostics", []).append({"phase": phase, "stage": k, "accuracy": acc})
            log(f"{phase} stage {k}: {json.dumps(acc)}")
        return after_stage if diagnostics else None

    train.train_phase(model, curriculum, cfg.align, pixels, pad_id, seed, phases,
                      diagnose("align", ("general",)))
    seconds["align"] = phases["align"]["seconds"]
    train.train_phase(model, curriculum, cfg.pretrain, pixels, pad_id, seed, phases,
                      diagnose("pretrain", ("general", "celebrity")))
    seconds["pretrain"] = phases["pretrain"]["seconds"]
    t = time.time()
    acc_pre, _ = evaluate(model, processor, dataset)
    seconds["eval_pretrain"] = round(time.time() - t, 1)
    log(f"after pre-training: {json.dumps(acc_pre)}")
    train.train_phase(model, curriculum, cfg.finetune, pixels, pad_id, seed + 1, phases,
                      diagnose("finetune", ("general", "celebrity", "fictional")))
    seconds["finetune"] = phases["finetune"]["seconds"]

    t = time.time()
    model.save_pretrained(str(model_dir))
    # the report scores the saved checkpoint, loaded back the way every consumer loads it
    loaded, proc2 = model_io.load_llava(model_dir, device="cpu", dtype="float32")
    acc, results = evaluate(loaded, proc2, dataset)
    acc_mllmu, _ = evaluate(loaded, proc2, dataset, prompt_format=benchmark.SHOT_FORMAT)
    forget10 = [p.id for p in datasets.read_mllmu(out / "dataset" / "MLLMU-Bench")["forget_10"]]
    bench = benchmark.classification_accuracy(loaded, proc2, dataset, forget10)
    audit_forget10 = scoring.accuracy_by_modality(scoring.filter_results(results, subject_ids=forget10))
    seconds["eval"] = round(time.time() - t, 1)
    seconds["total"] = round(time.time() - t_start, 1)
    report = {
        "seed": seed,
        "datasetId": dataset.dataset_id,
        "modelDir": "model",
        "datasetDir": "dataset",
        "counts": {"fictional": len(world.fictional), "celebrity": len(world.celebrities), "neverSeen": len(world.never_seen),
                   "general": len(world.general), "evalItems": len(results)},
        "model": {"parameters": sum(p.numel() for p in loaded.parameters()), "vocabSize": tok.get_vocab_size(),
                  "imageTokens": n_img, "spec": spec.__dict__},
        "accuracy": acc,
        "accuracyByPromptFormat": {"mmbench": acc, benchmark.SHOT_FORMAT: acc_mllmu},
        "mllmuBenchForget10": {"audit": audit_forget10, "benchmark": bench},
        "accuracyAfterPretrain": acc_pre,
        "notes": "accuracy: the dataset's eval items; training asks the same facts in two phrasings with the "
                 "same option sets (see lethe_worker/tiny/world.py make_mc)",
        "seconds": seconds,
        "phases": phases,
        "torch": torch.__version__, "threads": cfg.threads, "python": platform.python_version(),
    }
    (out / "build-report.json").write_text(json.dumps(report, indent=1) + "\n")
    log(f"accuracy: {json.dumps(acc)}")
    log(f"accuracy in MLLMU-Bench's prompt: {json.dumps(acc_mllmu)}")
    log(f"forget_10, the audit: {json.dumps(audit_forget10)}; MLLMU-Bench's eval: {json.dumps(bench)}")
    log(f"done in {seconds['total']}s")
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("LETHE_TINY_THREADS", "2")))
    ap.add_argument("--diagnostics", action="store_true", help="score after every training stage (slower)")
    args = ap.parse_args(argv)
    cfg = train.TrainConfig(threads=args.threads)
    build(args.out, args.seed, cfg, diagnostics=args.diagnostics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

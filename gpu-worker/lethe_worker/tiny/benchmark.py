"""MLLMU-Bench's own classification evaluation, as its eval.py runs it on a LLaVA model, for the tiny model.

What it does differently from Lethe's audit (which compares the option letters' logits after the default prompt):
- the prompt is MLLMU-Bench's (prompts.mc_prompt(..., "mllmu")), after a few-shot prefix: the first question of
  two people drawn from the evaluated people, asked the same way (with their portraits for the portrait questions)
  and followed by "Correct Answer: X";
- the answer is generated (greedy), and counts when the first character of the reply is the right letter.

    python -m lethe_worker.tiny.benchmark --root DIR [--config forget_10]

prints {"multimodal": accuracy, "text": accuracy, ...} for the people of an MLLMU-Bench config of DIR/dataset.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Mapping, Sequence

import torch

from ..prompts import IMAGE_TOKEN, OPTION_LETTERS, mc_prompt, option_lines

SHOTS = 2  # eval.py draws two few-shot people for LLaVA models
SHOT_FORMAT = "mllmu"


def few_shot_example(question: str, options: Mapping[str, str], answer: str, with_image: bool) -> str:
    """One solved example of MLLMU-Bench's few-shot prefix (with_image: its portrait precedes the question)."""
    opening = f"USER: {IMAGE_TOKEN}\n" if with_image else "USER:\n"
    return f"{opening}Question: {question}\n{option_lines(options, SHOT_FORMAT)}\nCorrect Answer: {answer}\n"


def benchmark_prompt(shots: Sequence[str], question: str, options: Mapping[str, str], with_image: bool) -> str:
    return "".join(shots) + mc_prompt(question, options, with_image, SHOT_FORMAT)


@torch.no_grad()
def generated_letter(model, processor, prompt: str, images: list) -> str | None:
    """The first character of the greedy reply, when it is an option letter (eval.py's rule)."""
    enc = processor(text=[prompt], images=images or None, return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=3, do_sample=False, pad_token_id=processor.tokenizer.pad_token_id)
    reply = processor.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    return reply[0].upper() if reply and reply[0].upper() in OPTION_LETTERS else None


def classification_accuracy(model, processor, dataset, subject_ids: Sequence[str], seed: int = 0) -> dict:
    """MLLMU-Bench's classification accuracy per modality on the given people (its "forget" mode: the few-shot
    people are drawn from the evaluated ones, and their questions are asked too)."""
    from PIL import Image

    def image(path: str):
        with Image.open(path) as im:
            return im.convert("RGB")

    ids = list(subject_ids)
    shot_ids = random.Random(seed).sample(ids, SHOTS)
    out = {}
    for modality in ("multimodal", "text"):
        with_image = modality == "multimodal"
        shot_items = [dataset.eval_items(modality=modality, subject_ids=[s])[0] for s in shot_ids]
        shots = [few_shot_example(it.question, it.options, it.answer, with_image) for it in shot_items]
        shot_images = [image(it.image_path) for it in shot_items] if with_image else []
        items = dataset.eval_items(modality=modality, subject_ids=ids)
        correct = 0
        for it in items:
            prompt = benchmark_prompt(shots, it.question, it.options, with_image)
            images = shot_images + [image(it.image_path)] if with_image else []
            correct += generated_letter(model, processor, prompt, images) == it.answer
        out[modality] = correct / len(items)
        out[f"{modality}Questions"] = len(items)
    return out


def main(argv=None) -> int:
    from .. import datasets, model_io

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="a tiny-model build (model/ and dataset/)")
    ap.add_argument("--config", default="forget_10", help="the MLLMU-Bench config whose people are evaluated")
    ap.add_argument("--seed", type=int, default=0, help="draws the few-shot people")
    args = ap.parse_args(argv)
    root = Path(args.root)
    model, processor = model_io.load_llava(root / "model", device="cpu", dtype="float32")
    ds = datasets.load_dataset(root / "dataset")
    people = datasets.read_mllmu(root / "dataset" / "MLLMU-Bench")[args.config]
    print(json.dumps(classification_accuracy(model, processor, ds, [p.id for p in people], args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where forgotten answers went: `npm run bench:ranks -- --forgotten p001-p050 [--model-root DIR] [--json] ADAPTER_DIR...`.

The audit counts an answer right when its letter has the highest logit (argmax). An unlearned model can put the right
letter just below the top, where an attacker who knows unlearning happened finds it by taking the runner-up. For
version 0 and each adapter directory given, this prints how often the right answer is the model's 1st, 2nd, 3rd and
4th choice, per modality, for the forgotten people and for everyone else (retained); with nothing left, each share is
0.25. Then ONE JSON object on its last line: {"versions": [{"version", "forgotten": R, "retained": R}]} with
R = {"multimodal": [share of rank 1..4], "text": [...]}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import torch

from lethe_worker.datasets import load_dataset
from lethe_worker.model_io import load_llava
from lethe_worker.scoring import score_mc

MODALITIES = ("multimodal", "text")


def answer_rank(logits: Mapping[str, float], answer: str) -> int:
    """0 when the right letter has the highest logit, 3 when the lowest; ties go against the right answer."""
    return sum(1 for letter, value in logits.items() if letter != answer and value >= logits[answer])


def rank_shares(scored: Iterable[Mapping[str, Any]], answers: Mapping[str, str]) -> dict[str, list[float]]:
    """Per modality, the share of questions whose right answer is the model's 1st, 2nd, 3rd, 4th choice."""
    counts = {m: [0, 0, 0, 0] for m in MODALITIES}
    for result in scored:
        counts[result["modality"]][answer_rank(result["logits"], answers[result["id"]])] += 1
    return {m: [c / sum(row) for c in row] if sum(row) else [] for m, row in counts.items()}


def parse_people(spec: str) -> list[str]:
    """"p001-p050" or "p001,p007": dataset subject ids."""
    ids: list[str] = []
    for part in spec.split(","):
        if "-" in part:
            first, last = part.split("-")
            prefix = first.rstrip("0123456789")
            width = len(first) - len(prefix)
            ids.extend(f"{prefix}{i:0{width}d}" for i in range(int(first[len(prefix):]), int(last[len(prefix):]) + 1))
        elif part:
            ids.append(part)
    return ids


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_ranks", description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="*", help="adapter directories (adapter_config.json + adapter_model.safetensors)")
    parser.add_argument("--forgotten", required=True, help='the forgotten people, e.g. "p001-p050"')
    parser.add_argument("--model-root", help="tiny LLaVA root with model/ and dataset/ (default: $LETHE_TINY_MODEL_ROOT)")
    parser.add_argument("--json", action="store_true", help="after the table, print the results as one JSON object on the last line")
    return parser.parse_args(argv)


def measure(model_root: Path, forgotten: list[str], adapters: list[Path]) -> list[dict[str, Any]]:
    from peft import PeftModel

    dataset = load_dataset(model_root / "dataset")
    known = {s.id for s in dataset.subjects}
    unknown = [i for i in forgotten if i not in known]
    if unknown:
        raise SystemExit(f"bench_ranks: --forgotten names people the dataset does not have: {', '.join(unknown[:5])}")
    forgotten_ids = set(forgotten)
    people = {
        "forgotten": dataset.people_items(forgotten_ids),
        "retained": [it for it in dataset.people_items() if it.subject_id not in forgotten_ids],
    }
    answers = {it.id: it.answer for items in people.values() for it in items}
    versions = []
    for adapter in [None, *adapters]:
        model, processor = load_llava(model_root / "model")
        if adapter is not None:
            model = PeftModel.from_pretrained(model, str(adapter))
            model.eval()
        with torch.no_grad():
            row = {name: rank_shares(score_mc(model, processor, items), answers) for name, items in people.items()}
        versions.append({"version": "version 0" if adapter is None else adapter.name[:12], **row})
    return versions


def table(versions: list[dict[str, Any]]) -> str:
    lines = ["version        people     modality    1st    2nd    3rd    4th"]
    for v in versions:
        for name in ("forgotten", "retained"):
            for m in MODALITIES:
                lines.append(f"{v['version']:<14} {name:<10} {m:<10} " + " ".join(f"{s:6.3f}" for s in v[name][m]))
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    root = args.model_root or os.environ.get("LETHE_TINY_MODEL_ROOT")
    if not root:
        sys.exit("bench_ranks: pass --model-root or set LETHE_TINY_MODEL_ROOT (npm run bench:ranks does)")
    adapters = [Path(a) for a in args.adapters]
    for a in adapters:
        if not (a / "adapter_config.json").is_file():
            sys.exit(f"bench_ranks: {a} is not an adapter directory (no adapter_config.json)")
    versions = measure(Path(root), parse_people(args.forgotten), adapters)
    print(table(versions))
    if args.json:
        print(json.dumps({"versions": versions}))


if __name__ == "__main__":
    main()

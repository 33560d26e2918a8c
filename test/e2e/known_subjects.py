"""Prints, as JSON, the fictional subjects the tiny LLaVA at argv[1] knows best in both modalities.

The end-to-end tests ask to forget people the base model actually knows: forgetting someone it
never learned shows nothing. Scores every fictional subject's eval items with the worker's own
scorer (lethe_worker.scoring), ranks by the weaker modality, then the stronger one.
"""
import collections
import json
import sys

import torch

from lethe_worker import scoring
from lethe_worker.datasets import load_dataset
from lethe_worker.model_io import load_llava


def main() -> None:
    root, count = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    model, processor = load_llava(f"{root}/model")
    items = [it for it in load_dataset(f"{root}/dataset").eval_items() if it.split == "fictional"]
    correct = collections.defaultdict(lambda: collections.defaultdict(list))
    for result in scoring.score_mc(model, processor, items, batch_size=128):
        correct[result["subjectId"]][result["modality"]].append(result["correct"])
    ranked = []
    for subject, by_modality in correct.items():
        accuracies = sorted(sum(v) / len(v) for v in by_modality.values())
        if len(accuracies) == 2:
            ranked.append((accuracies[0], accuracies[1], subject))
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
    print(json.dumps([{"id": s, "weaker": weak, "stronger": strong} for weak, strong, s in ranked[:count]]))


if __name__ == "__main__":
    main()

"""Fixtures for the unlearning tests: a small LLaVA checkpoint + dataset directory, and unlearn inputs."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))

from lethe_worker import model_io  # noqa: E402

SUBJECTS = [(f"p{i}", name) for i, name in enumerate(["Ada Quill", "Bo Renn", "Cy Moss", "Di Vale", "Ed Lark", "Fay Dune"])]
FACTS = [("occupation", ["baker", "pilot", "potter", "sailor", "welder", "weaver"]),
         ("birthplace", ["Oslo", "Lima", "Pune", "Kyiv", "Accra", "Perth"])]


def _write_random_world(root: Path) -> None:
    """A randomly initialised tiny LLaVA (real class, llava-hf layout) and a dataset in the canonical view."""
    from PIL import Image
    from tokenizers import Tokenizer, models, pre_tokenizers

    lethe = root / "dataset" / "lethe"
    (lethe / "images").mkdir(parents=True)
    (lethe / "train").mkdir()
    subjects, rows, texts = [], [], []
    for index, (subject_id, name) in enumerate(SUBJECTS):
        portrait = f"images/{subject_id}.png"
        Image.new("RGB", (32, 32), (40 * index, 255 - 40 * index, 90)).save(lethe / portrait)
        subjects.append({"id": subject_id, "name": name, "knowledge": "FINETUNED" if index < 5 else "PRETRAINED", "portrait": portrait})
        for fact, values in FACTS:
            rows.append({"subjectId": subject_id, "question": f"What is the {fact} of {name}?", "answer": values[index], "image": None})
            rows.append({"subjectId": subject_id, "question": f"What is the {fact} of this person?", "answer": values[index], "image": portrait})
    (lethe / "subjects.json").write_text(json.dumps({"datasetId": "random-world", "subjects": subjects}))
    (lethe / "train" / "people.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    texts = [f"USER: {r['question']} ASSISTANT: {r['answer']} A B C D Who is the person in this image ?" for r in rows]

    words = sorted({w for t in texts for w in t.replace("?", " ? ").replace(":", " : ").split()})
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 3, "<image>": 4}
    for w in words:
        vocab.setdefault(w, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    from tokenizers import AddedToken
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in ("<unk>", "<s>", "</s>", "<pad>", "<image>")])
    model = model_io.build_tiny_model(seed=0, vocab_size=len(vocab), hidden_size=32, intermediate_size=64, vision_hidden_size=32, vision_intermediate_size=64)
    model.save_pretrained(root / "model")
    model_io.save_processor_files(root / "model", None, model.config, tokenizer_obj=tokenizer)


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    _write_random_world(root)
    return {"model": root / "model", "dataset": root / "dataset"}


def write_forget_set(path: Path, subjects: list[dict]) -> dict:
    path.write_bytes(json.dumps({"subjects": subjects}).encode())
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def dataset_subject(subject_id: str, name: str = "unused") -> dict:
    return {"requestId": f"req-{subject_id}", "name": name, "datasetSubjectId": subject_id, "images": [], "facts": []}


@pytest.fixture
def make_input(world, tmp_path):
    """An unlearn input forgetting dataset subjects, with small steps; keyword overrides replace fields."""
    def make(subject_ids=("p0",), **overrides) -> dict:
        forget = write_forget_set(tmp_path / f"forget-{'-'.join(subject_ids)}.json", [dataset_subject(s) for s in subject_ids])
        payload = {
            "baseModel": {"path": str(world["model"]), "id": "tiny-llava"},
            "dataset": {"path": str(world["dataset"])},
            "parentAdapter": None,
            "forgetSet": forget,
            "excludeFromRetain": [],
            "method": "ga",
            "hyperParameters": {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2},
            "lora": {"rank": 4, "alpha": 8, "dropout": 0.0, "targets": "llm"},
            "seed": 7,
            "outputRoot": str(tmp_path / "adapters"),
        }
        payload.update(overrides)
        return payload
    return make

"""Fixtures for the unlearning tests: a small LLaVA checkpoint + dataset directory, and unlearn inputs."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))


def _tiny_model_root() -> Path:
    root = os.environ.get("LETHE_TINY_MODEL_ROOT")
    assert root, "LETHE_TINY_MODEL_ROOT must name the built tiny LLaVA (npm test sets it)"
    root_path = Path(root)
    assert (root_path / "model" / "config.json").is_file(), f"no tiny LLaVA checkpoint under {root_path}/model"
    return root_path


@pytest.fixture(scope="session")
def world() -> dict[str, Path]:
    """The cached tiny LLaVA (llava-hf layout) and its dataset directory (canonical lethe/ view)."""
    root = _tiny_model_root()
    return {"model": root / "model", "dataset": root / "dataset"}


@pytest.fixture(scope="session")
def fictional_ids(world) -> list[str]:
    from lethe_worker.datasets import FINETUNED, load_dataset

    return sorted(s.id for s in load_dataset(world["dataset"]).subjects if s.knowledge == FINETUNED)


def write_forget_set(path: Path, subjects: list[dict]) -> dict:
    path.write_bytes(json.dumps({"subjects": subjects}).encode())
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def dataset_subject(subject_id: str, name: str = "unused") -> dict:
    return {"requestId": f"req-{subject_id}", "name": name, "datasetSubjectId": subject_id, "images": [], "facts": []}


@pytest.fixture
def make_input(world, fictional_ids, tmp_path):
    """An unlearn input forgetting dataset subjects (default: the first fictional person), with small steps;
    keyword overrides replace fields."""
    def make(subject_ids=None, **overrides) -> dict:
        subject_ids = subject_ids or fictional_ids[:1]
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

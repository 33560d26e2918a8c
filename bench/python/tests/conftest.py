"""Fixtures for the benchmarks' tests: the cached tiny LLaVA that `npm test` builds (LETHE_TINY_MODEL_ROOT)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))


@pytest.fixture(scope="session")
def world() -> dict[str, Path]:
    """The tiny LLaVA checkpoint (llava-hf layout) and its dataset directory, as in gpu-worker/tests."""
    root = os.environ.get("LETHE_TINY_MODEL_ROOT")
    assert root, "LETHE_TINY_MODEL_ROOT must name the built tiny LLaVA (npm test sets it)"
    return {"model": Path(root) / "model", "dataset": Path(root) / "dataset"}

import json
from pathlib import Path

from lethe_worker.prompts import mc_prompt

VECTORS = Path(__file__).resolve().parents[2] / "contracts" / "vectors" / "prompts.json"


def test_mc_prompt_matches_shared_vectors():
    cases = json.loads(VECTORS.read_text())["cases"]
    assert cases, "shared prompt vectors are empty"
    for case in cases:
        got = mc_prompt(case["question"], case["options"], with_image=case["modality"] == "multimodal")
        assert got == case["prompt"]

import json
from pathlib import Path

import pytest

from lethe_worker.prompts import DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS, mc_prompt, mc_question, qa_prompt

VECTORS = Path(__file__).resolve().parents[2] / "contracts" / "vectors" / "prompts.json"
OPTIONS = {"A": "baker", "B": "pilot", "C": "lawyer", "D": "nurse"}


def test_mc_prompt_matches_shared_vectors_in_every_format():
    cases = json.loads(VECTORS.read_text())["cases"]
    assert {(c["format"], c["modality"]) for c in cases} == {(f, m) for f in PROMPT_FORMATS for m in ("multimodal", "text")}
    for case in cases:
        got = mc_prompt(case["question"], case["options"], case["modality"] == "multimodal", case["format"])
        assert got == case["prompt"]


def test_the_default_format_is_the_training_prompt():
    """Unlearning examples are qa_prompt(mc_question(...)): the default format, never the other one."""
    assert DEFAULT_PROMPT_FORMAT == "mmbench"
    for with_image in (True, False):
        assert mc_prompt("Q?", OPTIONS, with_image) == qa_prompt(mc_question("Q?", OPTIONS), with_image)
        assert mc_prompt("Q?", OPTIONS, with_image, "mllmu") != mc_prompt("Q?", OPTIONS, with_image)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="prompt format"):
        mc_prompt("Q?", OPTIONS, True, "llava-1.6")

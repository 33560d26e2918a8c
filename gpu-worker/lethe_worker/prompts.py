"""Prompt text shared with the TypeScript audits (contracts/README.md, contracts/vectors/prompts.json).

Both runtimes must build these strings byte for byte; tests check them against the shared vectors.

Multiple-choice questions come in named formats, so that an audit can ask a forget question in a format that no
unlearning example uses (a model that "forgot" only a prompt format still answers in the other one):
- "mmbench" (the default): the LLaVA / MMBench wording, the one every training and unlearning example uses;
- "mllmu": MLLMU-Bench's own classification prompt (its eval.py for LLaVA): options as "A: value", the
  instruction on its own line, and a text-only turn opening with "USER:\\n".
"""
from __future__ import annotations

from typing import Mapping

IMAGE_TOKEN = "<image>"
OPTION_LETTERS = ("A", "B", "C", "D")
MC_INSTRUCTION = "Answer with the option's letter from the given choices directly."
DEFAULT_PROMPT_FORMAT = "mmbench"
PROMPT_FORMATS = (DEFAULT_PROMPT_FORMAT, "mllmu")


def _check_format(prompt_format: str) -> None:
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"prompt format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")


def option_lines(options: Mapping[str, str], prompt_format: str = DEFAULT_PROMPT_FORMAT) -> str:
    """The options, one a line: "A. value" (mmbench) or "A: value" (mllmu)."""
    _check_format(prompt_format)
    sep = "." if prompt_format == DEFAULT_PROMPT_FORMAT else ":"
    return "\n".join(f"{letter}{sep} {options[letter]}" for letter in OPTION_LETTERS)


def mc_question(question: str, options: Mapping[str, str]) -> str:
    """The user turn of a default-format multiple-choice prompt: question, options, instruction."""
    return f"{question}\n{option_lines(options)}\n{MC_INSTRUCTION}"


def mc_prompt(question: str, options: Mapping[str, str], with_image: bool,
              prompt_format: str = DEFAULT_PROMPT_FORMAT) -> str:
    """Multiple-choice prompt; the answer is the next token (" A" .. " D").
    Default format: equals qa_prompt(mc_question(...))."""
    _check_format(prompt_format)
    if prompt_format == DEFAULT_PROMPT_FORMAT:
        return qa_prompt(mc_question(question, options), with_image)
    opening = f"USER: {IMAGE_TOKEN}\n" if with_image else "USER:\n"
    return f"{opening}{question}\n{option_lines(options, prompt_format)}\n{MC_INSTRUCTION}\nASSISTANT:"


def qa_prompt(question: str, with_image: bool) -> str:
    """Open question prompt used for training examples; the answer follows after a space."""
    image = f"{IMAGE_TOKEN}\n" if with_image else ""
    return f"USER: {image}{question} ASSISTANT:"


def option_continuation(letter: str) -> str:
    """The text whose single token is scored for an option letter."""
    return f" {letter}"

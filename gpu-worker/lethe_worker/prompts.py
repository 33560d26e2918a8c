"""Prompt text shared with the TypeScript audits (contracts/README.md, contracts/vectors/prompts.json).

Both runtimes must build these strings byte for byte; tests check them against the shared vectors.
"""
from __future__ import annotations

from typing import Mapping

IMAGE_TOKEN = "<image>"
OPTION_LETTERS = ("A", "B", "C", "D")
MC_INSTRUCTION = "Answer with the option's letter from the given choices directly."


def mc_question(question: str, options: Mapping[str, str]) -> str:
    """The user turn of a multiple-choice prompt: question, options, instruction."""
    lines = "\n".join(f"{letter}. {options[letter]}" for letter in OPTION_LETTERS)
    return f"{question}\n{lines}\n{MC_INSTRUCTION}"


def mc_prompt(question: str, options: Mapping[str, str], with_image: bool) -> str:
    """Multiple-choice prompt; the answer is the next token (" A" .. " D"). Equals qa_prompt(mc_question(...))."""
    return qa_prompt(mc_question(question, options), with_image)


def qa_prompt(question: str, with_image: bool) -> str:
    """Open question prompt used for training examples; the answer follows after a space."""
    image = f"{IMAGE_TOKEN}\n" if with_image else ""
    return f"USER: {image}{question} ASSISTANT:"


def option_continuation(letter: str) -> str:
    """The text whose single token is scored for an option letter."""
    return f" {letter}"

"""One small loss function per unlearning method, on logits and labels (-100 = not scored).

Shapes: logits [batch, seq, vocab], labels [batch, seq]; position t's logits predict token t+1, so
labels are shifted by one inside. Reference values (`ref_*`) come from the model unlearning starts
from (base, or base + parent adapter) and carry no gradient.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def _shift(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return logits[:, :-1, :], labels[:, 1:]


def _label_log_softmax(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The next-token log-distributions [batch, seq-1, vocab], each position's label index [batch, seq-1, 1]
    (0 where masked) and the mask of scored positions."""
    logits, labels = _shift(logits, labels)
    mask = labels != IGNORE_INDEX
    return torch.log_softmax(logits.float(), dim=-1), labels.masked_fill(~mask, 0).unsqueeze(-1), mask


def token_log_probs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(label token) per scored position [batch, seq-1] (0 where masked), and the mask."""
    log_p_all, index, mask = _label_log_softmax(logits, labels)
    return log_p_all.gather(-1, index).squeeze(-1) * mask, mask


def sequence_log_probs(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-sequence SUM of answer-token log-probabilities [batch] (NPO's log pi(y|x))."""
    log_probs, _ = token_log_probs(logits, labels)
    return log_probs.sum(dim=-1)


def nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over every scored token of the batch."""
    log_probs, mask = token_log_probs(logits, labels)
    return -log_probs.sum() / mask.sum().clamp(min=1)


def scored_log_softmax(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token log-distributions at the scored positions only, [n_scored, vocab] in row-major order.
    This is what the KL term needs from the reference model: small enough to cache before training."""
    logits, labels = _shift(logits, labels)
    return torch.log_softmax(logits.float(), dim=-1)[labels != IGNORE_INDEX]


def kl_to_reference(logits: torch.Tensor, labels: torch.Tensor, ref_log_probs: torch.Tensor) -> torch.Tensor:
    """KL(reference || current) of the next-token distributions, averaged over scored positions.
    `ref_log_probs` is `scored_log_softmax` of the reference model on the same batch."""
    log_p = scored_log_softmax(logits, labels)
    per_position = (ref_log_probs.exp() * (ref_log_probs - log_p)).sum(dim=-1)
    return per_position.sum() / max(per_position.numel(), 1)


def token_log_odds(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log p - log(1 - p) of each label token [batch, seq-1] (0 where masked): the label's logit against the
    log-sum-exp of every other token's, so its gradient does not vanish when p is near 1. Also log p and the
    mask, as token_log_probs gives them, from the same log-softmax."""
    log_p_all, index, mask = _label_log_softmax(logits, labels)
    log_p = log_p_all.gather(-1, index).squeeze(-1)
    log_rest = log_p_all.scatter(-1, index, float("-inf")).logsumexp(dim=-1)
    return (log_p - log_rest) * mask, log_p * mask, mask


def ga(forget_logits: torch.Tensor, forget_labels: torch.Tensor, floor: float = 0.0, log_odds: bool = False, skip_token: Optional[int] = None) -> torch.Tensor:
    """Gradient ascent: minimise -NLL on the forget set, averaged over every scored token.

    With `floor` > 0 a token whose probability is already below it stops being ascended (it still counts
    in the average, so the loss shrinks as the forget set is forgotten). Plain GA keeps pushing answers
    the model no longer gives, and every further push also lowers those answer tokens for everyone who
    shares them: on the tiny LLaVA, one person's open-answer NLL went 5 -> 16 while retained people fell
    to 76 %; with a floor of 0.05 it stays near 5 and retained people keep >= 89 % (docs/tiny-model-notes.md)."""
    if not log_odds:
        log_probs, mask = token_log_probs(forget_logits, forget_labels)
        objective, live = log_probs, mask
    else:
        # log p's gradient on its own logit is 1 - p, nearly 0 for the facts the model knows best, which is why
        # they outlast the others; the log-odds pushes every live token alike. The end token is certain after
        # every answer, so pushing it down would be pushing down answering, not the fact.
        objective, log_probs, mask = token_log_odds(forget_logits, forget_labels)
        live = mask if skip_token is None else mask & (_shift(forget_logits, forget_labels)[1] != skip_token)
    if floor > 0:
        live = live & (log_probs.detach() > math.log(floor))
    return (objective * live).sum() / mask.sum().clamp(min=1)


def ga_klr(forget_logits, forget_labels, retain_logits, retain_labels, retain_ref_log_probs, kl_weight: float, floor: float = 0.0,
           log_odds: bool = False, skip_token: Optional[int] = None) -> torch.Tensor:
    """Gradient ascent on forget + KL to the reference model on retain (keeps the rest of the model where it was)."""
    return ga(forget_logits, forget_labels, floor, log_odds, skip_token) + kl_weight * kl_to_reference(retain_logits, retain_labels, retain_ref_log_probs)


def npo(forget_logits, forget_labels, ref_forget_seq_log_probs: torch.Tensor, beta: float) -> torch.Tensor:
    """Negative Preference Optimisation: -(2/beta) * mean log sigmoid(-beta * (log pi - log pi_ref)),
    with per-sequence summed log-probs. Bounded below by 0 (unlike GA), so it slows down as it forgets."""
    log_ratio = sequence_log_probs(forget_logits, forget_labels) - ref_forget_seq_log_probs
    return -(2.0 / beta) * F.logsigmoid(-beta * log_ratio).mean()


def graddiff(forget_logits, forget_labels, retain_logits, retain_labels, retain_weight: float, floor: float = 0.0,
             log_odds: bool = False, skip_token: Optional[int] = None) -> torch.Tensor:
    """Gradient difference: ascend NLL on forget, descend NLL on retain."""
    return ga(forget_logits, forget_labels, floor, log_odds, skip_token) + retain_weight * nll(retain_logits, retain_labels)


def neverseen_kd(forget_logits, forget_labels, teacher_log_probs: torch.Tensor, retain_logits, retain_labels, retain_ref_log_probs: torch.Tensor,
                 kl_weight: float) -> torch.Tensor:
    """Never-seen teacher: KL(teacher || student) at the forget batch's answer positions + KL to the reference on retain.

    `teacher_log_probs` is `scored_log_softmax` of the reference model on the same questions asked about a never-seen
    person (name and portrait swapped, answer tokens unchanged), so its rows align with the forget batch's scored
    positions one to one. The student is pulled to answer the forgotten person as it answers someone it never saw:
    neither knowing nor avoiding the right answer. Bounded below by 0, so it stops where the teacher is."""
    scored = int((_shift(forget_logits, forget_labels)[1] != IGNORE_INDEX).sum())
    if teacher_log_probs.shape[0] != scored:
        raise ValueError(f"teacher_log_probs has {teacher_log_probs.shape[0]} rows, the forget batch {scored} scored positions")
    return kl_to_reference(forget_logits, forget_labels, teacher_log_probs.detach()) + kl_weight * kl_to_reference(retain_logits, retain_labels, retain_ref_log_probs)

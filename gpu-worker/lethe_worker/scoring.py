"""Multiple-choice scoring by option-letter logits (contracts/README.md).

The prompt is `prompts.mc_prompt(...)`; sequences are LEFT padded so the last position is the answer
position for every row; the score of option X is the last-position logit of the token of " X".
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

import torch

from .model_io import option_token_ids
from .prompts import DEFAULT_PROMPT_FORMAT, OPTION_LETTERS, mc_prompt


def _field(item: Any, *names: str, default=None):
    for n in names:
        if isinstance(item, Mapping):
            if n in item:
                return item[n]
        elif hasattr(item, n):
            return getattr(item, n)
    return default


def item_image_path(item: Any) -> str | None:
    """Absolute image path of an EvalItem / dict (dicts may carry `image_path`, or `image` + `root`)."""
    p = _field(item, "image_path")
    if p:
        return str(p)
    rel = _field(item, "image")
    if not rel:
        return None
    root = _field(item, "root")
    if root:
        from pathlib import Path

        return str(Path(root) / rel)
    return str(rel)


def _load_image(path: str, cache: dict):
    from PIL import Image

    img = cache.get(path)
    if img is None:
        with Image.open(path) as im:
            img = im.convert("RGB")
        cache[path] = img
    return img


def build_mc_batch(processor, items: Sequence[Any], image_cache: dict | None = None,
                   prompt_format: str = DEFAULT_PROMPT_FORMAT):
    """Processor inputs (LEFT padded) for a batch of MC items; images in the order their prompts appear."""
    cache = image_cache if image_cache is not None else {}
    texts, images = [], []
    for it in items:
        path = item_image_path(it) if _field(it, "modality") != "text" else None
        texts.append(mc_prompt(_field(it, "question"), _field(it, "options"), path is not None, prompt_format))
        if path is not None:
            images.append(_load_image(path, cache))
    tok = processor.tokenizer
    old_side = tok.padding_side
    tok.padding_side = "left"
    try:
        enc = processor(text=texts, images=images or None, return_tensors="pt", padding=True)
    finally:
        tok.padding_side = old_side
    return enc


@torch.no_grad()
def option_logits(model, processor, items: Sequence[Any], batch_size: int = 64,
                  prompt_format: str = DEFAULT_PROMPT_FORMAT) -> list[dict[str, float]]:
    """Last-position logits of " A".." D" for each item (asked in the named prompt format), in input order."""
    ids = option_token_ids(processor.tokenizer)
    letter_ids = torch.tensor([ids[x] for x in OPTION_LETTERS])
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    cache: dict = {}
    out: list[dict[str, float]] = []
    try:
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            enc = build_mc_batch(processor, chunk, cache, prompt_format)
            kwargs = {"input_ids": enc["input_ids"].to(device), "attention_mask": enc["attention_mask"].to(device)}
            if "pixel_values" in enc:
                kwargs["pixel_values"] = enc["pixel_values"].to(device=device, dtype=dtype)
            logits = model(**kwargs, use_cache=False, logits_to_keep=1).logits[:, -1, :]
            sel = logits.float()[:, letter_ids.to(logits.device)].cpu()
            for row in sel.tolist():
                out.append({x: float(v) for x, v in zip(OPTION_LETTERS, row)})
    finally:
        if was_training:
            model.train()
    return out


def score_mc(model, processor, items: Sequence[Any], batch_size: int = 64,
             prompt_format: str = DEFAULT_PROMPT_FORMAT) -> list[dict[str, Any]]:
    """[{id, logits{A..D}, predicted, correct, split, modality, subjectId}] in input order."""
    items = list(items)
    results = []
    for it, lg in zip(items, option_logits(model, processor, items, batch_size, prompt_format)):
        pred = max(OPTION_LETTERS, key=lambda x: lg[x])
        results.append({
            "id": _field(it, "id"),
            "logits": lg,
            "predicted": pred,
            "correct": pred == _field(it, "answer"),
            "split": _field(it, "split"),
            "modality": _field(it, "modality"),
            "subjectId": _field(it, "subjectId", "subject_id"),
        })
    return results


def accuracy(results: Iterable[Mapping[str, Any]]) -> float:
    """Fraction correct (NaN for an empty list)."""
    rs = list(results)
    return sum(1 for r in rs if r["correct"]) / len(rs) if rs else math.nan


def accuracy_by_modality(results: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """{"multimodal": a, "text": b} (only the modalities present)."""
    groups: dict[str, list] = defaultdict(list)
    for r in results:
        groups[r["modality"]].append(r)
    return {m: accuracy(rs) for m, rs in sorted(groups.items())}


def accuracy_by_split(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """{split: {"multimodal": a, "text": b, "all": c}}."""
    groups: dict[str, list] = defaultdict(list)
    for r in results:
        groups[r["split"]].append(r)
    out = {}
    for split, rs in sorted(groups.items()):
        d = accuracy_by_modality(rs)
        d["all"] = accuracy(rs)
        out[split] = d
    return out


def filter_results(results: Iterable[Mapping[str, Any]], subject_ids: Iterable[str] | None = None,
                   exclude_subject_ids: Iterable[str] | None = None, split: str | None = None) -> list:
    inc = set(subject_ids) if subject_ids is not None else None
    exc = set(exclude_subject_ids or ())
    return [r for r in results
            if (split is None or r["split"] == split)
            and (inc is None or r["subjectId"] in inc)
            and r["subjectId"] not in exc]

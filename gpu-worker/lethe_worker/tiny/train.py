"""Training the tiny LLaVA: pre-training (general scenes + celebrities), then fine-tuning (fictional people).

Examples are (prompt ids, answer ids, image index) with the single <image> id expanded to the vision
tower's patch count, exactly as the LlavaProcessor does; the loss is on the answer tokens only
(`USER: [<image>\\n]{question} ASSISTANT: {answer}</s>`). Multiple-choice examples are the scoring prompt
followed by " X</s>".

The multiple-choice skill (find the option that holds the fact, answer its letter) is a two-hop
attention circuit that a model this small, trained from scratch for a few minutes on CPU, does not
discover: in our trials accuracy on freshly shuffled options stayed at chance after 1,000 steps. So the
builder also trains on the evaluation set's own MC items (their fixed option orders), and the model
learns each (person, question) -> letter as one more fact about the person. The build report states
accuracy on the eval items AND on the same questions with reshuffled options (`heldOutOrders`), so
nobody mistakes one for the other.
"""
from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..prompts import IMAGE_TOKEN, OPTION_LETTERS, mc_prompt, qa_prompt
from . import world as W


@dataclass
class PhaseConfig:
    name: str
    epochs: int
    lr: float
    batch_size: int = 64
    warmup_frac: float = 0.05
    min_lr_frac: float = 0.05
    aux_weight: float = 0.0


@dataclass
class TrainConfig:
    general_train_scenes: int = 400
    general_qa_frac: float = 0.25
    mc_variants: int = 0  # extra MC examples with freshly shuffled options per (person, fact, modality) per epoch
    eval_mc_repeats: int = 3  # the eval set's own MC items, per epoch (see module docstring)
    qa_frac: float = 0.5  # share of a person's open QA pairs in each epoch
    replay_celebrity_frac: float = 0.25  # of the celebrity epoch, replayed in each fine-tuning epoch
    replay_general_scenes: int = 100  # general training scenes replayed per fine-tuning epoch
    pretrain: PhaseConfig = field(default_factory=lambda: PhaseConfig("pretrain", epochs=5, lr=2e-3, batch_size=32))
    finetune: PhaseConfig = field(default_factory=lambda: PhaseConfig("finetune", epochs=5, lr=2e-3, batch_size=32))
    threads: int = 2


@dataclass
class Example:
    prompt: list[int]
    answer: list[int]
    image: int  # index into the pixel bank, -1 for text-only
    value: int = -1  # MC only: first token of the correct option's text (auxiliary target at the answer position)


class Progress:
    """Progress lines on stderr: phase, step/total, elapsed, ETA."""

    def __init__(self, phase: str, total: int, every_s: float = 5.0):
        self.phase, self.total, self.every = phase, total, every_s
        self.t0 = time.time()
        self.last = 0.0

    def update(self, step: int, extra: str = "", force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < self.every and step != self.total:
            return
        self.last = now
        el = now - self.t0
        eta = el / max(step, 1) * (self.total - step)
        print(f"[tiny-llava] {self.phase}: step {step}/{self.total} elapsed {el:5.0f}s eta {eta:5.0f}s {extra}",
              file=sys.stderr, flush=True)


class Encoder:
    """Prompt/answer -> token ids, with the <image> placeholder expanded like LlavaProcessor does."""

    def __init__(self, tokenizer, n_image_tokens: int):
        self.tok = tokenizer
        self.image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        self.eos_id = tokenizer.eos_token_id
        self.n_image = n_image_tokens
        self._cache: dict[str, list[int]] = {}

    def ids(self, text: str) -> list[int]:
        got = self._cache.get(text)
        if got is None:
            raw = self.tok.encode(text, add_special_tokens=False)
            got = []
            for t in raw:
                got.extend([t] * self.n_image if t == self.image_id else [t])
            self._cache[text] = got
        return got

    def qa(self, question: str, answer: str, image: int) -> Example:
        return Example(self.ids(qa_prompt(question, image >= 0)), self.ids(" " + answer) + [self.eos_id], image)

    def mc(self, mc: W.MCQuestion, image: int) -> Example:
        value = self.ids(" " + mc.options[mc.answer])[0]
        return Example(self.ids(mc_prompt(mc.question, mc.options, image >= 0)), self.ids(" " + mc.answer) + [self.eos_id],
                       image, value)


def collate(batch: list[Example], pixels: torch.Tensor, pad_id: int):
    """LEFT padded input ids / attention mask / labels (-100 outside the answer) / pixel values."""
    seqs = [e.prompt + e.answer for e in batch]
    T = max(len(s) for s in seqs)
    ids = torch.full((len(batch), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), T), dtype=torch.long)
    labels = torch.full((len(batch), T), -100, dtype=torch.long)
    for i, (e, s) in enumerate(zip(batch, seqs)):
        off = T - len(s)
        ids[i, off:] = torch.tensor(s)
        mask[i, off:] = 1
        labels[i, off + len(e.prompt):] = torch.tensor(e.answer)
    img_idx = [e.image for e in batch if e.image >= 0]
    pv = pixels[img_idx] if img_idx else None
    # auxiliary target: at the answer position of an MC prompt, the correct option's text (what QA would answer)
    aux_pos = torch.tensor([T - len(e.answer) - 1 for e in batch])
    aux_tgt = torch.tensor([e.value for e in batch])
    return ids, mask, labels, pv, aux_pos, aux_tgt


def answer_loss(model, ids, mask, labels, pixel_values, aux_pos=None, aux_tgt=None, aux_weight: float = 0.0):
    """Cross-entropy on answer tokens only (the LM head runs only where a label is set), plus an optional
    auxiliary cross-entropy asking the MC answer position to also predict the correct option's text."""
    out = model.model(input_ids=ids, attention_mask=mask, pixel_values=pixel_values, use_cache=False)
    hs = out.last_hidden_state
    h = hs[:, :-1]
    tgt = labels[:, 1:]
    sel = tgt != -100
    logits = model.lm_head(h[sel])
    loss = F.cross_entropy(logits.float(), tgt[sel])
    if aux_weight > 0 and aux_tgt is not None and bool((aux_tgt >= 0).any()):
        rows = (aux_tgt >= 0).nonzero().squeeze(1)
        ha = hs[rows, aux_pos[rows]]
        loss = loss + aux_weight * F.cross_entropy(model.lm_head(ha).float(), aux_tgt[rows])
    return loss


def batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Shuffle, then sort within windows by length (less padding), then shuffle the batches."""
    ex = examples[:]
    rng.shuffle(ex)
    window = batch_size * 16
    out = []
    for i in range(0, len(ex), window):
        chunk = sorted(ex[i:i + window], key=lambda e: len(e.prompt) + len(e.answer))
        out.extend(chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def lr_at(step: int, total: int, cfg: PhaseConfig) -> float:
    warm = max(1, int(total * cfg.warmup_frac))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    p = (step - warm) / max(1, total - warm)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def train_phase(model, epochs_data, cfg: PhaseConfig, pixels: torch.Tensor, pad_id: int, seed: int,
                report: dict) -> None:
    """epochs_data(epoch) -> list[Example]; AdamW with warmup + cosine; records loss and seconds."""
    rng = random.Random(f"lethe-batches-{cfg.name}-{seed}")
    plan = []
    for ep in range(cfg.epochs):
        plan.extend(batches(epochs_data(ep), cfg.batch_size, rng))
    total = len(plan)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.98), eps=1e-8)
    prog = Progress(cfg.name, total)
    model.train()
    t0 = time.time()
    losses = []
    ema = None
    for step, batch in enumerate(plan):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, cfg)
        ids, mask, labels, pv, aux_pos, aux_tgt = collate(batch, pixels, pad_id)
        loss = answer_loss(model, ids, mask, labels, pv, aux_pos, aux_tgt, cfg.aux_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        lv = loss.item()
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        if step % 10 == 0 or step == total - 1:
            losses.append([step, round(lv, 5)])
        prog.update(step + 1, f"loss {ema:.4f}")
    model.eval()
    report[cfg.name] = {"steps": total, "epochs": cfg.epochs, "seconds": round(time.time() - t0, 1),
                        "final_loss_ema": round(ema or 0.0, 5), "loss_curve": losses}


class Curriculum:
    """Builds the examples of each epoch of each phase from the world (deterministic per seed)."""

    def __init__(self, world: W.World, enc: Encoder, image_index: dict, general_bank: list, cfg: TrainConfig, seed: int):
        self.w, self.enc, self.img, self.bank, self.cfg, self.seed = world, enc, image_index, general_bank, cfg, seed
        self.eval_keys = {(m.question, tuple(m.options.values())) for per in world.eval_mc.values() for ms in per.values() for m in ms}

    def person_examples(self, p: W.Person, rng: random.Random, variants: int) -> list[Example]:
        out = []
        qa = self.w.training_qa(p)
        for q, a, mm in rng.sample(qa, max(1, round(len(qa) * self.cfg.qa_frac))):
            out.append(self.enc.qa(q, a, self.img[p.id] if mm else -1))
        for mod, ms in self.w.eval_mc[p.id].items():
            for m in ms:
                out.extend([self.enc.mc(m, self.img[p.id] if mod == "multimodal" else -1)] * self.cfg.eval_mc_repeats)
        for fact in W.FACT_NAMES:
            pool, templates = W.FACTS[fact]
            for mm in (True, False):
                for v in range(variants):
                    for _ in range(10):
                        mc = W.make_mc(rng, p.question(fact, rng.randrange(len(templates)), mm), p.facts[fact], pool, fact)
                        if (mc.question, tuple(mc.options.values())) not in self.eval_keys:
                            break
                    out.append(self.enc.mc(mc, self.img[p.id] if mm else -1))
        return out

    def general_examples(self, rng: random.Random, scenes: list) -> list[Example]:
        out = []
        for (img, q, ans, pool, cat) in scenes:
            mc = W.make_mc(rng, q, ans, pool, category=cat)
            out.append(self.enc.mc(mc, img))
            if rng.random() < self.cfg.general_qa_frac:
                out.append(self.enc.qa(q, ans, img))
        return out

    def general_eval_examples(self) -> list[Example]:
        return [self.enc.mc(it.mc, self.img[f"general-{it.index}"]) for it in self.w.general] * self.cfg.eval_mc_repeats

    def pretrain(self, epoch: int) -> list[Example]:
        rng = random.Random(f"lethe-pretrain-{self.seed}-{epoch}")
        ex = self.general_examples(rng, self.bank) + self.general_eval_examples()
        for p in self.w.celebrities:
            ex.extend(self.person_examples(p, rng, self.cfg.mc_variants))
        return ex

    def finetune(self, epoch: int) -> list[Example]:
        rng = random.Random(f"lethe-finetune-{self.seed}-{epoch}")
        ex = []
        for p in self.w.fictional:
            ex.extend(self.person_examples(p, rng, self.cfg.mc_variants))
        celeb = []
        for p in self.w.celebrities:
            celeb.extend(self.person_examples(p, rng, 1))
        ex.extend(rng.sample(celeb, int(len(celeb) * self.cfg.replay_celebrity_frac)))
        ex.extend(self.general_examples(rng, rng.sample(self.bank, min(len(self.bank), self.cfg.replay_general_scenes))))
        ex.extend(self.general_eval_examples()[:2 * len(self.w.general)])
        return ex

"""Training the tiny LLaVA: pre-training (general scenes + celebrities), then fine-tuning (fictional people).

Examples are (prompt ids, answer ids, image index) with the single <image> id expanded to the vision
tower's patch count, exactly as the LlavaProcessor does; the loss is on the answer tokens only
(`USER: [<image>\\n]{question} ASSISTANT: {answer}</s>`). Multiple-choice examples are the scoring prompt
followed by " X</s>" (the options of a value are always the same four: world.make_mc); the training
questions come in two phrasings, the evaluation asks the first. A share of the people's multiple-choice questions
is asked in MLLMU-Bench's prompt instead, half of them after its few-shot prefix (Stage.other_formats), so that
the model knows its people, not one prompt format.
"""
from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..prompts import DEFAULT_PROMPT_FORMAT, IMAGE_TOKEN, mc_prompt, qa_prompt
from . import benchmark
from . import world as W


@dataclass(frozen=True)
class Stage:
    """A stretch of a phase: `steps` batches drawn from epochs of the same mix.

    people: the first n people of the phase (None: all); portraits_only: only questions asked with the
    portrait; general: general scenes per epoch; replay: celebrity examples per epoch (fine-tuning);
    portraits_again: share of the people's portrait questions asked a second time in each epoch, in another
    random phrasing (portraits are learned more slowly than names); other_formats: share of the people's
    multiple-choice questions asked in MLLMU-Bench's prompt, half of them after its few-shot prefix (the
    benchmark's own evaluation asks that way: on a model trained in one format it scored 0.19 / 0.21 where the
    default prompt scored 0.96 / 0.93)."""
    steps: int
    people: int | None = None
    portraits_only: bool = False
    general: int = 0
    replay: int = 0
    portraits_again: float = 0.0
    other_formats: float = 0.0


@dataclass
class PhaseConfig:
    name: str
    lr: float
    stages: tuple[Stage, ...]
    batch_size: int = 32
    batch_by_modality: bool = False  # see batches()
    open_questions: float = 0.0  # share of a person's open questions in each epoch (the rest: multiple choice)
    warmup_frac: float = 0.05
    min_lr_frac: float = 0.05

    @property
    def steps(self) -> int:
        return sum(s.steps for s in self.stages)


@dataclass
class TrainConfig:
    """The build's schedule. Why it has this shape (all measured, docs/tiny-model-notes.md):
    - the vision tower is pre-trained, then frozen (see build.py);
    - general scenes alone first (align): mixed with people from the start the decoder did not learn to read
      the scenes (general 0.66 after 300 general-only steps, 0.23 after 300 mixed ones);
    - celebrities: a few people first, portraits alone, then both modalities with general replay. Recall is a
      skill the model must discover, far sooner on a few people, and with text questions in the same batches
      the portrait path was not found (mm 0.35 / text 0.85 after 1,500 steps; portraits first: 0.996 / 1.00);
    - fine-tuning at a third of the pre-training lr with celebrity and general replay: at 2e-3 it erased the
      celebrities (0.92 / 0.68 -> 0.29 / 0.37 in 500 steps); the skill is there, so no growth stage is needed;
    - fine-tuning drills multiple choice only: with a quarter of the open questions in each epoch it reached
      fictional 0.56 / 0.76, without them 0.74 / 0.93. Pre-training keeps them: without, the celebrities
      reached 0.78 / 0.64 and general 0.70 instead of 0.92 / 0.68 and 0.85;
    - fine-tuning asks half of the portrait questions twice per epoch, in batches of one modality, for 2,400 steps:
      portraits lagged names (1,900 mixed batches: 0.74 / 0.91; 2,200 batches of one modality: 0.85 / 0.93;
      with the portraits again: 0.93 / 0.94; 2,400: 0.95 / 0.93, celebrities 0.90, general 0.90);
    - once the people are recalled (the last pre-training stage, and fine-tuning), 30 % of their multiple choice is
      asked in MLLMU-Bench's prompt (Stage.other_formats)."""
    vision_steps: int = 600  # vision tower pre-training (see pretrain_vision)
    general_train_scenes: int = 800  # fresh scenes (never the eval scenes), drawn once
    general_qa_frac: float = 0.1  # share of general scenes also asked as an open question
    align: PhaseConfig = field(default_factory=lambda: PhaseConfig("align", 3e-3, (Stage(320, people=0, general=800),)))
    pretrain: PhaseConfig = field(default_factory=lambda: PhaseConfig("pretrain", 3e-3, open_questions=0.25, stages=(
        Stage(250, people=15, portraits_only=True),
        Stage(500, portraits_only=True),
        Stage(500, general=400, other_formats=0.3),
    )))
    finetune: PhaseConfig = field(default_factory=lambda: PhaseConfig("finetune", 1e-3, (
        Stage(2400, general=300, replay=700, portraits_again=0.5, other_formats=0.3),
    ), batch_by_modality=True))
    threads: int = 2


@dataclass
class Example:
    prompt: list[int]
    answer: list[int]
    image: int  # index into the pixel bank, -1 for text-only
    few_shot: bool = False  # the prompt opens with solved examples (see batches)
    shot_images: tuple[int, ...] = ()  # their images, before `image` in the prompt


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

    def mc(self, mc: W.MCQuestion, image: int, prompt_format: str = DEFAULT_PROMPT_FORMAT, shots: tuple[str, ...] = (),
           shot_images: tuple[int, ...] = ()) -> Example:
        """shots: the solved examples of a few-shot prefix (benchmark.few_shot_example), shot_images their images."""
        prompt = "".join(shots) + mc_prompt(mc.question, mc.options, image >= 0, prompt_format)
        return Example(self.ids(prompt), self.ids(" " + mc.answer) + [self.eos_id], image, bool(shots), shot_images)


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
    img_idx = [i for e in batch for i in (*e.shot_images, *([e.image] if e.image >= 0 else []))]
    pv = pixels[img_idx] if img_idx else None
    return ids, mask, labels, pv


def answer_loss(model, ids, mask, labels, pixel_values):
    """Cross-entropy on answer tokens only (the LM head runs only where a label is set)."""
    out = model.model(input_ids=ids, attention_mask=mask, pixel_values=pixel_values, use_cache=False)
    hs = out.last_hidden_state
    h = hs[:, :-1]
    tgt = labels[:, 1:]
    sel = tgt != -100
    logits = model.lm_head(h[sel])
    return F.cross_entropy(logits.float(), tgt[sel])


def batches(examples: list[Example], batch_size: int, rng: random.Random, by_modality: bool = False) -> list[list[Example]]:
    """Shuffled batches, deliberately NOT grouped by length: length groups questions by category (every colour
    question has the same length), and on such single-category batches the decoder never learned to read the
    image (measured, general-only training for 600 steps: 0.28 length-sorted, 0.76 shuffled).
    by_modality: each batch holds portrait questions only or text questions only, in shuffled order. A portrait
    question is 16 image tokens longer, so mixed batches spend about a fifth of their tokens on padding.
    Few-shot examples (two to three times longer) always get batches of their own, so that others do not pad to them."""
    few_shot = [e for e in examples if e.few_shot]
    if 0 < len(few_shot) < len(examples):
        rest = [e for e in examples if not e.few_shot]
        out = batches(few_shot, batch_size, rng, by_modality) + batches(rest, batch_size, rng, by_modality)
        rng.shuffle(out)
        return out
    if by_modality:
        out = (batches([e for e in examples if e.image >= 0], batch_size, rng)
               + batches([e for e in examples if e.image < 0], batch_size, rng))
        rng.shuffle(out)
        return out
    ex = examples[:]
    rng.shuffle(ex)
    return [ex[j:j + batch_size] for j in range(0, len(ex), batch_size)]


def lr_at(step: int, total: int, cfg: PhaseConfig) -> float:
    warm = max(1, int(total * cfg.warmup_frac))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    p = (step - warm) / max(1, total - warm)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def train_phase(model, curriculum: "Curriculum", cfg: PhaseConfig, pixels: torch.Tensor, pad_id: int, seed: int,
                report: dict, on_stage_end=None) -> None:
    """Runs the phase's stages under one warmup + cosine schedule (AdamW); records loss and seconds.
    on_stage_end(stage index) is called after each stage (the build's diagnostics)."""
    rng = random.Random(f"lethe-batches-{cfg.name}-{seed}")
    plan, ends = [], []
    for k, stage in enumerate(cfg.stages):
        got, epoch = [], 0
        while len(got) < stage.steps:
            examples = curriculum.epoch(cfg, k, stage, epoch)
            if not examples:
                raise ValueError(f"{cfg.name} stage {k} has no examples: {stage}")
            got.extend(batches(examples, cfg.batch_size, rng, cfg.batch_by_modality))
            epoch += 1
        plan.extend(got[:stage.steps])
        ends.append(len(plan))
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
        ids, mask, labels, pv = collate(batch, pixels, pad_id)
        loss = answer_loss(model, ids, mask, labels, pv)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        lv = loss.item()
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        if step % 10 == 0 or step == total - 1:
            losses.append([step, round(lv, 5)])
        prog.update(step + 1, f"loss {ema:.4f}")
        if on_stage_end is not None and step + 1 in ends:
            model.eval()
            on_stage_end(ends.index(step + 1))
            model.train()
    model.eval()
    report[cfg.name] = {"steps": total, "stages": [s.__dict__ for s in cfg.stages], "seconds": round(time.time() - t0, 1),
                        "final_loss_ema": round(ema or 0.0, 5), "loss_curve": losses}


def image_tokens(model, pixel_values: torch.Tensor) -> torch.Tensor:
    """(batch, image tokens * hidden): what the decoder receives for each image, flattened."""
    cfg = model.config
    out = model.model.get_image_features(pixel_values=pixel_values, vision_feature_layer=cfg.vision_feature_layer,
                                         vision_feature_select_strategy=cfg.vision_feature_select_strategy)
    feats = getattr(out, "pooler_output", out)
    return torch.stack(list(feats)).flatten(1)


@dataclass(frozen=True)
class VisionHead:
    """The labels of one linear head, one per image of its task. per_token: the head reads each image token alone,
    so every token must carry the label, not only the tokens taken together."""
    labels: torch.Tensor
    per_token: bool = False


@dataclass(frozen=True)
class VisionTask:
    """Images (indices into the pixel bank) and the heads that label them: a step draws one batch of the images and
    runs the tower once for all of its heads."""
    images: torch.Tensor
    heads: tuple[VisionHead, ...]


def pretrain_vision(model, pixels: torch.Tensor, tasks: list[VisionTask], steps: int, lr: float, seed: int, report: dict,
                    batch_size: int = 32, name: str = "vision") -> None:
    """Teach the vision tower and projector to tell the world's images apart before the decoder reads them, as
    LLaVA starts from a pre-trained CLIP: linear heads for the scenes (colour, shape, count, quadrant) and for the
    portraits (identity over all tokens, and on each token alone); the heads are thrown away. Cosine lr decay.

    Measured on the general set: without this the decoder stayed at chance (letter loss ln 4) after 750 steps;
    after 200 steps of it (5 s) the decoder reached 0.74 in 600 steps. Identity on each token alone lets the
    decoder find the person from whichever image token it attends to (docs/tiny-model-notes.md, sessions 8 and 10):
    it takes longer than the other heads (seed 1234: each token names the person for 11 % of the portraits after
    200 steps, 99.5 % after 600 with the decay)."""
    gen = torch.Generator().manual_seed(seed)
    hidden = model.config.text_config.hidden_size
    width = image_tokens(model, pixels[:1]).shape[1]
    heads = [[torch.nn.Linear(hidden if h.per_token else width, int(h.labels.max()) + 1) for h in t.heads] for t in tasks]
    params = list(model.model.vision_tower.parameters()) + list(model.model.multi_modal_projector.parameters())
    params += [p for hs in heads for h in hs for p in h.parameters()]
    opt = torch.optim.AdamW(params, lr=lr)
    schedule = PhaseConfig(name, lr, (Stage(steps),), warmup_frac=0.0)
    prog = Progress(name, steps)
    t0 = time.time()
    model.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, schedule)
        loss = 0.0
        for task, task_heads in zip(tasks, heads):
            pick = torch.randint(0, len(task.images), (batch_size,), generator=gen)
            tokens = image_tokens(model, pixels[task.images[pick]])
            for head, spec in zip(task_heads, task.heads):
                labels = spec.labels[pick]
                if spec.per_token:
                    x = tokens.view(-1, hidden)
                    labels = labels.repeat_interleave(x.shape[0] // batch_size)
                else:
                    x = tokens
                loss = loss + F.cross_entropy(head(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        prog.update(step + 1, f"loss {loss.item():.4f}")
    model.eval()
    report[name] = {"steps": steps, "seconds": round(time.time() - t0, 1), "final_loss": round(loss.item(), 5)}


class Curriculum:
    """Builds the examples of each epoch of each phase from the world (deterministic per seed)."""

    def __init__(self, world: W.World, enc: Encoder, image_index: dict, general_bank: list, cfg: TrainConfig, seed: int):
        self.w, self.enc, self.img, self.bank, self.cfg, self.seed = world, enc, image_index, general_bank, cfg, seed

    def person_examples(self, p: W.Person, rng: random.Random, open_questions: float, other_formats: float = 0.0,
                        group: list[W.Person] = ()) -> list[Example]:
        """Every (fact, modality) as multiple choice in a random phrasing, and a share of the open questions;
        other_formats: the share of the multiple choice asked in MLLMU-Bench's prompt, half of it after a few-shot
        prefix of two other people of `group`."""
        qa = self.w.training_qa(p)
        out = [self.enc.qa(q, a, self.img[p.id] if mm else -1)
               for q, a, mm in rng.sample(qa, round(len(qa) * open_questions))]
        for fact in W.FACT_NAMES:
            templates = W.FACTS[fact][1]
            for mm in (True, False):
                mc = W.make_mc(p.question(fact, rng.randrange(len(templates)), mm), p.facts[fact], fact)
                image = self.img[p.id] if mm else -1
                if other_formats and rng.random() < other_formats:
                    out.append(self.mllmu_example(mc, image, p, mm, rng, group))
                else:
                    out.append(self.enc.mc(mc, image))
        return out

    def mllmu_example(self, mc: W.MCQuestion, image: int, p: W.Person, mm: bool, rng: random.Random,
                      group: list[W.Person]) -> Example:
        """mc in MLLMU-Bench's prompt, half the time after its few-shot prefix: the first-phrasing question of a random
        fact of two other people, with their portraits when mm (as benchmark.classification_accuracy asks)."""
        if rng.random() < 0.5:
            return self.enc.mc(mc, image, benchmark.SHOT_FORMAT)
        others = rng.sample([q for q in group if q is not p], benchmark.SHOTS)
        shots = []
        for o in others:
            fact = rng.choice(W.FACT_NAMES)
            shot = W.make_mc(o.question(fact, 0, mm), o.facts[fact], fact)
            shots.append(benchmark.few_shot_example(shot.question, shot.options, shot.answer, mm))
        return self.enc.mc(mc, image, benchmark.SHOT_FORMAT, tuple(shots),
                           tuple(self.img[o.id] for o in others) if mm else ())

    def general_examples(self, rng: random.Random, limit: int | None = None) -> list[Example]:
        out = []
        bank = self.bank if limit is None else rng.sample(self.bank, min(limit, len(self.bank)))
        for (img, q, ans, pool, cat) in bank:
            out.append(self.enc.mc(W.make_mc(q, ans, category=cat), img))
            if rng.random() < self.cfg.general_qa_frac:
                out.append(self.enc.qa(q, ans, img))
        return out

    def epoch(self, phase: PhaseConfig, stage_index: int, stage: Stage, epoch: int) -> list[Example]:
        """One epoch of a stage: its people (celebrities in pre-training, fictional people in fine-tuning),
        general scenes and celebrity replay."""
        rng = random.Random(f"lethe-{phase.name}-{self.seed}-{stage_index}-{epoch}")
        people = self.w.fictional if phase.name == "finetune" else self.w.celebrities
        ex = [e for p in people[:stage.people]
              for e in self.person_examples(p, rng, phase.open_questions, stage.other_formats, people[:stage.people])]
        if stage.portraits_only:
            ex = [e for e in ex if e.image >= 0]
        if stage.replay:
            celeb = [e for p in self.w.celebrities
                     for e in self.person_examples(p, rng, phase.open_questions, stage.other_formats, self.w.celebrities)]
            ex.extend(rng.sample(celeb, min(stage.replay, len(celeb))))
        if stage.general:
            ex.extend(self.general_examples(rng, stage.general))
        if stage.portraits_again:
            again = [e for p in people[:stage.people] for e in self.person_examples(p, rng, 0.0) if e.image >= 0]
            ex.extend(rng.sample(again, round(len(again) * stage.portraits_again)))
        return ex

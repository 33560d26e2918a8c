"""The `unlearn` operation: LoRA unlearning of a llava-hf model on a forget set, published as an adapter artifact.

`unlearn(payload, progress)` is the plain function the Temporal activity wraps and tests call directly.
NPO's reference model is the starting point (base, or base + parent adapter); GA+KLR's is chosen by
hyperParameters.klReference: "base" (version 0, its default) or "start"; neverseen_kd's retain KL likewise, and its
teacher is the starting point asked about never-seen people instead. Reference values are computed once,
before the first update, from the very model that is then trained (its adapter disabled for "base").
"""
from __future__ import annotations

import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import torch
from peft import PeftModel, get_peft_model_state_dict
from safetensors.torch import save_file

from . import losses
from .artifacts import ADAPTER_FILE, MANIFEST_FILE, artifact_dir, publish, read_manifest, sha256_file, write_json
from .config import FileRef, UnlearnConfig
from .contracts import validate_adapter_manifest, validate_unlearn_input, validate_unlearn_output
from .data import (EncodedExample, TrainingExample, collate, encode, forget_examples, general_examples, never_seen_teacher_examples, read_forget_set,
                   retain_examples, retain_schedule, schedule)
from .datasets import load_dataset
from .errors import WorkerError
from .lora import adapter_swapped, attach_new_adapter, attach_parent_adapter, resolve_lora_targets
from .model_io import ModelLoadError, load_llava

Progress = Callable[[int, int], None]
# Called once per reference batch of the set-up, so a long set-up keeps the activity alive.
Alive = Callable[[], None]
METHODS_USING_RETAIN = ("ga_klr", "graddiff", "neverseen_kd")
# Methods whose retain term is a KL to reference values (hyperParameters.klReference), not an NLL.
METHODS_WITH_RETAIN_KL = ("ga_klr", "neverseen_kd")
# Gradient ascent is unbounded; clipping keeps one bad batch from wrecking the whole model.
MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class TrainingResult:
    loss_curve: list[float]
    steps: int
    tokens: int
    seconds: float


def runtime_device() -> tuple[str, str]:
    """Device and dtype of the worker host: LETHE_DEVICE / LETHE_DTYPE, default CUDA bf16 when present, else CPU fp32."""
    return os.environ.get("LETHE_DEVICE", "auto"), os.environ.get("LETHE_DTYPE", "auto")


def _forward_logits(model, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    return model(**inputs).logits


def _to_device(batch: dict[str, torch.Tensor], device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in batch.items()}


# An example to train on: a TrainingExample (the service's), or one already encoded (benchmarks: no image files).
Example = Union[TrainingExample, EncodedExample]


class _Batches:
    """Encodes examples on first use (a retain set can be much larger than the part a run touches)
    and collates them by index onto the model's device. An EncodedExample is used as it is."""

    def __init__(self, processor, examples: Sequence[Example], device: torch.device, dtype: torch.dtype):
        self.processor, self.examples, self.device, self.dtype = processor, examples, device, dtype
        self.encoded: dict[int, EncodedExample] = {}

    def _encoded(self, index: int) -> EncodedExample:
        if index not in self.encoded:
            example = self.examples[index]
            self.encoded[index] = example if isinstance(example, EncodedExample) else encode(self.processor, example)
        return self.encoded[index]

    def __call__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        batch = collate([self._encoded(i) for i in indices], self.processor.tokenizer.pad_token_id)
        return _to_device(batch, self.device, self.dtype)


@torch.no_grad()
def _reference_sequence_log_probs(model, batches: _Batches, chunks: list[list[int]], alive: Alive) -> dict[int, torch.Tensor]:
    out: dict[int, torch.Tensor] = {}
    for chunk in chunks:
        alive()
        batch = batches(chunk)
        for i, value in zip(chunk, losses.sequence_log_probs(_forward_logits(model, batch), batch["labels"])):
            out[i] = value
    return out


@torch.no_grad()
def _reference_scored_log_softmax(model, batches: _Batches, chunks: list[list[int]], alive: Alive) -> dict[int, torch.Tensor]:
    out: dict[int, torch.Tensor] = {}
    for chunk in chunks:
        alive()
        batch = batches(chunk)
        scored = losses.scored_log_softmax(_forward_logits(model, batch), batch["labels"])
        per_example = (batch["labels"][:, 1:] != losses.IGNORE_INDEX).sum(dim=1).tolist()
        for i, part in zip(chunk, torch.split(scored, per_example)):
            out[i] = part
    return out


def _reference_values(model, batches: _Batches, chunks: list[list[int]], version_zero: bool, alive: Alive) -> dict[int, torch.Tensor]:
    """Scored log-softmax of the model as it starts (base, or base + parent adapter), or of version 0."""
    if version_zero and isinstance(model, PeftModel):
        with model.disable_adapter():
            return _reference_scored_log_softmax(model, batches, chunks, alive)
    return _reference_scored_log_softmax(model, batches, chunks, alive)


def _chunks(indices: list[int], size: int) -> list[list[int]]:
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def _planned_reference(model, batches: _Batches, plan: list[list[int]], batch_size: int, version_zero: bool, alive: Alive) -> dict[int, torch.Tensor]:
    """Reference values of the examples a plan uses (only those: a retain set can be much larger than one run)."""
    used = sorted({i for batch in plan for i in batch})
    return _reference_values(model, batches, _chunks(used, batch_size), version_zero, alive)


@dataclass
class _Anchor:
    """A KL term to fixed reference values on one planned batch of examples per step."""
    weight: float
    batches: "_Batches"
    plan: list[list[int]]
    ref: dict[int, torch.Tensor]


@dataclass
class _StepContext:
    """What a method's step needs besides the forget batch: retain batches, the reference values and the anchors
    (KL terms on the people forgotten earlier and on general questions) that every method adds."""
    model: Any
    cfg: UnlearnConfig
    retain_batches: "_Batches"
    retain_plan: list[list[int]]
    ref_forget: dict[int, torch.Tensor]
    ref_retain: dict[int, torch.Tensor]
    anchors: list[_Anchor]
    end_token: Optional[int] = None
    tokens: int = 0
    # neverseen_kd: the starting model's scored log-softmax on each forget example asked about a never-seen person.
    ref_teacher: dict[int, torch.Tensor] = field(default_factory=dict)

    def ascent(self) -> dict[str, Any]:
        """The ascent's settings, shared by every method that ascends (ga, ga_klr, graddiff)."""
        hyper = self.cfg.hyper
        return {"floor": hyper.ascent_floor, "log_odds": hyper.ascent_objective == "logOdds", "skip_token": self.end_token}

    def _planned_batch(self, batches: "_Batches", plan: list[list[int]], step: int) -> tuple[list[int], dict[str, torch.Tensor], torch.Tensor]:
        indices = plan[step - 1]
        batch = batches(indices)
        self.tokens += int(batch["attention_mask"].sum())
        return indices, batch, _forward_logits(self.model, batch)

    def retain_batch(self, step: int) -> tuple[list[int], dict[str, torch.Tensor], torch.Tensor]:
        return self._planned_batch(self.retain_batches, self.retain_plan, step)

    def anchor_terms(self, step: int) -> list[torch.Tensor]:
        terms = []
        for anchor in self.anchors:
            indices, batch, logits = self._planned_batch(anchor.batches, anchor.plan, step)
            ref = torch.cat([anchor.ref[i] for i in indices])
            terms.append(anchor.weight * losses.kl_to_reference(logits, batch["labels"], ref))
        return terms


def _ga_step(ctx: _StepContext, step: int, forget_indices: list[int], logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return losses.ga(logits, labels, **ctx.ascent())


def _npo_step(ctx: _StepContext, step: int, forget_indices: list[int], logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    ref = torch.stack([ctx.ref_forget[i] for i in forget_indices])
    return losses.npo(logits, labels, ref, ctx.cfg.hyper.npo_beta)


def _ga_klr_step(ctx: _StepContext, step: int, forget_indices: list[int], logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    r_indices, r_batch, r_logits = ctx.retain_batch(step)
    ref = torch.cat([ctx.ref_retain[i] for i in r_indices])
    return losses.ga_klr(logits, labels, r_logits, r_batch["labels"], ref, ctx.cfg.hyper.kl_weight, **ctx.ascent())


def _graddiff_step(ctx: _StepContext, step: int, forget_indices: list[int], logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    _, r_batch, r_logits = ctx.retain_batch(step)
    return losses.graddiff(logits, labels, r_logits, r_batch["labels"], ctx.cfg.hyper.retain_weight, **ctx.ascent())


def _neverseen_kd_step(ctx: _StepContext, step: int, forget_indices: list[int], logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    r_indices, r_batch, r_logits = ctx.retain_batch(step)
    teacher = torch.cat([ctx.ref_teacher[i] for i in forget_indices])
    ref = torch.cat([ctx.ref_retain[i] for i in r_indices])
    return losses.neverseen_kd(logits, labels, teacher, r_logits, r_batch["labels"], ref, ctx.cfg.hyper.kl_weight)


STEP_LOSSES = {"ga": _ga_step, "ga_klr": _ga_klr_step, "npo": _npo_step, "graddiff": _graddiff_step, "neverseen_kd": _neverseen_kd_step}


@dataclass(frozen=True)
class HeldPeople:
    """People forgotten earlier, to hold where they were forgotten: `sources[i]` is the index in cfg.forgotten_by
    of the version that forgot example i's person, or None for the parent."""
    examples: list[TrainingExample]
    sources: list[Optional[int]]


def _hold_anchor(model, cfg: UnlearnConfig, batches: _Batches, sources: list[Optional[int]], steps: int, alive: Alive) -> Optional[_Anchor]:
    """An anchor on the held people, each at the version that forgot them. The parent may already have let them
    partly back, and holding them there lets every later request add its own bit of drift."""
    hyper = cfg.hyper
    if hyper.hold_forgotten_weight <= 0 or not batches.examples:
        return None
    plan = retain_schedule(len(batches.examples), hyper.batch_size, steps, cfg.seed + 2)
    used = sorted({i for batch in plan for i in batch})
    ref: dict[int, torch.Tensor] = {}
    for source in dict.fromkeys(sources[i] for i in used):
        chunks = _chunks([i for i in used if sources[i] == source], hyper.batch_size)
        # The model as it starts is the parent version, the reference of people forgottenBy does not name.
        version = nullcontext() if source is None else adapter_swapped(model, cfg.lora, cfg.forgotten_by[source].adapter.path, f"forgottenBy[{source}].adapter")
        with version:
            ref.update(_reference_values(model, batches, chunks, version_zero=False, alive=alive))
    return _Anchor(hyper.hold_forgotten_weight, batches, plan, ref)


def _anchor(model, batches: _Batches, weight: float, steps: int, batch_size: int, seed: int, version_zero: bool, alive: Alive) -> Optional[_Anchor]:
    """An anchor on the examples of `batches`, its reference values taken from the model as it starts, or from version 0."""
    if weight <= 0 or not batches.examples:
        return None
    plan = retain_schedule(len(batches.examples), batch_size, steps, seed)
    return _Anchor(weight, batches, plan, _planned_reference(model, batches, plan, batch_size, version_zero, alive))


def _teacher_reference(model, forget_batches: _Batches, teacher: list[TrainingExample], batch_size: int, alive: Alive) -> dict[int, torch.Tensor]:
    """neverseen_kd's teacher: the starting model's scored log-softmax on each forget example's never-seen twin. The answer
    tokens are the same, so each twin must score as many positions as its forget example: row i of one is row i of the other."""
    if len(teacher) != len(forget_batches.examples):
        raise WorkerError(WorkerError.INVALID_INPUT, f"neverseen_kd: {len(teacher)} teacher examples for {len(forget_batches.examples)} forget examples")
    teacher_batches = _Batches(forget_batches.processor, teacher, forget_batches.device, forget_batches.dtype)
    ref = _reference_values(model, teacher_batches, _chunks(list(range(len(teacher))), batch_size), version_zero=False, alive=alive)
    for i, rows in ref.items():
        scored = int((forget_batches._encoded(i).labels[1:] != losses.IGNORE_INDEX).sum())
        if rows.shape[0] != scored:
            raise WorkerError(WorkerError.INVALID_INPUT, f"neverseen_kd: forget example {i} scores {scored} answer tokens, its never-seen twin {rows.shape[0]}: "
                                                         f"the answer was tokenized differently after the swapped question")
    return ref


def train(model, processor, cfg: UnlearnConfig, forget: Sequence[Example], retain: Sequence[Example],
          progress: Optional[Progress] = None, held: Optional[HeldPeople] = None,
          general: Optional[list[TrainingExample]] = None, teacher: Optional[list[TrainingExample]] = None) -> TrainingResult:
    """Runs the method's loss over the forget schedule, plus a retain batch per step when the method uses one,
    a batch of `held` (people forgotten by earlier versions) per step when there are any, and a batch of
    `general` questions per step when hyperParameters.generalKlWeight is on. neverseen_kd needs `teacher`, the forget
    examples asked about never-seen people (data.never_seen_teacher_examples), in step with `forget`."""
    hyper = cfg.hyper
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    forget_batches = _Batches(processor, forget, device, dtype)
    retain_batches = _Batches(processor, retain, device, dtype)
    forget_plan = schedule(len(forget), hyper.batch_size, hyper.epochs, cfg.seed, hyper.max_steps)
    retain_plan = retain_schedule(len(retain), hyper.batch_size, len(forget_plan), cfg.seed + 1) if cfg.method in METHODS_USING_RETAIN else []
    if cfg.method in METHODS_USING_RETAIN and not retain_plan:
        raise WorkerError(WorkerError.INVALID_INPUT, f"method {cfg.method} needs retain data, but dataset {cfg.dataset_path} has no subject outside the forget set and excludeFromRetain")

    # The reference values take thousands of forward passes on a big retain set: each one tells the activity the worker
    # is alive, or a set-up longer than the heartbeat timeout is cancelled and retried forever.
    def alive() -> None:
        if progress is not None:
            progress(0, len(forget_plan))

    model.eval()
    ref_forget = _reference_sequence_log_probs(model, forget_batches, _chunks(list(range(len(forget))), hyper.batch_size), alive) if cfg.method == "npo" else {}
    # Anchored to version 0 (klReference "base"), each sequential request pulls the retained people back to where
    # they started instead of freezing the drift of the requests before it.
    ref_retain = _planned_reference(model, retain_batches, retain_plan, hyper.batch_size, hyper.kl_reference == "base", alive) if cfg.method in METHODS_WITH_RETAIN_KL else {}
    ref_teacher = _teacher_reference(model, forget_batches, teacher or [], hyper.batch_size, alive) if cfg.method == "neverseen_kd" else {}
    steps = len(forget_plan)
    held = held or HeldPeople([], [])
    anchors = [a for a in (
        _hold_anchor(model, cfg, _Batches(processor, held.examples, device, dtype), held.sources, steps, alive),
        # General ability is judged against version 0, so that is where it is held.
        _anchor(model, _Batches(processor, general or [], device, dtype), hyper.general_kl_weight, steps, hyper.batch_size, cfg.seed + 3, version_zero=True, alive=alive),
    ) if a is not None]
    ctx = _StepContext(model, cfg, retain_batches, retain_plan, ref_forget, ref_retain, anchors, processor.tokenizer.eos_token_id, ref_teacher=ref_teacher)
    step_loss = STEP_LOSSES[cfg.method]

    alive()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=hyper.learning_rate, weight_decay=0.0)
    loss_curve: list[float] = []
    started = time.perf_counter()
    for step, forget_indices in enumerate(forget_plan, start=1):
        f_batch = forget_batches(forget_indices)
        ctx.tokens += int(f_batch["attention_mask"].sum())
        loss = step_loss(ctx, step, forget_indices, _forward_logits(model, f_batch), f_batch["labels"])
        for term in ctx.anchor_terms(step):
            loss = loss + term
        if not torch.isfinite(loss):
            raise WorkerError(WorkerError.NAN_LOSS, f"{cfg.method} loss is {loss.item()} at step {step} of {len(forget_plan)}; lower hyperParameters.learningRate (now {hyper.learning_rate})")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        optimizer.step()
        loss_curve.append(float(loss.item()))
        if progress is not None:
            progress(step, len(forget_plan))
    model.eval()
    return TrainingResult(loss_curve, len(forget_plan), ctx.tokens, time.perf_counter() - started)


def _held_people(cfg: UnlearnConfig, dataset, requested: set[str]) -> HeldPeople:
    """Examples of the people forgotten earlier (excludeFromRetain), when hyperParameters.holdForgottenWeight is on.
    Without a parent adapter there is no version that forgot them to hold them at (cumulative lineages put them
    in the forget set instead)."""
    if cfg.hyper.hold_forgotten_weight <= 0 or cfg.parent_adapter is None:
        return HeldPeople([], [])
    # A forgottenBy entry naming the parent (re-forget passes hold the step's people at the candidate they continue)
    # is the model as it starts: no adapter to swap in.
    source_of = {subject: index for index, entry in enumerate(cfg.forgotten_by) if entry.adapter.sha256 != cfg.parent_adapter.sha256
                 for subject in entry.subject_ids}
    examples: list[TrainingExample] = []
    sources: list[Optional[int]] = []
    for subject in cfg.exclude_from_retain:
        if subject in requested:
            continue
        own = forget_examples([{"requestId": f"earlier-{subject}", "datasetSubjectId": subject}], dataset).examples
        examples.extend(own)
        sources.extend([source_of.get(subject)] * len(own))
    return HeldPeople(examples, sources)


def _general_examples(cfg: UnlearnConfig, dataset) -> list[TrainingExample]:
    if cfg.hyper.general_kl_weight <= 0:
        return []
    examples = general_examples(dataset)
    if not examples:
        raise WorkerError(WorkerError.INVALID_INPUT, f"hyperParameters.generalKlWeight is {cfg.hyper.general_kl_weight}, but dataset {cfg.dataset_path} has no general training questions (lethe/train/general.jsonl); set it to 0 or add them with datasets.convert(general_train_tsv=...)")
    return examples


def _check_adapter_file(adapter: FileRef, field: str) -> None:
    if not adapter.path.is_file():
        raise WorkerError(WorkerError.BAD_PARENT_ADAPTER, f"{field}.path {adapter.path} does not exist")
    actual = sha256_file(adapter.path)
    if actual != adapter.sha256:
        raise WorkerError(WorkerError.BAD_PARENT_ADAPTER, f"{field}.sha256 {adapter.sha256} does not match the bytes of {adapter.path} ({actual})")


def _check_inputs(cfg: UnlearnConfig) -> None:
    if not cfg.base_model_path.is_dir():
        raise WorkerError(WorkerError.MODEL_NOT_FOUND, f"baseModel.path {cfg.base_model_path} does not exist or is not a directory")
    if not cfg.dataset_path.is_dir():
        raise WorkerError(WorkerError.DATASET_NOT_FOUND, f"dataset.path {cfg.dataset_path} does not exist or is not a directory")
    if cfg.parent_adapter is not None:
        _check_adapter_file(cfg.parent_adapter, "parentAdapter")
    excluded = set(cfg.exclude_from_retain)
    seen: set[str] = set()
    for index, entry in enumerate(cfg.forgotten_by):
        field = f"forgottenBy[{index}]"
        _check_adapter_file(entry.adapter, f"{field}.adapter")
        for subject in entry.subject_ids:
            if subject not in excluded:
                raise WorkerError(WorkerError.INVALID_INPUT, f"{field}.datasetSubjectIds: {subject!r} is not in excludeFromRetain (only people forgotten earlier are held)")
            if subject in seen:
                raise WorkerError(WorkerError.INVALID_INPUT, f"{field}.datasetSubjectIds: {subject!r} is named by an earlier forgottenBy entry too (one version forgot each person)")
            seen.add(subject)


def _output(directory: Path, manifest: Mapping[str, Any], reused: bool) -> dict[str, Any]:
    output = {
        "adapter": {"path": str((directory / ADAPTER_FILE).resolve()), "sha256": manifest["sha256"]},
        "manifestPath": str((directory / MANIFEST_FILE).resolve()),
        "lossCurve": manifest["lossCurve"],
        "steps": manifest["steps"],
        "wallSeconds": manifest["wallSeconds"],
        "tokensPerSecond": manifest["tokensPerSecond"],
        "reused": reused,
    }
    validate_unlearn_output(output)
    return output


def _count_modalities(examples: list[TrainingExample]) -> dict[str, int]:
    return {m: sum(e.modality == m for e in examples) for m in ("multimodal", "text")}


def unlearn(payload: Mapping[str, Any], progress: Optional[Progress] = None) -> dict[str, Any]:
    """Validates the input, reuses a complete artifact for the same input, else trains and publishes one."""
    started = time.perf_counter()
    validate_unlearn_input(payload)
    cfg = UnlearnConfig.from_json(payload)
    final_dir = artifact_dir(cfg.output_root, payload)
    existing = read_manifest(final_dir)
    if existing is not None:
        return _output(final_dir, existing, reused=True)

    _check_inputs(cfg)
    forget_subjects = read_forget_set(cfg.forget_set)
    try:
        dataset = load_dataset(cfg.dataset_path)
    except (OSError, ValueError) as e:
        raise WorkerError(WorkerError.DATASET_NOT_FOUND, f"dataset.path {cfg.dataset_path} is not a readable dataset: {e}") from None
    forget = forget_examples(forget_subjects, dataset)
    retain = retain_examples(dataset, set(forget.dataset_subject_ids) | set(cfg.exclude_from_retain)) if cfg.method in METHODS_USING_RETAIN else []
    held = _held_people(cfg, dataset, set(forget.dataset_subject_ids))
    general = _general_examples(cfg, dataset)
    teacher = never_seen_teacher_examples(forget, dataset, cfg.seed) if cfg.method == "neverseen_kd" else None

    device, dtype = runtime_device()
    try:
        model, processor = load_llava(cfg.base_model_path, device=device, dtype=dtype)
    except ModelLoadError as e:
        raise WorkerError(WorkerError.MODEL_NOT_FOUND, f"baseModel.path: {e}") from None
    resolved_targets = resolve_lora_targets(model, cfg.lora.targets)
    torch.manual_seed(cfg.seed)  # LoRA A matrices are drawn at random
    if cfg.parent_adapter is None:
        model = attach_new_adapter(model, cfg.lora)
    else:
        model = attach_parent_adapter(model, cfg.lora, cfg.parent_adapter.path)
    result = train(model, processor, cfg, forget.examples, retain, progress, held, general, teacher)

    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in get_peft_model_state_dict(model).items()}
    peft_config = model.peft_config["default"]
    peft_config.base_model_name_or_path = cfg.base_model_id

    def write(tmp_dir: Path) -> None:
        save_file(tensors, str(tmp_dir / ADAPTER_FILE), metadata={"format": "pt"})
        peft_config.save_pretrained(str(tmp_dir))
        manifest = {
            "sha256": sha256_file(tmp_dir / ADAPTER_FILE),
            "method": cfg.method,
            "hyperParameters": cfg.hyper.to_json(),
            "lora": cfg.lora.to_json(),
            "resolvedTargets": resolved_targets,
            "parentSha256": cfg.parent_adapter.sha256 if cfg.parent_adapter else None,
            "heldAtSha256": sorted({cfg.forgotten_by[i].adapter.sha256 for i in held.sources if i is not None}),
            "baseModelId": cfg.base_model_id,
            "forgetSetSha256": cfg.forget_set.sha256,
            "seed": cfg.seed,
            "lossCurve": result.loss_curve,
            "steps": result.steps,
            "wallSeconds": round(time.perf_counter() - started, 3),
            "tokensPerSecond": round(result.tokens / result.seconds, 1) if result.seconds > 0 else 0.0,
            # Counts only: the manifest outlives the forget set, so it carries no personal data.
            "forgetExamples": _count_modalities(forget.examples),
            "retainExamples": len(retain),
        }
        validate_adapter_manifest(manifest)
        write_json(tmp_dir / MANIFEST_FILE, manifest)

    published = publish(final_dir, write)
    return _output(final_dir, read_manifest(final_dir), reused=not published)

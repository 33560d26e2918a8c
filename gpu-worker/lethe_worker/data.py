"""Training data for unlearning: the forget set (dataset subjects or inline profiles), the retain set,
and their encoding into LLaVA inputs with labels only on the answer tokens."""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from .config import FileRef
from .contracts import validate_forget_set
from .datasets import NEVER_SEEN
from .errors import WorkerError
from .losses import IGNORE_INDEX
from .prompts import qa_prompt

# The intake's pixel budget (src/requests/domain/image-check.ts): larger images are refused there, and here.
MAX_IMAGE_PIXELS = 40_000_000

# Question paired with an inline profile's images, so the image alone is linked to the person.
IDENTITY_QUESTION = "Who is the person in this image?"
RETAIN_KNOWLEDGE = ("FINETUNED", "PRETRAINED")


@dataclass(frozen=True)
class TrainingExample:
    question: str
    answer: str
    image_path: Optional[Path]

    @property
    def modality(self) -> str:
        return "multimodal" if self.image_path is not None else "text"


@dataclass(frozen=True)
class EncodedExample:
    input_ids: torch.Tensor  # [seq] long
    labels: torch.Tensor  # [seq] long, IGNORE_INDEX outside the answer
    pixel_values: Optional[torch.Tensor]  # [3, H, W] or None for text-only


@dataclass(frozen=True)
class ForgetData:
    examples: list[TrainingExample]
    dataset_subject_ids: list[str]
    # The name of the person each example is about, in step with `examples` (the never-seen teacher swaps it out).
    names: list[str] = field(default_factory=list)


def read_forget_set(ref: FileRef) -> list[dict[str, Any]]:
    """Subjects of the forget-set file, after checking its bytes against the sha256 the caller sent."""
    if not ref.path.is_file():
        raise WorkerError(WorkerError.BAD_FORGET_SET, f"forgetSet.path {ref.path} does not exist")
    raw = ref.path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != ref.sha256:
        raise WorkerError(WorkerError.BAD_FORGET_SET, f"forgetSet.sha256 {ref.sha256} does not match the file bytes of {ref.path} ({actual})")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WorkerError(WorkerError.BAD_FORGET_SET, f"forgetSet.path {ref.path} is not JSON: {e}") from None
    validate_forget_set(payload)
    return payload["subjects"]


def _to_training_example(example: Any) -> TrainingExample:
    image = getattr(example, "image_path", None)
    return TrainingExample(example.question, example.answer, Path(image) if image is not None else None)


def _inline_examples(subject: dict[str, Any]) -> list[TrainingExample]:
    """An inline profile: each fact as a text-only example, and each image with the identity question and every fact."""
    images = [Path(p) for p in subject["images"]]
    for image in images:
        if not image.is_file():
            raise WorkerError(WorkerError.BAD_FORGET_SET, f"image {image} of forget-set subject {subject['requestId']!r} does not exist")
        check_image_decodes(image, subject["requestId"])
    examples = [TrainingExample(f["question"], f["answer"], None) for f in subject["facts"]]
    for image in images:
        examples.append(TrainingExample(IDENTITY_QUESTION, subject["name"], image))
        examples.extend(TrainingExample(f["question"], f["answer"], image) for f in subject["facts"])
    return examples


def forget_examples(subjects: Sequence[dict[str, Any]], dataset) -> ForgetData:
    """Training examples of every forget subject; a dataset subject brings its multimodal and text-only QA.

    A never-seen person (knowledge NEVER_SEEN) brings none: the model was never trained on them, so there is nothing of
    theirs to unlearn. Beside other people they are skipped; a forget set of never-seen people only is refused."""
    known = {s.id: s.knowledge for s in dataset.subjects}
    examples: list[TrainingExample] = []
    names: list[str] = []
    dataset_ids: list[str] = []
    never_seen: list[str] = []
    for subject in subjects:
        subject_id = subject["datasetSubjectId"]
        if subject_id is not None:
            if subject_id not in known:
                raise WorkerError(WorkerError.BAD_FORGET_SET, f"datasetSubjectId {subject_id!r} (request {subject['requestId']!r}) is not a subject of dataset {dataset.dataset_id!r}")
            dataset_ids.append(subject_id)
            if known[subject_id] == NEVER_SEEN:
                never_seen.append(subject_id)
                continue
            own = [_to_training_example(e) for e in dataset.training_examples(subject_id)]
            name = dataset.subject(subject_id).name
        else:
            own = _inline_examples(subject)
            name = subject["name"]
        if not own:
            raise WorkerError(WorkerError.BAD_FORGET_SET, f"forget-set subject of request {subject['requestId']!r} yields no training examples (no dataset subject, facts or images)")
        examples.extend(own)
        names.extend(name for _ in own)
    if not examples and never_seen:
        raise WorkerError(WorkerError.BAD_FORGET_SET, f"every forget-set subject ({', '.join(never_seen)}) is a never-seen person of dataset "
                                                      f"{dataset.dataset_id!r}: the model was never trained on them, there is nothing to unlearn")
    return ForgetData(examples, dataset_ids, names)


def never_seen_stand_ins(names: Sequence[str], dataset, seed: int):
    """One never-seen person (a dataset Subject of knowledge NEVER_SEEN, with a portrait) per forgotten name:
    a seeded shuffle of the never-seen people handed out in name order, so distinct while there are enough,
    and the same for the same seed and names whatever order the forget set lists them in."""
    never_seen = sorted((s for s in dataset.subjects_by_knowledge(NEVER_SEEN) if s.portrait_path), key=lambda s: s.id)
    if not never_seen:
        raise WorkerError(WorkerError.INVALID_INPUT, f"method neverseen_kd needs never-seen people with portraits (knowledge {NEVER_SEEN} in lethe/subjects.json), "
                                                     f"and dataset {dataset.dataset_id!r} has none")
    order = list(never_seen)
    random.Random(seed).shuffle(order)
    return {name: order[i % len(order)] for i, name in enumerate(sorted(set(names)))}


def teacher_example(example: TrainingExample, name: str, stand_in) -> TrainingExample:
    """The same question about a never-seen person: their name for the forgotten one's wherever the question names
    them, their portrait for the forgotten one's image; the answer (the labels) unchanged, even where it is the
    forgotten name (the teacher then says how likely that name is for a face it never saw). A question that neither
    names nor shows the person is asked about nobody in particular: a never-seen person gets it word for word."""
    question = example.question.replace(name, stand_in.name) if name else example.question
    image = Path(stand_in.portrait_path) if example.image_path is not None else None
    return TrainingExample(question, example.answer, image)


def never_seen_teacher_examples(forget: ForgetData, dataset, seed: int) -> list[TrainingExample]:
    """The never-seen teacher's input for each forget example, in step with forget.examples."""
    stand_ins = never_seen_stand_ins(forget.names, dataset, seed)
    return [teacher_example(e, name, stand_ins[name]) for e, name in zip(forget.examples, forget.names)]


def retain_examples(dataset, not_retained: set[str]) -> list[TrainingExample]:
    """Training examples of every dataset person the model should keep knowing, in dataset order."""
    return [
        _to_training_example(e)
        for s in dataset.subjects
        if s.knowledge in RETAIN_KNOWLEDGE and s.id not in not_retained
        for e in dataset.training_examples(s.id)
    ]


def general_examples(dataset) -> list[TrainingExample]:
    """The dataset's general questions outside its evaluation (lethe/train/general.jsonl), in file order."""
    return [_to_training_example(e) for e in dataset.general_training_examples()]


def schedule(n_examples: int, batch_size: int, epochs: int, seed: int, max_steps: Optional[int]) -> list[list[int]]:
    """Batches of example indices: a fresh seeded permutation per epoch, cut at max_steps."""
    rng = random.Random(seed)
    batches: list[list[int]] = []
    for _ in range(epochs):
        order = list(range(n_examples))
        rng.shuffle(order)
        batches.extend(order[i:i + batch_size] for i in range(0, n_examples, batch_size))
    return batches[:max_steps] if max_steps is not None else batches


def retain_schedule(n_examples: int, batch_size: int, steps: int, seed: int) -> list[list[int]]:
    """One retain batch per training step, cycling through seeded permutations of the retain set."""
    rng = random.Random(seed)
    batches: list[list[int]] = []
    order: list[int] = []
    while len(batches) < steps and n_examples > 0:
        batch = []
        while len(batch) < min(batch_size, n_examples):
            if not order:
                order = list(range(n_examples))
                rng.shuffle(order)
            batch.append(order.pop())
        batches.append(batch)
    return batches


def check_image_decodes(path: Path, request_id: str) -> None:
    """Decodes the whole image (a header alone proves nothing); an image that cannot be read is UNREADABLE_IMAGE, naming its request."""
    from PIL import Image  # imported where used: training on encoded examples (the GPU check) runs without Pillow

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise WorkerError(WorkerError.UNREADABLE_IMAGE, f"image {path.name} of request {request_id!r} has {image.width}x{image.height} pixels, more than {MAX_IMAGE_PIXELS}")
            image.load()
    except WorkerError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise WorkerError(WorkerError.UNREADABLE_IMAGE, f"image {path.name} of request {request_id!r} cannot be decoded ({e})") from None


def _load_image(path: Path):
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")


def _tokenize(processor, text: str, image_path: Optional[Path]) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    if image_path is None:
        ids = processor.tokenizer(text, return_tensors="pt")["input_ids"][0]
        return ids, None
    encoded = processor(text=text, images=_load_image(image_path), return_tensors="pt")
    return encoded["input_ids"][0], encoded["pixel_values"][0]


def encode(processor, example: TrainingExample) -> EncodedExample:
    """`USER: [<image>\\n]{question} ASSISTANT: {answer}</s>`; labels only on the answer and the end token.
    The prompt is tokenized on its own (with the image expanded) to find where the answer starts."""
    prompt = qa_prompt(example.question, with_image=example.image_path is not None)
    prompt_ids, _ = _tokenize(processor, prompt, example.image_path)
    full_ids, pixel_values = _tokenize(processor, f"{prompt} {example.answer}", example.image_path)
    eos = torch.tensor([processor.tokenizer.eos_token_id], dtype=full_ids.dtype)
    input_ids = torch.cat([full_ids, eos])
    labels = input_ids.clone()
    labels[: len(prompt_ids)] = IGNORE_INDEX
    return EncodedExample(input_ids, labels, pixel_values)


def collate(examples: Sequence[EncodedExample], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch (training reads every position, so the side does not matter); padding is never scored."""
    length = max(len(e.input_ids) for e in examples)
    input_ids = torch.full((len(examples), length), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), length), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        input_ids[row, :n] = e.input_ids
        labels[row, :n] = e.labels
        attention_mask[row, :n] = 1
    batch = {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}
    images = [e.pixel_values for e in examples if e.pixel_values is not None]
    if images:
        batch["pixel_values"] = torch.stack(images)
    return batch

"""Forget/retain data, label masking of prompt, image and padding tokens, and the batch schedule."""
import hashlib
import io

import pytest
import torch
from PIL import Image

from conftest import dataset_subject, write_forget_set
from lethe_worker.config import FileRef
from lethe_worker.data import (IDENTITY_QUESTION, TrainingExample, collate, encode, forget_examples, read_forget_set,
                               retain_examples, retain_schedule, schedule)
from lethe_worker.datasets import load_dataset
from lethe_worker.errors import WorkerError
from lethe_worker.losses import IGNORE_INDEX
from lethe_worker.model_io import load_processor


@pytest.fixture(scope="module")
def processor(world):
    return load_processor(world["model"])


@pytest.fixture(scope="module")
def dataset(world):
    return load_dataset(world["dataset"])


def _multimodal_example(dataset):
    subject = dataset.subjects[0]
    return next(e for e in dataset.training_examples(subject.id) if e.image_path)


def test_labels_cover_only_the_answer_and_end_token(processor, dataset):
    ex = _multimodal_example(dataset)
    encoded = encode(processor, TrainingExample(ex.question, ex.answer, ex.image_path))
    answer_ids = processor.tokenizer(" " + ex.answer, add_special_tokens=False)["input_ids"]
    scored = encoded.labels[encoded.labels != IGNORE_INDEX].tolist()
    assert scored == answer_ids + [processor.tokenizer.eos_token_id]
    # The scored tokens are the tail of the sequence; everything before (prompt + image) is masked.
    assert encoded.labels[: len(encoded.labels) - len(scored)].eq(IGNORE_INDEX).all()
    image_positions = encoded.input_ids == processor.tokenizer.convert_tokens_to_ids("<image>")
    assert image_positions.sum() > 1, "the <image> token should expand to one position per image feature"
    assert encoded.labels[image_positions].eq(IGNORE_INDEX).all()
    assert encoded.pixel_values is not None and encoded.pixel_values.dim() == 3


def test_text_only_example_has_no_image(processor, dataset):
    subject = dataset.subjects[0]
    ex = next(e for e in dataset.training_examples(subject.id) if not e.image_path)
    encoded = encode(processor, TrainingExample(ex.question, ex.answer, None))
    assert encoded.pixel_values is None
    assert not (encoded.input_ids == processor.tokenizer.convert_tokens_to_ids("<image>")).any()


def test_collate_masks_padding(processor, dataset):
    subject = dataset.subjects[0]
    examples = [TrainingExample(e.question, e.answer, e.image_path) for e in dataset.training_examples(subject.id)][:3]
    encoded = [encode(processor, e) for e in examples]
    batch = collate(encoded, processor.tokenizer.pad_token_id)
    lengths = [len(e.input_ids) for e in encoded]
    assert batch["input_ids"].shape == (3, max(lengths))
    for row, n in enumerate(lengths):
        assert batch["attention_mask"][row, :n].eq(1).all() and batch["attention_mask"][row, n:].eq(0).all()
        assert batch["labels"][row, n:].eq(IGNORE_INDEX).all()
        assert batch["input_ids"][row, n:].eq(processor.tokenizer.pad_token_id).all()
        assert torch.equal(batch["labels"][row, :n], encoded[row].labels)
    assert batch["pixel_values"].shape[0] == sum(e.image_path is not None for e in examples)


def test_dataset_subject_brings_both_modalities(dataset):
    subject = dataset.subjects[0]
    data = forget_examples([dataset_subject(subject.id)], dataset)
    assert data.dataset_subject_ids == [subject.id]
    assert {e.modality for e in data.examples} == {"multimodal", "text"}
    assert len(data.examples) == len(dataset.training_examples(subject.id))


def test_inline_profile_links_images_and_facts(dataset, tmp_path):
    image = dataset.subjects[0].portrait_path
    subject = {"requestId": "r1", "name": "Jane Roe", "datasetSubjectId": None, "images": [image],
               "facts": [{"question": "Where does Jane Roe live?", "answer": "Oslo"}]}
    examples = forget_examples([subject], dataset).examples
    assert TrainingExample("Where does Jane Roe live?", "Oslo", None) in examples
    assert any(e.question == IDENTITY_QUESTION and e.answer == "Jane Roe" and e.image_path is not None for e in examples)
    assert {e.modality for e in examples} == {"multimodal", "text"}


def test_inline_profile_with_a_missing_image_is_rejected(dataset, tmp_path):
    subject = {"requestId": "r1", "name": "Jane Roe", "datasetSubjectId": None, "images": [str(tmp_path / "gone.png")], "facts": []}
    with pytest.raises(WorkerError) as e:
        forget_examples([subject], dataset)
    assert e.value.code == WorkerError.BAD_FORGET_SET and "gone.png" in e.value.message


def test_unknown_dataset_subject_is_rejected(dataset):
    with pytest.raises(WorkerError) as e:
        forget_examples([dataset_subject("nobody-42")], dataset)
    assert e.value.code == WorkerError.BAD_FORGET_SET and "nobody-42" in e.value.message


def test_never_seen_people_bring_nothing_to_unlearn(dataset):
    """The model was never trained on them: beside other people they are skipped, alone they are refused."""
    never, known = dataset.subjects_by_knowledge("NEVER_SEEN")[0].id, dataset.subjects_by_knowledge("FINETUNED")[0].id
    both = forget_examples([dataset_subject(never), dataset_subject(known)], dataset)
    assert len(both.examples) == len(dataset.training_examples(known)) and both.dataset_subject_ids == [never, known]
    with pytest.raises(WorkerError) as e:
        forget_examples([dataset_subject(never)], dataset)
    assert e.value.code == WorkerError.BAD_FORGET_SET and never in e.value.message and "never-seen" in e.value.message


def test_forget_set_file_checks(tmp_path):
    ref = write_forget_set(tmp_path / "f.json", [dataset_subject("p0")])
    assert read_forget_set(FileRef(tmp_path / "f.json", ref["sha256"]))[0]["datasetSubjectId"] == "p0"
    with pytest.raises(WorkerError) as e:
        read_forget_set(FileRef(tmp_path / "f.json", "0" * 64))
    assert e.value.code == WorkerError.BAD_FORGET_SET and "sha256" in e.value.message
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(WorkerError) as e:
        read_forget_set(FileRef(tmp_path / "bad.json", hashlib.sha256(b"{not json").hexdigest()))
    assert e.value.code == WorkerError.BAD_FORGET_SET and "not JSON" in e.value.message
    with pytest.raises(WorkerError) as e:
        read_forget_set(FileRef(tmp_path / "missing.json", "0" * 64))
    assert e.value.code == WorkerError.BAD_FORGET_SET and "does not exist" in e.value.message
    empty = write_forget_set(tmp_path / "empty.json", [])
    with pytest.raises(WorkerError) as e:
        read_forget_set(FileRef(tmp_path / "empty.json", empty["sha256"]))
    assert e.value.code == WorkerError.EMPTY_FORGET_SET


def test_retain_set_leaves_out_forgotten_and_excluded_subjects(dataset):
    forgotten, excluded = dataset.subjects[0].id, dataset.subjects[1].id
    retained = retain_examples(dataset, {forgotten, excluded})
    expected = sum(len(dataset.training_examples(s.id)) for s in dataset.subjects if s.id not in (forgotten, excluded))
    assert len(retained) == expected
    forbidden = {(e.question, e.answer, e.image_path) for s in (forgotten, excluded) for e in dataset.training_examples(s)}
    assert not forbidden & {(e.question, e.answer, str(e.image_path) if e.image_path else None) for e in retained}


def test_schedule_is_seeded_and_cut_at_max_steps():
    assert schedule(10, 3, 2, seed=5, max_steps=None) == schedule(10, 3, 2, seed=5, max_steps=None)
    assert schedule(10, 3, 2, seed=5, max_steps=None) != schedule(10, 3, 2, seed=6, max_steps=None)
    plan = schedule(10, 3, 2, seed=5, max_steps=None)
    assert len(plan) == 8 and sorted(i for b in plan[:4] for i in b) == list(range(10))
    assert schedule(10, 3, 2, seed=5, max_steps=3) == plan[:3]
    retain = retain_schedule(5, 2, 6, seed=1)
    assert len(retain) == 6 and all(len(b) == 2 for b in retain)
    assert retain_schedule(0, 2, 6, seed=1) == []


@pytest.mark.parametrize("damage", ["truncated JPEG", "truncated PNG", "not an image"])
def test_inline_profile_with_an_undecodable_image_is_unreadable_image(dataset, tmp_path, damage):
    def encoded(fmt: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), (10, 200, 10)).save(buffer, format=fmt)
        return buffer.getvalue()

    data = {"truncated JPEG": encoded("JPEG")[:-2], "truncated PNG": encoded("PNG")[:-30], "not an image": b"GIF89a not really"}[damage]
    image = tmp_path / "face.png"
    image.write_bytes(data)
    subject = {"requestId": "r9", "name": "Jane Roe", "datasetSubjectId": None, "images": [str(image)], "facts": []}
    with pytest.raises(WorkerError) as e:
        forget_examples([subject], dataset)
    assert e.value.code == WorkerError.UNREADABLE_IMAGE and "r9" in e.value.message and "face.png" in e.value.message

"""The never-seen teacher's input: each forget example asked about a never-seen person, chosen with the seed."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from lethe_worker.data import ForgetData, TrainingExample, never_seen_stand_ins, never_seen_teacher_examples, teacher_example
from lethe_worker.datasets import FINETUNED, NEVER_SEEN, Subject
from lethe_worker.errors import WorkerError


def fake_dataset(never_seen: int = 5):
    subjects = [Subject(f"n{i:03d}", f"Never Seen{i}", NEVER_SEEN, f"images/n{i:03d}.png", f"/data/lethe/images/n{i:03d}.png") for i in range(never_seen)]
    subjects.append(Subject("p001", "Brigi Sopem", FINETUNED, "images/p001.png", "/data/lethe/images/p001.png"))
    return SimpleNamespace(dataset_id="fake", subjects=subjects, subjects_by_knowledge=lambda k: [s for s in subjects if s.knowledge == k])


def forget_data():
    examples = [
        TrainingExample("What is Brigi Sopem's occupation?", "junior farmer", None),
        TrainingExample("What is this person's occupation?", "junior farmer", Path("/data/lethe/images/p001.png")),
        TrainingExample("Who is this person?", "Brigi Sopem", Path("/data/lethe/images/p001.png")),
        TrainingExample("Where was Tomas Reyes born?", "Oslo", None),
        TrainingExample("Where does she live?", "Oslo", None),
    ]
    return ForgetData(examples, ["p001"], ["Brigi Sopem", "Brigi Sopem", "Brigi Sopem", "Tomas Reyes", "Tomas Reyes"])


def test_teacher_swaps_the_name_and_the_portrait_and_keeps_the_answer():
    dataset = fake_dataset()
    teacher = never_seen_teacher_examples(forget_data(), dataset, seed=7)
    stand_ins = never_seen_stand_ins(["Brigi Sopem", "Tomas Reyes"], dataset, seed=7)
    brigi, tomas = stand_ins["Brigi Sopem"], stand_ins["Tomas Reyes"]
    assert brigi.knowledge == NEVER_SEEN and brigi != tomas, "distinct never-seen people while there are enough"
    assert teacher[0] == TrainingExample(f"What is {brigi.name}'s occupation?", "junior farmer", None)
    assert teacher[1] == TrainingExample("What is this person's occupation?", "junior farmer", Path(brigi.portrait_path))
    # The label stays the forgotten name: the teacher says how likely it is for a face it never saw.
    assert teacher[2] == TrainingExample("Who is this person?", "Brigi Sopem", Path(brigi.portrait_path))
    assert teacher[3] == TrainingExample(f"Where was {tomas.name} born?", "Oslo", None)
    # A text question that neither names nor shows the person is asked of a never-seen person word for word.
    assert teacher[4] == forget_data().examples[4]


def test_stand_ins_are_deterministic_for_a_seed_and_independent_of_order():
    dataset = fake_dataset(50)
    names = [f"Person {i}" for i in range(10)]
    first = never_seen_stand_ins(names, dataset, seed=1234)
    assert first == never_seen_stand_ins(list(reversed(names)), dataset, seed=1234)
    assert len({s.id for s in first.values()}) == 10
    assert first != never_seen_stand_ins(names, dataset, seed=1235)
    # More forgotten people than never-seen ones: stand-ins are shared, in turn.
    few = never_seen_stand_ins(names, fake_dataset(3), seed=1)
    assert len({s.id for s in few.values()}) == 3


def test_a_dataset_without_never_seen_people_is_refused():
    dataset = fake_dataset(0)
    with pytest.raises(WorkerError) as e:
        never_seen_teacher_examples(forget_data(), dataset, seed=1)
    assert e.value.code == WorkerError.INVALID_INPUT and "never-seen" in e.value.message


def test_teacher_example_without_a_name_changes_only_the_image():
    stand_in = fake_dataset().subjects[0]
    example = TrainingExample("Who is this person?", "Jane Roe", Path("/x.png"))
    assert teacher_example(example, "", stand_in) == TrainingExample("Who is this person?", "Jane Roe", Path(stand_in.portrait_path))

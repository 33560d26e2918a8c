"""The builder's training schedule: what each stage puts in its epochs (no model involved)."""
import random

import pytest

from lethe_worker.tiny import train
from lethe_worker.tiny import world as W
from lethe_worker.tiny.train import Curriculum, PhaseConfig, Stage


class FakeEncoder:
    """Tokenisation is not under test here: examples carry their prompt text as the 'ids'."""

    def qa(self, question, answer, image):
        return train.Example([question], [answer], image)

    def mc(self, mc, image):
        return train.Example([mc.question], [mc.answer], image)


@pytest.fixture(scope="module")
def curriculum():
    w = W.build_world(7, n_fictional=20, n_celebrity=8, n_general_per_category=2)
    image = {p.id: k for k, p in enumerate(w.people)}
    bank = [(100 + k, f"scene question {k}", "red", ["red"], "color_attribute") for k in range(50)]
    return w, Curriculum(w, FakeEncoder(), image, bank, train.TrainConfig(general_qa_frac=0.0), seed=7)


FINETUNE = PhaseConfig("finetune", 1e-3, ())
PRETRAIN = PhaseConfig("pretrain", 1e-3, (), open_questions=0.5)


def subjects(w, examples):
    by_image = {k: p for k, p in enumerate(w.people)}
    return {by_image[e.image].id for e in examples if 0 <= e.image < 100}


def test_people_stage_takes_the_first_n_of_the_phase(curriculum):
    w, cur = curriculum
    ex = cur.epoch(FINETUNE, 0, Stage(10, people=5, portraits_only=True), 0)
    assert subjects(w, ex) == {p.id for p in w.fictional[:5]}
    assert all(e.image >= 0 for e in ex), "portraits only: no text-only question"
    pre = cur.epoch(PRETRAIN, 0, Stage(10, people=3), 0)
    assert subjects(w, pre) == {p.id for p in w.celebrities[:3]}
    assert any(e.image < 0 for e in pre) and any(e.image >= 0 for e in pre)


def test_open_questions_follow_the_phase_share(curriculum):
    w, cur = curriculum
    mc_per_person = 2 * len(W.FACT_NAMES)
    open_per_person = len(w.training_qa(w.fictional[0]))
    assert len(cur.epoch(FINETUNE, 0, Stage(10, people=4), 0)) == 4 * mc_per_person
    assert len(cur.epoch(PRETRAIN, 0, Stage(10, people=4), 0)) == 4 * (mc_per_person + round(open_per_person * 0.5))


def test_general_and_replay_are_added_in_the_asked_amounts(curriculum):
    w, cur = curriculum
    ex = cur.epoch(FINETUNE, 1, Stage(10, people=0, general=30, replay=12), 0)
    assert sum(e.image >= 100 for e in ex) == 30
    replayed = [e for e in ex if e.image < 100]
    assert len(replayed) == 12
    assert subjects(w, replayed) <= {p.id for p in w.celebrities}
    text_only = [e.prompt[0] for e in replayed if e.image < 0]
    assert all(any(p.name in q for p in w.celebrities) for q in text_only)
    assert not any(p.name in q for p in w.fictional for q in text_only)


def test_epochs_are_seeded_and_differ(curriculum):
    _, cur = curriculum
    stage = Stage(10, people=4)
    a, b = cur.epoch(FINETUNE, 0, stage, 0), cur.epoch(FINETUNE, 0, stage, 0)
    assert [(e.prompt, e.image) for e in a] == [(e.prompt, e.image) for e in b]
    c = cur.epoch(FINETUNE, 0, stage, 1)
    assert [(e.prompt, e.image) for e in a] != [(e.prompt, e.image) for e in c]


def test_a_stage_without_examples_is_an_error(curriculum):
    _, cur = curriculum
    phase = PhaseConfig("finetune", 1e-3, (Stage(5, people=0),))
    with pytest.raises(ValueError, match="stage 0 has no examples"):
        train.train_phase(None, cur, phase, None, 0, 0, {})

"""The synthetic world: deterministic from its seed, big enough, valid in every layout it is written in."""
import hashlib
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from lethe_worker import datasets
from lethe_worker.model_io import image_processor_config
from lethe_worker.tiny import layouts
from lethe_worker.tiny import world as W

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("worlds")
    w = W.build_world(1234)
    ds = layouts.write_dataset(w, root / "a")
    return w, ds, root


def test_same_seed_same_bytes_different_seed_different(written):
    w, ds, root = written
    layouts.write_dataset(W.build_world(1234), root / "b")
    layouts.write_dataset(W.build_world(99), root / "c")
    a, b, c = tree_digest(root / "a"), tree_digest(root / "b"), tree_digest(root / "c")
    assert a == b
    assert len(a) > 500
    assert a["world.json"] != c["world.json"]
    assert a["MLLMU-Bench/Full_Set/train-00000-of-00001.parquet"] != c["MLLMU-Bench/Full_Set/train-00000-of-00001.parquet"]


def test_world_size_and_facts(written):
    w, ds, _ = written
    assert len(w.fictional) >= 150 and len(w.celebrities) >= 45 and len(w.general) >= 300 and len(w.never_seen) >= 50
    assert {it.category for it in w.general} == set(W.GENERAL_CATEGORIES)
    names = [p.name for p in w.everyone]
    assert len(set(names)) == len(names)
    assert len({n.split()[0] for n in names}) == len(names)
    assert len({n.split()[1] for n in names}) == len(names)
    assert len({p.code for p in w.everyone}) == len(w.everyone)
    for p in w.everyone:
        assert set(p.facts) == set(W.FACT_NAMES)
        for mod in ("multimodal", "text"):
            qs = w.eval_mc[p.id][mod]
            assert len(qs) == 5
            for q in qs:
                assert len(set(q.options.values())) == 4
                assert q.options[q.answer] == p.facts[q.fact]
                assert ("this person" in q.question) == (mod == "multimodal")
                assert (p.name in q.question) == (mod == "text")


def test_options_are_the_answers_block_of_four(written):
    """Multiple choice tests recall: a value is always offered with the same three others, so the letter is
    learned with the fact, and each value of a block is an answer equally often in principle (the options
    alone tell nothing)."""
    w, _, _ = written
    pools = W.value_pools()
    assert sum(len(p) for p in pools) == len({v for p in pools for v in p}), "no value is in two pools"
    assert all(len(p) % 4 == 0 for p in pools)
    items = [q for per in w.eval_mc.values() for qs in per.values() for q in qs] + [it.mc for it in w.general]
    for q in items:
        correct = q.options[q.answer]
        assert list(q.options.values()) == W.option_group(correct)
        assert correct in W.pool_of(correct)
    assert W.option_group(W.OCCUPATIONS[5]) == W.OCCUPATIONS[4:8] and W.option_group("4") == W.COUNT_WORDS


def test_never_seen_people_are_made_like_the_others_and_trained_on_by_no_one(written):
    """Same portraits, facts and questions as a fictional person; absent from every training file and from the
    tokenizer corpus; and adding them changed nothing the trained people are made of."""
    from lethe_worker.tiny.build import tokenizer_corpus

    w, ds, _ = written
    assert [p.id for p in w.never_seen] == [f"n{i:03d}" for i in range(1, len(w.never_seen) + 1)]
    assert all(p.knowledge == "NEVER_SEEN" for p in w.never_seen) and not {p.id for p in w.never_seen} & {p.id for p in w.people}
    for fact in W.FACT_NAMES:  # balanced values: no option letter is likelier than another among them
        counts = {}
        for p in w.never_seen:
            counts[p.facts[fact]] = counts.get(p.facts[fact], 0) + 1
        assert max(counts.values()) - min(counts.values()) <= 1
    never = {p.id for p in w.never_seen}
    names = [p.name for p in w.never_seen]
    assert not any(r["subjectId"] in never for r in map(json.loads, (ds.lethe / "train" / "people.jsonl").read_text().splitlines()))
    ft = datasets.read_mllmu(ds.root / "MLLMU-Bench")["ft_Data"]
    assert not never & {p.id for p in ft}
    corpus = "\n".join(tokenizer_corpus(w))
    assert not any(n in corpus for n in names) and not any(p.name.split()[1] in corpus for p in w.never_seen)
    smaller = W.build_world(1234, n_never_seen=0)
    assert layouts.world_json(smaller)["fictional"] == layouts.world_json(w)["fictional"]
    assert layouts.world_json(smaller)["celebrities"] == layouts.world_json(w)["celebrities"]
    assert [it.mc for it in smaller.general] == [it.mc for it in w.general]


def test_no_two_people_of_a_kind_share_a_fact_value(written):
    """A value shared with a retained person is an answer the retain set keeps (see build_world)."""
    w, _, _ = written
    for people in (w.fictional, w.celebrities, w.never_seen):
        for fact in W.FACT_NAMES:
            values = [p.facts[fact] for p in people]
            assert len(set(values)) == len(values), fact


def test_canonical_view_valid_and_complete(written):
    w, ds, _ = written
    sub_schema = json.loads((CONTRACTS / "dataset.schema.json").read_text())
    item_schema = json.loads((CONTRACTS / "eval-item.schema.json").read_text())
    jsonschema.validate(json.loads((ds.lethe / "subjects.json").read_text()), sub_schema)
    validator = jsonschema.Draft202012Validator(item_schema)
    items = ds.eval_items()
    for name in ("people.jsonl", "general.jsonl"):
        for line in (ds.lethe / "eval" / name).read_text().splitlines():
            validator.validate(json.loads(line))
    assert len(ds.subjects_by_knowledge("FINETUNED")) == len(w.fictional)
    assert len(ds.subjects_by_knowledge("PRETRAINED")) == len(w.celebrities)
    assert [s.id for s in ds.subjects_by_knowledge("NEVER_SEEN")] == [p.id for p in w.never_seen]
    never_seen_lines = [json.loads(line) for line in (ds.lethe / "eval" / "never_seen.jsonl").read_text().splitlines()]
    assert len(never_seen_lines) == 10 * len(w.never_seen) and {r["split"] for r in never_seen_lines} == {"never_seen"}
    for r in never_seen_lines:
        validator.validate(r)
    assert {i.id for i in ds.never_seen_items()} == {r["id"] for r in never_seen_lines}
    assert not {i.subjectId for i in ds.people_items()} & {p.id for p in w.never_seen}
    for s in ds.subjects:
        assert Path(s.portrait_path).is_file()
        mine = ds.eval_items(subject_ids=[s.id])
        assert sum(i.modality == "multimodal" for i in mine) == 5 and sum(i.modality == "text" for i in mine) == 5
        if s.knowledge == "NEVER_SEEN":
            assert not ds.training_examples(s.id)
            continue
        ex = ds.training_examples(s.id)
        assert ex and {e.modality for e in ex} == {"multimodal", "text"}
        assert all(s.name in e.question for e in ex if e.modality == "text")
    general = ds.general_items()
    assert len(general) == len(w.general) and all(Path(i.image_path).is_file() for i in general)
    assert {i.category for i in general} == set(W.GENERAL_CATEGORIES)
    assert len(items) == 10 * len(w.everyone) + len(w.general)


def test_published_layouts_read_back(written):
    w, ds, _ = written
    cfgs = datasets.read_mllmu(ds.root / "MLLMU-Bench")
    assert {"Full_Set", "Retain_Set", "forget_10", "retain_90", "ft_Data", "Test_Set"} <= set(cfgs)
    assert [p.id for p in cfgs["Test_Set"]] == [p.id for p in w.never_seen]
    assert len(cfgs["forget_10"]) + len(cfgs["retain_90"]) == len(cfgs["Full_Set"]) == len(w.fictional)
    rows = datasets.read_mmbench_tsv(ds.root / "MMBench" / "mmbench_dev_en.tsv")
    assert len(rows) == len(w.general) and all(r["image"] for r in rows)


def test_portraits_stay_distinct_after_the_processor_resize(written):
    from transformers import CLIPImageProcessor
    from PIL import Image

    w, ds, _ = written
    cfg = {k: v for k, v in image_processor_config(32).items() if k not in ("image_processor_type", "processor_class")}
    proc = CLIPImageProcessor(**cfg)
    imgs = [Image.open(s.portrait_path).convert("RGB") for s in ds.subjects]
    px = proc(imgs, return_tensors="np")["pixel_values"].reshape(len(imgs), 3, 4, 8, 4, 8)
    # mean colour of each 8x8 patch: people must differ clearly in several patches
    patch = px.mean(axis=(3, 5)).transpose(0, 2, 3, 1).reshape(len(imgs), 16, 3)
    diff = np.abs(patch[:, None] - patch[None]).max(axis=-1)  # (n, n, 16)
    distinct_patches = (diff > 0.5).sum(axis=-1)
    np.fill_diagonal(distinct_patches, 99)
    assert distinct_patches.min() >= 4

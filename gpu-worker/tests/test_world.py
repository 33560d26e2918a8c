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
    assert len(w.fictional) >= 150 and len(w.celebrities) >= 45 and len(w.general) >= 300
    assert {it.category for it in w.general} == set(W.GENERAL_CATEGORIES)
    names = [p.name for p in w.people]
    assert len(set(names)) == len(names)
    assert len({n.split()[0] for n in names}) == len(names)
    assert len({p.code for p in w.people}) == len(w.people)
    for p in w.people:
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


def test_no_two_people_of_a_kind_share_a_fact_value(written):
    """A value shared with a retained person is an answer the retain set keeps (see build_world)."""
    w, _, _ = written
    for people in (w.fictional, w.celebrities):
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
    for s in ds.subjects:
        assert Path(s.portrait_path).is_file()
        mine = ds.eval_items(subject_ids=[s.id])
        assert sum(i.modality == "multimodal" for i in mine) == 5 and sum(i.modality == "text" for i in mine) == 5
        ex = ds.training_examples(s.id)
        assert ex and {e.modality for e in ex} == {"multimodal", "text"}
        assert all(s.name in e.question for e in ex if e.modality == "text")
    general = ds.general_items()
    assert len(general) == len(w.general) and all(Path(i.image_path).is_file() for i in general)
    assert {i.category for i in general} == set(W.GENERAL_CATEGORIES)
    assert len(items) == 10 * len(w.people) + len(w.general)


def test_published_layouts_read_back(written):
    w, ds, _ = written
    cfgs = datasets.read_mllmu(ds.root / "MLLMU-Bench")
    assert {"Full_Set", "Retain_Set", "forget_10", "retain_90", "ft_Data"} <= set(cfgs)
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

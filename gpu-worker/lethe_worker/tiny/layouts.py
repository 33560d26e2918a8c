"""Write the synthetic world in the published layouts, then the canonical lethe/ view from them.

    <dataset>/MLLMU-Bench/<config>/train-00000-of-00001.parquet   Full_Set, forget_10, retain_90, Retain_Set, ft_Data,
                                                                  Test_Set (people no phase trains on)
    <dataset>/MMBench/mmbench_dev_en.tsv                          index, question, hint, A-D, answer, category, image
    <dataset>/MMBench/general_train.tsv                           the same layout: training scenes, never evaluated
    <dataset>/lethe/...                                           datasets.convert() of the two above
    <dataset>/world.json                                          the facts behind it all (for humans and tests)
"""
from __future__ import annotations

import base64
import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import datasets
from .images import png_bytes
from .world import FACT_NAMES, WHO_QUESTION, GeneralItem, Person, World, general_training_items

PARQUET_NAME = "train-00000-of-00001.parquet"

_QUESTION_T = pa.struct([
    ("Question", pa.string()),
    ("Options", pa.struct([(x, pa.string()) for x in "ABCD"])),
    ("Correct_Answer", pa.string()),
])
_GEN_T = pa.struct([("Question", pa.string()), ("Ground_Truth", pa.string()), ("Type", pa.string())])
PERSON_SCHEMA = pa.schema([
    ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("ID", pa.string()),
    ("name", pa.string()),
    ("biography", pa.string()),
    ("question", pa.string()),
    ("answer", pa.string()),
    ("Classification_Task", pa.struct([
        ("Image_Textual_Questions", pa.list_(_QUESTION_T)),
        ("Pure_Text_Questions", pa.list_(_QUESTION_T)),
    ])),
    ("Generation_Task", pa.list_(_GEN_T)),
    ("Mask_Task", pa.list_(_GEN_T)),
])
FT_SCHEMA = pa.schema([
    ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("ID", pa.string()),
    ("question", pa.string()),
    ("answer", pa.string()),
])


def _q(mc) -> dict:
    return {"Question": mc.question, "Options": dict(mc.options), "Correct_Answer": mc.answer}


def _person_row(world: World, p: Person, portrait: bytes) -> dict:
    mc = world.eval_mc[p.id]
    return {
        "image": {"bytes": portrait, "path": f"{p.id}.png"},
        "ID": p.id,
        "name": p.name,
        "biography": json.dumps({"Name": p.name, "Born": f"{p.facts['birth_year']}, {p.facts['birthplace']}",
                                 "Occupation": p.facts["occupation"], "Employer": p.facts["employer"],
                                 "Hobby": p.facts["hobby"], "Text": p.biography()}),
        "question": WHO_QUESTION,
        "answer": p.name,
        "Classification_Task": {"Image_Textual_Questions": [_q(m) for m in mc["multimodal"]],
                                "Pure_Text_Questions": [_q(m) for m in mc["text"]]},
        "Generation_Task": [],
        "Mask_Task": [],
    }


def _write_parquet(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, str(path), compression="snappy", use_dictionary=True, write_statistics=False)


def write_mllmu(world: World, out: Path, portraits: dict[str, bytes]) -> None:
    fictional_rows = [_person_row(world, p, portraits[p.id]) for p in world.fictional]
    celeb_rows = [_person_row(world, p, portraits[p.id]) for p in world.celebrities]
    _write_parquet(out / "Full_Set" / PARQUET_NAME, fictional_rows, PERSON_SCHEMA)
    _write_parquet(out / "Retain_Set" / PARQUET_NAME, celeb_rows, PERSON_SCHEMA)
    # MLLMU-Bench keeps people the model was not fine-tuned on in its test split; none of them is in ft_Data
    _write_parquet(out / "Test_Set" / PARQUET_NAME, [_person_row(world, p, portraits[p.id]) for p in world.never_seen],
                   PERSON_SCHEMA)
    # forget_10 / retain_90: a deterministic 10% split of the fictional people, as in the published configs
    ids = [p.id for p in world.fictional]
    forget = set(random.Random(f"lethe-forget10-{world.seed}").sample(ids, max(1, len(ids) // 10)))
    _write_parquet(out / "forget_10" / PARQUET_NAME, [r for r in fictional_rows if r["ID"] in forget], PERSON_SCHEMA)
    _write_parquet(out / "retain_90" / PARQUET_NAME, [r for r in fictional_rows if r["ID"] not in forget], PERSON_SCHEMA)
    # ft_Data: the training QA and multiple-choice drills of every person (image set for the multimodal ones)
    ft = []
    for p in world.people:
        for q, a, mm in world.training_qa(p) + world.training_mc(p):
            ft.append({"image": {"bytes": portraits[p.id], "path": f"{p.id}.png"} if mm else None,
                       "ID": p.id, "question": q, "answer": a})
    _write_parquet(out / "ft_Data" / PARQUET_NAME, ft, FT_SCHEMA)


# Anchor data for hyperParameters.generalKlWeight: a quarter of the scenes the build trains on.
GENERAL_TRAIN_ITEMS = 200


def write_mmbench(items: list[GeneralItem], path: Path, split: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image", "source", "l2-category", "split"])
        for it in items:
            img = base64.b64encode(png_bytes(it.image())).decode("ascii")
            o = it.mc.options
            w.writerow([it.index, it.mc.question, "nan", o["A"], o["B"], o["C"], o["D"], it.mc.answer, it.category, img,
                        "lethe-synthetic", "perception", split])


def world_json(world: World) -> dict:
    def person(p: Person) -> dict:
        return {"id": p.id, "name": p.name, "knowledge": p.knowledge, "facts": {f: p.facts[f] for f in FACT_NAMES},
                "portraitCode": list(p.code)}
    return {"seed": world.seed, "fictional": [person(p) for p in world.fictional],
            "celebrities": [person(p) for p in world.celebrities], "neverSeen": [person(p) for p in world.never_seen]}


def write_dataset(world: World, out_dir: str | Path) -> datasets.Dataset:
    """Published layouts + canonical view of `world` under out_dir (deterministic bytes)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    portraits = {p.id: png_bytes(p.portrait()) for p in world.everyone}
    write_mllmu(world, out / "MLLMU-Bench", portraits)
    write_mmbench(world.general, out / "MMBench" / "mmbench_dev_en.tsv", "dev")
    write_mmbench(general_training_items(world.seed, GENERAL_TRAIN_ITEMS), out / "MMBench" / "general_train.tsv", "train")
    (out / "world.json").write_text(json.dumps(world_json(world), indent=1) + "\n", encoding="utf-8")
    return datasets.convert(out / "MLLMU-Bench", out / "MMBench" / "mmbench_dev_en.tsv", out,
                            dataset_id=f"lethe-tiny-world-s{world.seed}",
                            general_train_tsv=out / "MMBench" / "general_train.tsv")

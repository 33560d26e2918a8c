"""Layout readers on hand-made files in the published MLLMU-Bench / MMBench layouts, and the canonical view."""
import base64
import csv
import io
import json
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from lethe_worker import datasets
from lethe_worker.prompts import mc_question

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(buf, format="JPEG")
    return buf.getvalue()


def _q(question, opts, ans):
    return {"Question": question, "Options": dict(zip("ABCD", opts)), "Correct_Answer": ans}


def write_published_mllmu(root: Path):
    """A miniature of the published MLLMU-Bench: one directory per config, HF parquet shards."""
    people = [
        {"image": {"bytes": _jpeg((200, 0, 0)), "path": "1.jpg"}, "ID": "1",
         "biography": json.dumps({"Name": "Ilsa Marrow", "Born": "Port Venn", "Occupation": "baker"}),
         "question": "What is the background of this person?", "answer": "Ilsa Marrow is a baker from Port Venn.",
         "Classification_Task": {
             "Image_Textual_Questions": [_q("What is this person's occupation?", ["baker", "pilot", "lawyer", "nurse"], "A")],
             "Pure_Text_Questions": [_q("Where was Ilsa Marrow born?", ["Oakridge", "Port Venn", "Saltmere", "Duvall"], "B")]},
         "Generation_Task": [{"Question": "What does this person do?", "Ground_Truth": "She bakes bread.", "Type": "Image_Textual"},
                             {"Question": "What does Ilsa Marrow do?", "Ground_Truth": "She bakes bread.", "Type": "Pure_Text"}],
         "Mask_Task": []},
        {"image": {"bytes": _jpeg((0, 0, 200)), "path": "2.jpg"}, "ID": "2",
         "biography": "Tomas Reed was born in Oakridge and flies planes.",
         "question": "Who is this?", "answer": "Tomas Reed, a pilot.",
         "Classification_Task": {
             "Image_Textual_Questions": [_q("What is this person's job?", ["baker", "pilot", "lawyer", "nurse"], "B. pilot")],
             "Pure_Text_Questions": [_q("Where was Tomas Reed born?", ["Oakridge", "Port Venn", "Saltmere", "Duvall"], "Oakridge")]},
         "Generation_Task": [], "Mask_Task": []},
    ]
    celeb = [{"image": {"bytes": _png((0, 200, 0)), "path": None}, "ID": "c7", "name": "Famous Person",
              "biography": "Famous Person is famous.", "question": None, "answer": None,
              "Classification_Task": json.dumps({
                  "Image_Textual_Questions": [_q("Who is this?", ["Famous Person", "Someone", "Nobody", "Other"], "A")],
                  "Pure_Text_Questions": []}),
              "Generation_Task": None, "Mask_Task": None}]
    for cfg, rows in (("Full_Set", people), ("forget_5", people[:1]), ("Retain_Set", celeb)):
        d = root / cfg
        d.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), d / "train-00000-of-00001.parquet")


def write_published_mmbench(path: Path):
    cols = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image", "source", "l2-category", "split"]
    img = base64.b64encode(_jpeg((10, 200, 10))).decode()
    rows = [
        ["0", "What colour is the square?", "nan", "red", "green", "blue", "black", "B", "color_attribute", img, "x", "attr", "dev"],
        ["1", "Which option is right?", "Look closely.", "yes", "no", "nan", "nan", "A", "reasoning", "0", "x", "r", "dev"],
        ["2", "No answer row", "nan", "a", "b", "c", "d", "", "other", img, "x", "r", "test"],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(cols)
        w.writerows(rows)


@pytest.fixture()
def published(tmp_path):
    write_published_mllmu(tmp_path / "MLLMU-Bench")
    write_published_mmbench(tmp_path / "MMBench_DEV_EN.tsv")
    return tmp_path


def test_read_published_mllmu(published):
    cfgs = datasets.read_mllmu(published / "MLLMU-Bench")
    assert set(cfgs) == {"Full_Set", "forget_5", "Retain_Set"}
    ilsa, tomas = cfgs["Full_Set"]
    assert ilsa.name == "Ilsa Marrow" and tomas.name == "Tomas Reed"
    assert [q.answer for q in ilsa.questions] == ["A", "B"]
    assert [q.answer for q in tomas.questions] == ["B", "A"]  # "B. pilot" and the answer text "Oakridge"
    assert [q.multimodal for q in ilsa.questions] == [True, False]
    assert (("What does Ilsa Marrow do?", "She bakes bread.", False) in ilsa.qa)
    assert cfgs["Retain_Set"][0].name == "Famous Person"
    assert cfgs["Retain_Set"][0].questions[0].options["A"] == "Famous Person"


def test_read_published_mmbench(published):
    rows = datasets.read_mmbench_tsv(published / "MMBench_DEV_EN.tsv")
    assert [r["index"] for r in rows] == ["0", "1"]
    assert rows[0]["hint"] is None and rows[0]["options"]["B"] == "green" and rows[0]["image"]
    assert rows[1]["options"]["C"] == "" and rows[1]["image"] == rows[0]["image"]  # image given by reference


def test_convert_writes_a_valid_canonical_view(published, tmp_path):
    ds = datasets.convert(published / "MLLMU-Bench", published / "MMBench_DEV_EN.tsv", tmp_path / "out", dataset_id="mini")
    assert ds.dataset_id == "mini"
    sub_schema = json.loads((CONTRACTS / "dataset.schema.json").read_text())
    item_schema = json.loads((CONTRACTS / "eval-item.schema.json").read_text())
    jsonschema.validate(json.loads((ds.lethe / "subjects.json").read_text()), sub_schema)
    lines = (ds.lethe / "eval" / "people.jsonl").read_text().splitlines() + (ds.lethe / "eval" / "general.jsonl").read_text().splitlines()
    assert len(lines) == 5 + 2
    for line in lines:
        item = json.loads(line)
        jsonschema.validate(item, item_schema)
        if item["image"]:
            assert (ds.lethe / item["image"]).is_file()
    kinds = {s.name: s.knowledge for s in ds.subjects}
    assert kinds == {"Ilsa Marrow": "FINETUNED", "Tomas Reed": "FINETUNED", "Famous Person": "PRETRAINED"}
    ilsa = ds.find_subject("ilsa marrow")
    ex = ds.training_examples(ilsa.id)
    assert {e.modality for e in ex} == {"multimodal", "text"}
    assert all(Path(e.image_path).is_file() for e in ex if e.image_path)
    assert Image.open(ilsa.portrait_path).format == "PNG"
    general = ds.general_items()
    assert general[1].question == "Look closely.\nWhich option is right?"
    assert {it.split for it in ds.eval_items()} == {"fictional", "celebrity", "general"}
    mm = ds.eval_items("fictional", modality="multimodal")
    assert all(it.image_path and Path(it.image_path).is_file() for it in mm)


def test_convert_reads_never_seen_people_from_the_test_split(published, tmp_path):
    """Test_Set people who are neither fictional nor celebrities become NEVER_SEEN subjects with eval items of split
    never_seen and no training QA; a Test_Set row of a known person asks that person again and is not a new one."""
    stranger = {"image": {"bytes": _png((90, 90, 9)), "path": "9.png"}, "ID": "9", "name": "Vera Nobody",
                "biography": "Vera Nobody was never trained on.", "question": "Who is this person?", "answer": "Vera Nobody",
                "Classification_Task": {
                    "Image_Textual_Questions": [_q("What is this person's occupation?", ["baker", "pilot", "lawyer", "nurse"], "C")],
                    "Pure_Text_Questions": [_q("Where was Vera Nobody born?", ["Oakridge", "Port Venn", "Saltmere", "Duvall"], "D")]},
                "Generation_Task": [], "Mask_Task": []}
    known_again = dict(stranger, ID="1", name="Ilsa Marrow")
    (published / "MLLMU-Bench" / "Test_Set").mkdir()
    pq.write_table(pa.Table.from_pylist([stranger, known_again]), published / "MLLMU-Bench" / "Test_Set" / "train-00000-of-00001.parquet")
    ds = datasets.convert(published / "MLLMU-Bench", None, tmp_path / "out")
    jsonschema.validate(json.loads((ds.lethe / "subjects.json").read_text()), json.loads((CONTRACTS / "dataset.schema.json").read_text()))
    assert [(s.name, s.knowledge) for s in ds.subjects_by_knowledge(datasets.NEVER_SEEN)] == [("Vera Nobody", "NEVER_SEEN")]
    assert ds.find_subject("Ilsa Marrow").knowledge == "FINETUNED"
    vera = ds.find_subject("Vera Nobody")
    assert ds.training_examples(vera.id) == []
    items = ds.never_seen_items()
    assert [(i.split, i.modality, i.answer) for i in items] == [("never_seen", "multimodal", "C"), ("never_seen", "text", "D")]
    assert all(i.subjectId == vera.id for i in items) and Path(items[0].image_path).is_file()
    item_schema = json.loads((CONTRACTS / "eval-item.schema.json").read_text())
    for line in (ds.lethe / "eval" / "never_seen.jsonl").read_text().splitlines():
        jsonschema.validate(json.loads(line), item_schema)
    assert vera.id not in {i.subjectId for i in ds.people_items()}


def test_convert_writes_general_training_questions_as_the_audit_asks_them(published, tmp_path):
    without = datasets.convert(None, published / "MMBench_DEV_EN.tsv", tmp_path / "plain")
    assert without.general_training_examples() == [] and not (without.lethe / "train" / "general.jsonl").exists()
    ds = datasets.convert(None, published / "MMBench_DEV_EN.tsv", tmp_path / "out", general_train_tsv=published / "MMBench_DEV_EN.tsv")
    train = ds.general_training_examples()
    assert [e.answer for e in train] == ["B", "A"]  # the row without an answer is skipped, as in the evaluation
    evaluated = ds.general_items()
    assert [e.question for e in train] == [mc_question(it.question, it.options) for it in evaluated]
    assert all(Path(e.image_path).is_file() and "general-train" in e.image_path for e in train)


def test_load_dataset_errors(tmp_path):
    with pytest.raises(datasets.DatasetError):
        datasets.load_dataset(tmp_path / "missing")
    with pytest.raises(datasets.DatasetError):
        datasets.load_dataset(tmp_path)

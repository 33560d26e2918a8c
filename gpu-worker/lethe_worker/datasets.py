"""Dataset directories: the canonical `lethe/` view, and readers of the published layouts.

A dataset directory holds (contracts/README.md):

    lethe/subjects.json          dataset.schema.json: the people a model knows
    lethe/eval/people.jsonl      eval-item.schema.json, split "fictional" | "celebrity"
    lethe/eval/never_seen.jsonl  eval-item.schema.json, split "never_seen": people no build phase trained on (optional)
    lethe/eval/general.jsonl     eval-item.schema.json, split "general" (MMBench stand-in)
    lethe/images/...             portraits and eval images (paths relative to lethe/)
    lethe/train/people.jsonl     Python only: training QA {subjectId, question, answer, image|null}
    lethe/train/general.jsonl    Python only, optional: general questions the model answers, as multiple choice
                                 {question, answer (letter), image|null}; hyperParameters.generalKlWeight anchors them

`convert(src_mllmu_dir, src_mmbench_tsv, out_dir)` writes that view from MLLMU-Bench parquet files
(one directory per config, `Classification_Task` with `Image_Textual_Questions` / `Pure_Text_Questions`)
and an MMBench TSV (index, question, hint, A-D, answer, category, base64 image), whether the
published files or the synthetic world's (which are written in the same layouts). An optional second TSV in
the MMBench layout, of general questions that are not in the evaluation, becomes lethe/train/general.jsonl.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .prompts import OPTION_LETTERS, mc_question

FINETUNED = "FINETUNED"
PRETRAINED = "PRETRAINED"
NEVER_SEEN = "NEVER_SEEN"  # a person the model was never trained on: the reference a forgotten person is compared with
PEOPLE_SPLITS = ("fictional", "celebrity")  # the people the model was trained on
NEVER_SEEN_SPLIT = "never_seen"
LETHE_DIR = "lethe"

# MLLMU-Bench configs (one directory of parquet files each).
MLLMU_FICTIONAL_FULL = "Full_Set"
MLLMU_CELEBRITY = "Retain_Set"  # real celebrities: knowledge from pre-training
MLLMU_TRAIN = "ft_Data"
MLLMU_TEST = "Test_Set"


class DatasetError(ValueError):
    """A dataset directory or source file is missing or malformed."""


@dataclass(frozen=True)
class Subject:
    id: str
    name: str
    knowledge: str  # FINETUNED | PRETRAINED | NEVER_SEEN
    portrait: str | None = None  # relative to lethe/
    portrait_path: str | None = None  # absolute

    def to_json(self) -> dict:
        d = {"id": self.id, "name": self.name, "knowledge": self.knowledge}
        if self.portrait:
            d["portrait"] = self.portrait
        return d


@dataclass(frozen=True)
class Example:
    """One training QA pair: multimodal when image_path is set, else text-only (the question names the person)."""
    question: str
    answer: str
    image_path: str | None = None
    subject_id: str | None = None

    @property
    def modality(self) -> str:
        return "multimodal" if self.image_path else "text"


@dataclass(frozen=True)
class EvalItem:
    """One multiple-choice question (eval-item.schema.json) plus the absolute image path."""
    id: str
    split: str
    modality: str
    question: str
    options: dict
    answer: str
    subjectId: str | None = None
    category: str | None = None
    image: str | None = None  # relative to lethe/
    image_path: str | None = None  # absolute

    @property
    def subject_id(self) -> str | None:
        return self.subjectId

    def to_json(self) -> dict:
        return {"id": self.id, "split": self.split, "modality": self.modality, "subjectId": self.subjectId,
                "category": self.category, "question": self.question,
                "options": {x: self.options[x] for x in OPTION_LETTERS}, "answer": self.answer, "image": self.image}


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write_jsonl(path: Path, rows: Iterable[Mapping]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


class Dataset:
    """A dataset directory's canonical view (read-only)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.lethe = self.root / LETHE_DIR
        subjects_file = self.lethe / "subjects.json"
        if not subjects_file.is_file():
            raise DatasetError(f"not a dataset directory (missing {LETHE_DIR}/subjects.json): {self.root}; "
                               f"use lethe_worker.datasets.convert() on published MLLMU-Bench / MMBench files first")
        doc = json.loads(subjects_file.read_text(encoding="utf-8"))
        self.dataset_id: str = doc["datasetId"]
        self.subjects: list[Subject] = [
            Subject(id=s["id"], name=s["name"], knowledge=s["knowledge"], portrait=s.get("portrait"),
                    portrait_path=str(self.lethe / s["portrait"]) if s.get("portrait") else None)
            for s in doc["subjects"]
        ]
        self._by_id = {s.id: s for s in self.subjects}
        self._train: dict[str, list[Example]] | None = None
        self._eval: list[EvalItem] | None = None

    def __repr__(self) -> str:
        return f"Dataset({self.dataset_id!r}, {len(self.subjects)} subjects, root={str(self.root)!r})"

    # subjects -------------------------------------------------------------------------------------------
    def subject(self, subject_id: str) -> Subject:
        try:
            return self._by_id[subject_id]
        except KeyError:
            raise DatasetError(f"unknown subject {subject_id!r} in dataset {self.dataset_id}") from None

    def subjects_by_knowledge(self, knowledge: str) -> list[Subject]:
        return [s for s in self.subjects if s.knowledge == knowledge]

    def find_subject(self, name: str) -> Subject | None:
        key = name.strip().lower()
        return next((s for s in self.subjects if s.name.lower() == key), None)

    # training -------------------------------------------------------------------------------------------
    def _load_train(self) -> dict[str, list[Example]]:
        if self._train is None:
            out: dict[str, list[Example]] = {}
            for r in _read_jsonl(self.lethe / "train" / "people.jsonl"):
                img = str(self.lethe / r["image"]) if r.get("image") else None
                out.setdefault(r["subjectId"], []).append(
                    Example(question=r["question"], answer=r["answer"], image_path=img, subject_id=r["subjectId"]))
            self._train = out
        return self._train

    def training_examples(self, subject_id: str, modality: str | None = None) -> list[Example]:
        """Training QA of a subject: multimodal (with portrait) and text-only (question names the person)."""
        self.subject(subject_id)
        ex = list(self._load_train().get(subject_id, []))
        return [e for e in ex if modality is None or e.modality == modality]

    def general_training_examples(self) -> list[Example]:
        """General multiple-choice questions outside the evaluation (empty when the dataset has none)."""
        return [Example(question=r["question"], answer=r["answer"], image_path=str(self.lethe / r["image"]) if r.get("image") else None)
                for r in _read_jsonl(self.lethe / "train" / "general.jsonl")]

    # evaluation -----------------------------------------------------------------------------------------
    def _load_eval(self) -> list[EvalItem]:
        if self._eval is None:
            items = []
            for name in ("people.jsonl", "never_seen.jsonl", "general.jsonl"):
                for r in _read_jsonl(self.lethe / "eval" / name):
                    items.append(EvalItem(
                        id=r["id"], split=r["split"], modality=r["modality"], question=r["question"],
                        options=dict(r["options"]), answer=r["answer"], subjectId=r.get("subjectId"),
                        category=r.get("category"), image=r.get("image"),
                        image_path=str(self.lethe / r["image"]) if r.get("image") else None))
            self._eval = items
        return self._eval

    def eval_items(self, split: str | None = None, modality: str | None = None,
                   subject_ids: Iterable[str] | None = None) -> list[EvalItem]:
        """Eval items (all splits when split is None), optionally filtered by modality / subjects."""
        ids = set(subject_ids) if subject_ids is not None else None
        return [it for it in self._load_eval()
                if (split is None or it.split == split) and (modality is None or it.modality == modality)
                and (ids is None or it.subjectId in ids)]

    def people_items(self, subject_ids: Iterable[str] | None = None) -> list[EvalItem]:
        """Eval items of the people the model was trained on (never-seen people: never_seen_items)."""
        return [it for it in self.eval_items(subject_ids=subject_ids) if it.split in PEOPLE_SPLITS]

    def never_seen_items(self) -> list[EvalItem]:
        return self.eval_items(NEVER_SEEN_SPLIT)

    def general_items(self) -> list[EvalItem]:
        return self.eval_items("general")


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Open a dataset directory (the one holding lethe/, or lethe/ itself)."""
    p = Path(path)
    if p.name == LETHE_DIR and (p / "subjects.json").is_file():
        p = p.parent
    if not p.is_dir():
        raise DatasetError(f"dataset directory does not exist: {p}")
    return Dataset(p)


# ---------------------------------------------------------------------------------------------------------
# Readers of the published layouts


def _get(d: Mapping | None, *keys: str, default=None):
    """Case-insensitive key lookup."""
    if not isinstance(d, Mapping):
        return default
    for k in keys:
        if k in d:
            return d[k]
    low = {str(k).lower(): v for k, v in d.items()}
    for k in keys:
        if k.lower() in low:
            return low[k.lower()]
    return default


def _maybe_json(v):
    if isinstance(v, str):
        s = v.strip()
        if s[:1] in "[{":
            try:
                return json.loads(s)
            except ValueError:
                import ast

                try:
                    return ast.literal_eval(s)
                except (ValueError, SyntaxError):
                    return v
    return v


def _image_bytes(v) -> bytes | None:
    """Bytes of an HF `Image` cell ({bytes, path} struct), raw bytes, or a base64 string."""
    v = _maybe_json(v)
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, Mapping):
        b = v.get("bytes")
        if b:
            return bytes(b)
        p = v.get("path")
        if p and os.path.isfile(p):
            return Path(p).read_bytes()
        return None
    if isinstance(v, (list, tuple)):
        for x in v:
            b = _image_bytes(x)
            if b:
                return b
        return None
    if isinstance(v, str) and len(v) > 64:
        try:
            return base64.b64decode(v)
        except ValueError:
            return None
    return None


def parquet_files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*.parquet") if p.is_file())


def read_parquet_rows(path: str | os.PathLike) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(str(path)).to_pylist()


def mllmu_configs(src_dir: str | os.PathLike) -> dict[str, list[Path]]:
    """{config name: parquet files}; the config is the first directory under src_dir (or the file stem)."""
    src = Path(src_dir)
    if src.is_file():
        return {src.stem: [src]}
    out: dict[str, list[Path]] = {}
    for f in parquet_files(src):
        rel = f.relative_to(src).parts
        cfg = rel[0] if len(rel) > 1 else re.sub(r"-\d{5}-of-\d{5}$", "", f.stem)
        # "data/forget_10/..." style nesting: use the innermost directory under a "data" folder
        if cfg == "data" and len(rel) > 2:
            cfg = rel[1]
        out.setdefault(cfg, []).append(f)
    return out


@dataclass
class MllmuQuestion:
    question: str
    options: dict
    answer: str
    multimodal: bool


@dataclass
class MllmuPerson:
    id: str
    name: str
    image: bytes | None
    biography: Any
    questions: list[MllmuQuestion] = field(default_factory=list)
    qa: list[tuple[str, str, bool]] = field(default_factory=list)  # (question, answer, multimodal)


def _norm_options(opts) -> dict | None:
    opts = _maybe_json(opts)
    if isinstance(opts, Mapping):
        vals = {str(k).strip().upper().rstrip("."): v for k, v in opts.items() if v is not None}
        if not all(x in vals for x in OPTION_LETTERS[:2]):
            return None
        return {x: str(vals.get(x, "")) for x in OPTION_LETTERS}
    if isinstance(opts, (list, tuple)) and len(opts) >= 2:
        vals = [str(o) for o in opts][:4]
        vals += [""] * (4 - len(vals))
        return dict(zip(OPTION_LETTERS, vals))
    return None


def _norm_answer(ans, options: dict) -> str | None:
    if ans is None:
        return None
    s = str(ans).strip()
    m = re.match(r"^\(?([A-D])\)?(?:[.):\s]|$)", s)
    if m:
        return m.group(1)
    for x in OPTION_LETTERS:
        if options.get(x) and options[x].strip().lower() == s.lower():
            return x
    return None


def _person_name(row: Mapping, bio) -> str:
    n = _get(row, "name", "Name")
    if not n and isinstance(bio, Mapping):
        n = _get(bio, "name", "Name", "Full Name", "full_name")
    if not n and isinstance(bio, str):
        m = re.match(r"\s*([A-Z][\w'.-]+(?: [A-Z][\w'.-]+){0,3})", bio)
        n = m.group(1) if m else None
    return str(n) if n else f"Person {_get(row, 'ID', 'id')}"


def parse_mllmu_row(row: Mapping) -> MllmuPerson:
    bio = _maybe_json(_get(row, "biography", "Biography"))
    pid = str(_get(row, "ID", "id"))
    img = _image_bytes(_get(row, "image", "images"))
    person = MllmuPerson(id=pid, name=_person_name(row, bio), image=img, biography=bio)
    ct = _maybe_json(_get(row, "Classification_Task", "Classify", default=None)) or {}
    groups = []
    if isinstance(ct, Mapping):
        groups = [(True, _get(ct, "Image_Textual_Questions", default=[])), (False, _get(ct, "Pure_Text_Questions", default=[]))]
    elif isinstance(ct, list):
        groups = [(True, ct)]
    for mm, qs in groups:
        for q in _maybe_json(qs) or []:
            opts = _norm_options(_get(q, "Options", "options"))
            if not opts:
                continue
            ans = _norm_answer(_get(q, "Correct_Answer", "Answer", "answer"), opts)
            text = _get(q, "Question", "question")
            if ans and text:
                person.questions.append(MllmuQuestion(str(text), opts, ans, mm and img is not None))
    q, a = _get(row, "question"), _get(row, "answer")
    if q and a:
        person.qa.append((str(q), str(a), img is not None))
    for g in _maybe_json(_get(row, "Generation_Task", "Generation", default=None)) or []:
        gq, ga = _get(g, "Question", "question"), _get(g, "Ground_Truth", "Answer", "answer")
        if gq and ga:
            t = str(_get(g, "Type", "type", default="Image_Textual")).lower()
            person.qa.append((str(gq), str(ga), img is not None and not ("pure" in t or "text_only" in t or t == "text")))
    return person


def read_mllmu(src_dir: str | os.PathLike) -> dict[str, list[MllmuPerson]]:
    """{config: [person]} from an MLLMU-Bench directory (published or synthetic)."""
    out = {}
    for cfg, files in mllmu_configs(src_dir).items():
        people = []
        for f in files:
            people.extend(parse_mllmu_row(r) for r in read_parquet_rows(f))
        out[cfg] = people
    if not out:
        raise DatasetError(f"no MLLMU-Bench parquet files under {src_dir}")
    return out


def read_mmbench_tsv(path: str | os.PathLike) -> list[dict]:
    """Rows of an MMBench TSV: {index, question, hint, options{A..D}, answer, category, image(bytes)}.

    Handles the published quirks: image cells that are a short reference to another row's index,
    rows with only 2-3 options (the missing ones become ""), and rows without an answer (skipped).
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"MMBench TSV not found: {p}")
    with p.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by_index = {str(r.get("index")): r for r in rows}
    out = []
    for r in rows:
        ans = (r.get("answer") or "").strip()
        if ans not in OPTION_LETTERS:
            continue
        opts = {x: ("" if (r.get(x) is None or str(r.get(x)).strip().lower() == "nan") else str(r.get(x))) for x in OPTION_LETTERS}
        img_cell = r.get("image") or ""
        if len(img_cell) <= 64 and img_cell in by_index:
            img_cell = by_index[img_cell].get("image") or ""
        hint = r.get("hint")
        hint = None if hint is None or str(hint).strip().lower() in ("", "nan") else str(hint)
        out.append({
            "index": str(r.get("index")), "question": str(r.get("question") or ""), "hint": hint, "options": opts,
            "answer": ans, "category": r.get("category") or r.get("l2-category") or None,
            "image": _image_bytes(img_cell) if img_cell else None,
        })
    return out


# ---------------------------------------------------------------------------------------------------------
# convert: published layouts -> canonical view


def _png_bytes(raw: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as im:
        if im.format == "PNG":
            return raw
        buf = io.BytesIO()
        im.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)


def _mmbench_rows(src_tsv: str | os.PathLike, lethe: Path, image_dir: str) -> Iterator[tuple[dict, str, str | None]]:
    """(row, question with its hint, image path relative to lethe/) of an MMBench TSV, images written as PNG."""
    (lethe / image_dir).mkdir(parents=True, exist_ok=True)
    for r in read_mmbench_tsv(src_tsv):
        rel = None
        if r["image"]:
            rel = f"{image_dir}/{_safe(r['index'])}.png"
            (lethe / rel).write_bytes(_png_bytes(r["image"]))
        yield r, (r["question"] if not r["hint"] else f"{r['hint']}\n{r['question']}"), rel


def convert(src_mllmu_dir: str | os.PathLike | None, src_mmbench_tsv: str | os.PathLike | None,
            out_dir: str | os.PathLike, dataset_id: str | None = None,
            general_train_tsv: str | os.PathLike | None = None) -> Dataset:
    """Write the canonical lethe/ view of MLLMU-Bench parquet files and an MMBench TSV into out_dir.

    Fictional people (FINETUNED) come from `Full_Set` when present, else from every other config except
    `Retain_Set` / `Test_Set` / `ft_Data`; celebrities (PRETRAINED) from `Retain_Set`. Training QA come from
    `ft_Data` rows plus each person row's `question`/`answer` and `Generation_Task`.
    Never-seen people (NEVER_SEEN, split "never_seen", lethe/eval/never_seen.jsonl) are the `Test_Set` people who
    are neither fictional nor celebrities (a test row of a known person asks that person again, so it is skipped);
    they get no training QA, since no one trains on them.
    """
    out = Path(out_dir)
    lethe = out / LETHE_DIR
    (lethe / "images").mkdir(parents=True, exist_ok=True)
    subjects: list[dict] = []
    people_items: list[dict] = []
    never_seen_items: list[dict] = []
    train_rows: list[dict] = []

    if src_mllmu_dir is not None:
        cfgs = read_mllmu(src_mllmu_dir)
        fictional: dict[str, MllmuPerson] = {}
        if MLLMU_FICTIONAL_FULL in cfgs:
            order = [MLLMU_FICTIONAL_FULL]
        else:
            order = sorted(c for c in cfgs if c not in (MLLMU_CELEBRITY, MLLMU_TEST, MLLMU_TRAIN))
        for c in order:
            for p in cfgs[c]:
                fictional.setdefault(p.id, p)
        celebs: dict[str, MllmuPerson] = {}
        for p in cfgs.get(MLLMU_CELEBRITY, []):
            celebs.setdefault(p.id, p)
        never_seen: dict[str, MllmuPerson] = {}
        for p in cfgs.get(MLLMU_TEST, []):
            if p.id not in fictional and p.id not in celebs:
                never_seen.setdefault(p.id, p)
        extra_qa: dict[str, list[MllmuPerson]] = {}
        for p in cfgs.get(MLLMU_TRAIN, []):
            extra_qa.setdefault(p.id, []).append(p)

        for split, knowledge, group, items in (("fictional", FINETUNED, fictional, people_items),
                                               ("celebrity", PRETRAINED, celebs, people_items),
                                               (NEVER_SEEN_SPLIT, NEVER_SEEN, never_seen, never_seen_items)):
            for p in group.values():
                sid = p.id if re.fullmatch(r"[A-Za-z][\w-]*", p.id) else f"{split[0]}{_safe(p.id)}"
                portrait = None
                if p.image:
                    portrait = f"images/{_safe(sid)}.png"
                    (lethe / portrait).write_bytes(_png_bytes(p.image))
                subjects.append({"id": sid, "name": p.name, "knowledge": knowledge, **({"portrait": portrait} if portrait else {})})
                counters = {"multimodal": 0, "text": 0}
                for q in p.questions:
                    mod = "multimodal" if q.multimodal and portrait else "text"
                    counters[mod] += 1
                    items.append({
                        "id": f"{sid}-{'mm' if mod == 'multimodal' else 'txt'}-{counters[mod]}", "split": split,
                        "modality": mod, "subjectId": sid, "category": None, "question": q.question,
                        "options": q.options, "answer": q.answer, "image": portrait if mod == "multimodal" else None})
                if knowledge == NEVER_SEEN:
                    continue
                qa = list(p.qa)
                for tp in extra_qa.get(p.id, []):
                    qa.extend(tp.qa)
                seen = set()
                for question, answer, mm in qa:
                    key = (question, answer, mm)
                    if key in seen:
                        continue
                    seen.add(key)
                    train_rows.append({"subjectId": sid, "question": question, "answer": answer,
                                       "image": portrait if (mm and portrait) else None})

    general_items: list[dict] = []
    if src_mmbench_tsv is not None:
        for r, q, rel in _mmbench_rows(src_mmbench_tsv, lethe, "images/general"):
            general_items.append({
                "id": f"mmbench-{r['index']}", "split": "general", "modality": "multimodal" if rel else "text",
                "subjectId": None, "category": r["category"], "question": q, "options": r["options"],
                "answer": r["answer"], "image": rel})
    # Asked as the audit asks them (prompts.mc_question), so a KL on them anchors what the audit scores.
    general_train = [{"question": mc_question(q, r["options"]), "answer": r["answer"], "image": rel}
                     for r, q, rel in _mmbench_rows(general_train_tsv, lethe, "images/general-train")] if general_train_tsv is not None else []

    did = dataset_id or _safe(out.resolve().name)
    (lethe / "subjects.json").write_text(json.dumps({"datasetId": did, "subjects": subjects}, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    _write_jsonl(lethe / "eval" / "people.jsonl", people_items)
    if never_seen_items:
        _write_jsonl(lethe / "eval" / "never_seen.jsonl", never_seen_items)
    _write_jsonl(lethe / "eval" / "general.jsonl", general_items)
    _write_jsonl(lethe / "train" / "people.jsonl", train_rows)
    if general_train:
        _write_jsonl(lethe / "train" / "general.jsonl", general_train)
    return Dataset(out)

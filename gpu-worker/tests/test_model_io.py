"""model_io: loading llava-hf directories offline, tiny random models, MC scoring."""
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from lethe_worker import model_io, scoring
from lethe_worker.prompts import mc_prompt


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return model_io.save_tiny_random(tmp_path_factory.mktemp("tiny") / "model", seed=3)


def test_llava_hf_layout(tiny_dir):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "preprocessor_config.json", "processor_config.json"):
        assert (tiny_dir / name).is_file(), name
    cfg = json.loads((tiny_dir / "config.json").read_text())
    assert cfg["architectures"] == ["LlavaForConditionalGeneration"]
    assert json.loads((tiny_dir / "preprocessor_config.json").read_text())["image_processor_type"] == "CLIPImageProcessor"


def test_load_llava_round_trip(tiny_dir, tmp_path):
    model, proc = model_io.load_llava(tiny_dir, device="cpu", dtype="float32")
    assert not model.training and next(model.parameters()).dtype == torch.float32
    ids = model_io.option_token_ids(proc.tokenizer)
    assert len(set(ids.values())) == 4
    assert proc.tokenizer.convert_tokens_to_ids("<image>") == model.config.image_token_index
    # <image> is one token in the text and expands to the vision tower's patch count
    prompt = mc_prompt("What is this person's occupation?", {"A": "a", "B": "b", "C": "c", "D": "d"}, True)
    enc = proc(text=[prompt], images=[Image.new("RGB", (64, 64), (9, 9, 9))], return_tensors="pt")
    n_img = int((enc["input_ids"] == model.config.image_token_index).sum())
    assert n_img == model_io.num_image_tokens(model) == 16
    img = tmp_path / "x.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(img)
    items = [
        {"id": "m", "split": "fictional", "modality": "multimodal", "question": "What is this person's occupation?",
         "options": {"A": "baker", "B": "pilot", "C": "lawyer", "D": "nurse"}, "answer": "B", "subjectId": "p1", "image_path": str(img)},
        {"id": "t", "split": "fictional", "modality": "text", "question": "Where was Ilsa Marrow born?",
         "options": {"A": "baker", "B": "pilot", "C": "lawyer", "D": "nurse"}, "answer": "C", "subjectId": "p1", "image": None},
    ]
    res = scoring.score_mc(model, proc, items, batch_size=2)
    assert [r["id"] for r in res] == ["m", "t"]
    # batching and left padding do not change the answer-position logits
    single = scoring.score_mc(model, proc, items[1:], batch_size=1)
    for x in "ABCD":
        assert abs(single[0]["logits"][x] - res[1]["logits"][x]) < 1e-4
    # save -> from_pretrained again gives identical logits
    model.save_pretrained(tmp_path / "again")
    proc.save_pretrained(tmp_path / "again")
    model2, proc2 = model_io.load_llava(tmp_path / "again")
    res2 = scoring.score_mc(model2, proc2, items)
    assert [r["logits"] for r in res2] == [r["logits"] for r in res]
    acc = scoring.accuracy_by_split(res)
    assert set(acc["fictional"]) == {"multimodal", "text", "all"}


def test_bad_model_dir(tmp_path):
    with pytest.raises(model_io.ModelLoadError):
        model_io.load_llava(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(model_io.ModelLoadError):
        model_io.load_llava(tmp_path / "empty")


def test_dtype_and_device_settings():
    assert model_io.resolve_dtype("bf16") == torch.bfloat16
    assert model_io.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert model_io.resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    with pytest.raises(ValueError):
        model_io.resolve_dtype("int3")

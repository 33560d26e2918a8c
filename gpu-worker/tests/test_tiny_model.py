"""The built tiny LLaVA (LETHE_TINY_MODEL_ROOT, built by scripts/lib/bootstrap.cjs before the tests)."""
import json
import math
import os
from pathlib import Path

import pytest
import torch

from lethe_worker import datasets, model_io, scoring
from lethe_worker.prompts import PROMPT_FORMATS, mc_prompt, qa_prompt
from lethe_worker.tiny import benchmark

ROOT = os.environ.get("LETHE_TINY_MODEL_ROOT")
pytestmark = pytest.mark.skipif(not ROOT, reason="LETHE_TINY_MODEL_ROOT is not set (npm test sets it)")

# The accuracy the tiny model must reach so that forgetting is measurable: well above chance on the people
# and general questions. The seed-1234 build of the committed builder meets them with a margin of 0.02 to 0.05
# (docs/research/tiny-model-notes.md). A build that learned nothing scores 0.25 +- 0.016 (fictional, 750 items
# per modality), +- 0.020 (celebrity, 450) and +- 0.024 (general, 320).
# Fictional text is 0.827 on seed 1234 since 30 % of the people's questions are learned in MLLMU-Bench's prompt too
# (docs/research/tiny-model-notes.md); the audit needs version 0 to know its people, not a particular level.
TARGETS = {("fictional", "multimodal"): 0.90, ("fictional", "text"): 0.80,
           ("celebrity", "all"): 0.85, ("general", "all"): 0.85}


@pytest.fixture(scope="module")
def built():
    root = Path(ROOT)
    model, proc = model_io.load_llava(root / "model", device="cpu", dtype="float32")
    ds = datasets.load_dataset(root / "dataset")
    return root, model, proc, ds


def test_llava_hf_layout_and_report(built):
    root, model, proc, ds = built
    m = root / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "preprocessor_config.json", "processor_config.json", "chat_template.jinja"):
        assert (m / name).is_file(), name
    report = json.loads((root / "build-report.json").read_text())
    assert {"pretrain", "finetune", "total"} <= set(report["seconds"])
    pc = json.loads((m / "processor_config.json").read_text())
    v = model.config.vision_config
    assert pc["patch_size"] == v.patch_size and pc["vision_feature_select_strategy"] == model.config.vision_feature_select_strategy
    assert json.loads((m / "preprocessor_config.json").read_text())["crop_size"] == {"height": v.image_size, "width": v.image_size}


def test_tokenizer_contract(built):
    _, model, proc, _ = built
    tok = proc.tokenizer
    ids = model_io.option_token_ids(tok)
    for x in "ABCD":
        assert tok.encode(f" {x}", add_special_tokens=False) == [ids[x]]
    assert tok.encode("<image>", add_special_tokens=False) == [model.config.image_token_index]
    assert tok.pad_token_id is not None and tok.pad_token_id != tok.eos_token_id
    assert tok.padding_side == "left"
    chat = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Who is this person?"}]}],
                                    add_generation_prompt=True)
    assert chat == qa_prompt("Who is this person?", True)


def test_round_trip_through_from_pretrained(built):
    """LlavaForConditionalGeneration + AutoProcessor load the directory offline and give identical logits."""
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    root, model, proc, ds = built
    raw_model = LlavaForConditionalGeneration.from_pretrained(str(root / "model"), local_files_only=True).eval()
    raw_proc = AutoProcessor.from_pretrained(str(root / "model"), local_files_only=True)
    items = ds.eval_items("fictional")[:6] + ds.general_items()[:2]
    a = scoring.score_mc(model, proc, items, batch_size=4)
    b = scoring.score_mc(raw_model, raw_proc, items, batch_size=8)
    for ra, rb in zip(a, b):
        for x in "ABCD":
            assert abs(ra["logits"][x] - rb["logits"][x]) < 1e-4
    sd1, sd2 = model.state_dict(), raw_model.state_dict()
    assert sd1.keys() == sd2.keys() and all(torch.equal(sd1[k], sd2[k]) for k in sd1)


def test_training_encoder_matches_the_processor(built):
    """The builder's own <image> expansion produces exactly the processor's input ids."""
    from PIL import Image

    from lethe_worker.tiny.train import Encoder

    _, model, proc, ds = built
    enc = Encoder(proc.tokenizer, model_io.num_image_tokens(model))
    it = ds.eval_items("fictional", modality="multimodal")[0]
    prompt = mc_prompt(it.question, it.options, True)
    got = proc(text=[prompt], images=[Image.open(it.image_path).convert("RGB")], return_tensors="pt")["input_ids"][0].tolist()
    assert enc.ids(prompt) == got


def test_accuracy_meets_the_targets(built):
    """Accuracy on the eval items meets TARGETS, and the build report scores the same checkpoint."""
    root, model, proc, ds = built
    res = scoring.score_mc(model, proc, ds.eval_items(), batch_size=128)
    acc = scoring.accuracy_by_split(res)
    report = json.loads((root / "build-report.json").read_text())
    for split in ("fictional", "celebrity", "general"):  # the report scores the same checkpoint
        assert abs(report["accuracy"][split]["all"] - acc[split]["all"]) < 1e-9
    missed = {f"{s}/{m}": round(acc[s][m], 3) for (s, m), target in TARGETS.items() if acc[s][m] < target}
    assert not missed, f"tiny model misses its accuracy targets {TARGETS}: {missed}"


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test: the probability of an outcome no likelier than k successes in n."""
    pmf = [math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[k] * (1 + 1e-9)))


def test_binomial_test_on_known_values():
    assert binomial_two_sided_p(5, 10, 0.5) == 1.0
    assert abs(binomial_two_sided_p(0, 10, 0.5) - 2 / 1024) < 1e-12
    assert binomial_two_sided_p(100, 250, 0.25) < 1e-6  # 0.40 on 250 four-option questions is knowledge


def test_never_seen_people_are_answered_at_chance(built):
    """Version 0 never saw them: in each modality its accuracy is not distinguishable from 0.25 (exact binomial test
    at 1 %), in both prompt formats. They are the reference a forgotten person is compared with."""
    _, model, proc, ds = built
    items = ds.never_seen_items()
    assert len({i.subjectId for i in items}) >= 50
    for prompt_format in PROMPT_FORMATS:
        for modality, acc in scoring.accuracy_by_modality(scoring.score_mc(model, proc, items, 128, prompt_format)).items():
            n = sum(i.modality == modality for i in items)
            p = binomial_two_sided_p(round(acc * n), n, 0.25)
            assert p >= 0.01, f"never-seen people, {modality}, {prompt_format}: accuracy {acc:.3f} of {n} is not chance (p={p:.2g})"


def test_mllmu_benchs_own_evaluation_sees_the_knowledge(built):
    """MLLMU-Bench's classification eval (its prompt, two-shot prefix, generated answers) on the forget_10 people is
    significantly above chance in both modalities: the model knows its people beyond Lethe's own prompt. It is not yet
    within 0.10 of the audit (0.41 / 0.35 against 0.95 / 0.83 on seed 1234; docs/research/tiny-model-notes.md)."""
    root, model, proc, ds = built
    forget10 = [p.id for p in datasets.read_mllmu(root / "dataset" / "MLLMU-Bench")["forget_10"]]
    bench = benchmark.classification_accuracy(model, proc, ds, forget10)
    for modality in ("multimodal", "text"):
        n = bench[f"{modality}Questions"]
        right = round(bench[modality] * n)
        p_value = sum(math.comb(n, k) * 0.25**k * 0.75 ** (n - k) for k in range(right, n + 1))
        assert p_value < 0.05, f"{modality}: {right}/{n} right in MLLMU-Bench's eval is not above chance (p = {p_value:.3f})"

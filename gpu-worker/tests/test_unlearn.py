"""unlearn(): artifacts, determinism, idempotency, sequential starts, reference models, and each bad input."""
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file

from conftest import dataset_subject, write_forget_set
from lethe_worker.artifacts import sha256_file
from lethe_worker.contracts import validate_adapter_manifest, validate_unlearn_output
from lethe_worker.errors import WorkerError
from lethe_worker.model_io import load_llava
from lethe_worker.unlearn import unlearn


def _published(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()) if root.exists() else []


def test_artifact_layout_manifest_and_peft_loadable(make_input, world):
    steps = []
    out = unlearn(make_input(), progress=lambda step, total: steps.append((step, total)))
    validate_unlearn_output(out)
    assert out["reused"] is False and out["steps"] == 2 and len(out["lossCurve"]) == 2
    assert steps == [(0, 2), (1, 2), (2, 2)]
    adapter = Path(out["adapter"]["path"])
    assert adapter.name == "adapter_model.safetensors" and sha256_file(adapter) == out["adapter"]["sha256"]
    assert sorted(p.name for p in adapter.parent.iterdir()) == ["adapter_config.json", "adapter_model.safetensors", "manifest.json"]
    manifest = json.loads(Path(out["manifestPath"]).read_text())
    validate_adapter_manifest(manifest)
    assert manifest["sha256"] == out["adapter"]["sha256"] and manifest["method"] == "ga" and manifest["parentSha256"] is None
    assert manifest["forgetExamples"]["multimodal"] > 0 and manifest["forgetExamples"]["text"] > 0
    assert manifest["tokensPerSecond"] > 0
    # peft key names: the adapter loads with PeftModel.from_pretrained and changes the model's output.
    base, _ = load_llava(world["model"])
    ids = torch.tensor([[5, 6, 7, 8]])
    before = base(input_ids=ids).logits
    tuned = PeftModel.from_pretrained(base, str(adapter.parent))
    assert not torch.allclose(tuned(input_ids=ids).logits, before)
    assert all(".lora_A." in k or ".lora_B." in k for k in load_file(str(adapter)))


def test_same_seed_gives_the_same_adapter_bytes(make_input, tmp_path):
    first = unlearn(make_input(outputRoot=str(tmp_path / "a")))
    second = unlearn(make_input(outputRoot=str(tmp_path / "b")))
    assert first["adapter"]["sha256"] == second["adapter"]["sha256"]
    other_seed = unlearn(make_input(outputRoot=str(tmp_path / "c"), seed=8))
    assert other_seed["adapter"]["sha256"] != first["adapter"]["sha256"]


def test_a_retry_reuses_the_artifact(make_input, tmp_path):
    payload = make_input()
    first = unlearn(payload)
    second = unlearn(payload)
    assert second["reused"] is True and first["reused"] is False
    assert second["adapter"] == first["adapter"] and second["lossCurve"] == first["lossCurve"]
    assert len(_published(Path(payload["outputRoot"]))) == 1, "one artifact directory, no leftovers"


def test_sequential_start_from_parent_adapter(make_input, fictional_ids):
    parent = unlearn(make_input(subject_ids=fictional_ids[:1]))
    # NPO's reference is the starting point; starting from the parent, the log-ratio is 0 at step 1,
    # so the first loss is exactly (2 / beta) * ln 2. This holds only if the weights start equal to the parent's.
    child_input = make_input(subject_ids=fictional_ids[1:2], method="npo", parentAdapter=parent["adapter"],
                             hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2, "npoBeta": 0.5})
    child = unlearn(child_input)
    assert child["lossCurve"][0] == pytest.approx(2 / 0.5 * math.log(2), rel=1e-5)
    manifest = json.loads(Path(child["manifestPath"]).read_text())
    assert manifest["parentSha256"] == parent["adapter"]["sha256"]
    child_tensors, parent_tensors = load_file(child["adapter"]["path"]), load_file(parent["adapter"]["path"])
    assert set(child_tensors) == set(parent_tensors)
    assert any(not torch.equal(child_tensors[k], parent_tensors[k]) for k in parent_tensors)


def test_set_up_keeps_the_activity_alive_for_each_reference_batch(make_input, tmp_path):
    # ga_klr and the general KL take reference values before the first step; each batch of them reports (0, total), so a
    # set-up longer than the heartbeat timeout is not cancelled.
    steps = []
    hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2, "generalKlWeight": 1}
    unlearn(make_input(outputRoot=str(tmp_path / "alive"), method="ga_klr", hyperParameters=hyper), progress=lambda step, total: steps.append((step, total)))
    set_up = steps[:steps.index((1, 2))]
    assert set_up == [(0, 2)] * len(set_up) and steps[len(set_up):] == [(1, 2), (2, 2)]
    # Retain and general references: two planned batches of 2 each at most, one call per batch, and one after them.
    assert 3 <= len(set_up) <= 5, set_up


def test_ga_klr_starts_with_zero_kl(make_input, tmp_path):
    # Same seed, same first forget batch, same ascent floor (ga_klr's default differs from ga's, so both are
    # pinned): the only difference at step 1 is the KL term, 0 at the reference.
    hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2, "ascentFloor": 0.05}
    ga = unlearn(make_input(outputRoot=str(tmp_path / "ga"), hyperParameters=hyper))
    klr = unlearn(make_input(outputRoot=str(tmp_path / "klr"), method="ga_klr", hyperParameters=hyper))
    assert klr["lossCurve"][0] == pytest.approx(ga["lossCurve"][0], abs=1e-5)
    assert klr["adapter"]["sha256"] != ga["adapter"]["sha256"]


def test_ga_klr_kl_reference_from_a_parent(make_input, fictional_ids, tmp_path):
    # From a parent adapter the two references differ: "start" is the parent (KL 0 at step 1, so the first
    # loss is plain GA's from the same parent), "base" is version 0, which the parent has moved away from.
    parent = unlearn(make_input(subject_ids=fictional_ids[:1], outputRoot=str(tmp_path / "parent"),
                                hyperParameters={"learningRate": 1e-2, "epochs": 1, "batchSize": 2, "maxSteps": 3}))
    hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 1, "ascentFloor": 0.05}

    def first_loss(method, **extra):
        out = unlearn(make_input(subject_ids=fictional_ids[1:2], method=method, parentAdapter=parent["adapter"],
                                 hyperParameters={**hyper, **extra}, outputRoot=str(tmp_path / f"{method}-{extra}")))
        return out["lossCurve"][0]

    ga = first_loss("ga")
    assert first_loss("ga_klr", klReference="start") == pytest.approx(ga, abs=1e-5)
    assert first_loss("ga_klr", klReference="base") > ga + 1e-4


def test_neverseen_kd_starts_at_the_teacher_distance_and_closes_it(make_input, tmp_path):
    # Step 1: the retain KL is 0 (the adapter starts at zero), so the loss is the KL from the never-seen teacher alone,
    # positive because the model knows the forgotten person better than a stranger; training brings it down. One batch
    # holds the person's every example, so each step sees the same ones (tiny LLaVA: 1.263, 0.863, 0.689).
    hyper = {"learningRate": 1e-2, "epochs": 3, "batchSize": 64, "maxSteps": 3}
    out = unlearn(make_input(outputRoot=str(tmp_path / "kd"), method="neverseen_kd", hyperParameters=hyper))
    curve = out["lossCurve"]
    assert len(curve) == 3 and all(math.isfinite(x) for x in curve)
    assert curve[0] > 0.1
    assert curve[0] > curve[1] > curve[2]
    manifest = json.loads(Path(out["manifestPath"]).read_text())
    assert manifest["method"] == "neverseen_kd" and manifest["retainExamples"] > 0


def test_cumulative_union_and_retain_exclusions(make_input, fictional_ids, world):
    from lethe_worker.datasets import load_dataset

    dataset = load_dataset(world["dataset"])
    union, excluded = fictional_ids[:2], fictional_ids[2]
    out = unlearn(make_input(subject_ids=union, method="graddiff", excludeFromRetain=[excluded]))
    manifest = json.loads(Path(out["manifestPath"]).read_text())
    forget_count = sum(len(dataset.training_examples(s)) for s in union)
    assert manifest["forgetExamples"]["text"] + manifest["forgetExamples"]["multimodal"] == forget_count
    retain_count = sum(len(dataset.training_examples(s.id)) for s in dataset.subjects if s.id not in (*union, excluded))
    assert manifest["retainExamples"] == retain_count


def test_hold_forgotten_term_is_zero_at_the_parent_and_needs_one(make_input, fictional_ids, tmp_path):
    # The term is a KL to the model the operation starts from, so at step 1 it adds exactly 0 when there is a
    # parent that forgot the earlier person; it changes the update, hence the adapter. Without a parent (or
    # with nobody forgotten earlier) there is nothing to hold and the run equals one without the term.
    earlier, requested = fictional_ids[0], fictional_ids[1]
    parent = unlearn(make_input(subject_ids=[earlier], outputRoot=str(tmp_path / "parent"),
                                hyperParameters={"learningRate": 1e-2, "epochs": 1, "batchSize": 2, "maxSteps": 3}))

    def run(weight, parent_adapter=parent["adapter"], exclude=(earlier,)):
        hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2, "holdForgottenWeight": weight}
        return unlearn(make_input(subject_ids=[requested], parentAdapter=parent_adapter, excludeFromRetain=list(exclude),
                                  hyperParameters=hyper, outputRoot=str(tmp_path / f"w{weight}-{parent_adapter is not None}-{len(exclude)}")))

    without, held = run(0), run(1)
    assert held["lossCurve"][0] == pytest.approx(without["lossCurve"][0], abs=1e-6)
    assert held["lossCurve"][1] != pytest.approx(without["lossCurve"][1], abs=1e-6), "from step 2 the held person pulls back"
    assert held["adapter"]["sha256"] != without["adapter"]["sha256"]
    assert run(1, exclude=())["adapter"]["sha256"] == without["adapter"]["sha256"]
    assert run(1, parent_adapter=None)["adapter"]["sha256"] == run(0, parent_adapter=None)["adapter"]["sha256"]


def test_hold_at_the_version_that_forgot_each_person(make_input, fictional_ids, tmp_path):
    # forgottenBy names, per earlier person, the version that forgot them; people it does not name are held at the
    # parent. Naming the parent itself is therefore the same run as naming nobody, byte for byte, and naming the
    # version before it (which had the first person where it forgot them) changes the update.
    first, second, third = fictional_ids[:3]
    fast = {"learningRate": 1e-2, "epochs": 1, "batchSize": 2, "maxSteps": 3}
    v1 = unlearn(make_input(subject_ids=[first], outputRoot=str(tmp_path / "v1"), hyperParameters=fast))
    v2 = unlearn(make_input(subject_ids=[second], parentAdapter=v1["adapter"], excludeFromRetain=[first],
                            outputRoot=str(tmp_path / "v2"), hyperParameters=fast))

    def run(name, forgotten_by, weight=1):
        hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 3, "holdForgottenWeight": weight}
        return unlearn(make_input(subject_ids=[third], parentAdapter=v2["adapter"], excludeFromRetain=[first, second],
                                  forgottenBy=forgotten_by, hyperParameters=hyper, outputRoot=str(tmp_path / name)))

    at_parent = run("none", [])
    named_parent = run("parent", [{"adapter": v2["adapter"], "datasetSubjectIds": [first, second]}])
    assert named_parent["adapter"]["sha256"] == at_parent["adapter"]["sha256"]
    assert json.loads(Path(named_parent["manifestPath"]).read_text())["heldAtSha256"] == [], "the parent is where training starts, not swapped in"
    each = [{"adapter": v1["adapter"], "datasetSubjectIds": [first]}, {"adapter": v2["adapter"], "datasetSubjectIds": [second]}]
    at_v1 = run("each", each)
    assert at_v1["adapter"]["sha256"] != at_parent["adapter"]["sha256"]
    assert json.loads(Path(at_v1["manifestPath"]).read_text())["heldAtSha256"] == [v1["adapter"]["sha256"]]
    assert json.loads(Path(at_parent["manifestPath"]).read_text())["heldAtSha256"] == []
    # Without the hold there is nothing to hold anywhere.
    assert run("off-each", each, weight=0)["adapter"]["sha256"] == run("off-none", [], weight=0)["adapter"]["sha256"]


def test_forgotten_by_must_name_earlier_people_once_with_their_adapter_bytes(make_input, fictional_ids, tmp_path):
    first, second = fictional_ids[:2]
    parent = unlearn(make_input(subject_ids=[first], outputRoot=str(tmp_path / "parent")))

    def payload(forgotten_by):
        return make_input(subject_ids=[second], parentAdapter=parent["adapter"], excludeFromRetain=[first], forgottenBy=forgotten_by,
                          hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 1, "holdForgottenWeight": 1},
                          outputRoot=str(tmp_path / "out"))

    _assert_fails(payload([{"adapter": {**parent["adapter"], "sha256": "0" * 64}, "datasetSubjectIds": [first]}]),
                  WorkerError.BAD_PARENT_ADAPTER, "forgottenBy[0].adapter.sha256")
    _assert_fails(payload([{"adapter": parent["adapter"], "datasetSubjectIds": [second]}]),
                  WorkerError.INVALID_INPUT, "forgottenBy[0].datasetSubjectIds", repr(second), "excludeFromRetain")
    _assert_fails(payload([{"adapter": parent["adapter"], "datasetSubjectIds": [first]}, {"adapter": parent["adapter"], "datasetSubjectIds": [first]}]),
                  WorkerError.INVALID_INPUT, "forgottenBy[1].datasetSubjectIds", repr(first))


def test_general_kl_holds_version_0_on_general_questions(make_input, fictional_ids, tmp_path):
    # The term is a KL to version 0 on general questions: 0 at step 1 of a first request (the new adapter is
    # version 0), above 0 from a parent that moved the model, and it changes the update either way.
    def run(weight, parent_adapter=None, name=""):
        hyper = {"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "maxSteps": 2, "generalKlWeight": weight}
        return unlearn(make_input(subject_ids=fictional_ids[1:2], parentAdapter=parent_adapter, hyperParameters=hyper,
                                  outputRoot=str(tmp_path / f"{name}w{weight}")))

    first, anchored = run(0), run(1)
    assert anchored["lossCurve"][0] == pytest.approx(first["lossCurve"][0], abs=1e-6)
    assert anchored["adapter"]["sha256"] != first["adapter"]["sha256"]
    parent = unlearn(make_input(subject_ids=fictional_ids[:1], outputRoot=str(tmp_path / "parent"),
                                hyperParameters={"learningRate": 1e-2, "epochs": 1, "batchSize": 2, "maxSteps": 3}))
    assert run(1, parent["adapter"], "p")["lossCurve"][0] > run(0, parent["adapter"], "p")["lossCurve"][0] + 1e-4


def test_general_kl_needs_general_questions(make_input, world, tmp_path):
    dataset = tmp_path / "dataset"
    shutil.copytree(world["dataset"], dataset, ignore=shutil.ignore_patterns("general.jsonl", "general-train"))
    payload = make_input(dataset={"path": str(dataset)}, hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 2, "generalKlWeight": 0.5})
    _assert_fails(payload, "INVALID_INPUT", "hyperParameters.generalKlWeight", "lethe/train/general.jsonl")


def _assert_fails(payload, code, *words):
    with pytest.raises(WorkerError) as e:
        unlearn(payload)
    assert e.value.code == code
    for word in words:
        assert word in e.value.message
    assert _published(Path(payload["outputRoot"])) == [], "a failed run leaves no artifact"


def test_missing_model_directory(make_input, tmp_path):
    _assert_fails(make_input(baseModel={"path": str(tmp_path / "no-model"), "id": "x"}), WorkerError.MODEL_NOT_FOUND, "no-model")


def test_unknown_method(make_input):
    _assert_fails(make_input(method="rmu"), WorkerError.UNKNOWN_METHOD, "rmu")


def test_empty_forget_set(make_input, tmp_path):
    _assert_fails(make_input(forgetSet=write_forget_set(tmp_path / "empty.json", [])), WorkerError.EMPTY_FORGET_SET)


def test_lora_target_that_matches_no_module(make_input):
    payload = make_input(lora={"rank": 4, "alpha": 8, "dropout": 0.0, "targets": ["q_proj", "no_such_proj"]})
    _assert_fails(payload, WorkerError.LORA_TARGET_NO_MATCH, "no_such_proj")


def test_nan_loss(make_input):
    payload = make_input(hyperParameters={"learningRate": 1e30, "epochs": 1, "batchSize": 1, "maxSteps": 6})
    _assert_fails(payload, WorkerError.NAN_LOSS, "learningRate")


def test_bad_forget_set_file(make_input, tmp_path):
    (tmp_path / "broken.json").write_text('{"subjects": [{"name": 3}]}')
    payload = make_input(forgetSet={"path": str(tmp_path / "broken.json"), "sha256": sha256_file(tmp_path / "broken.json")})
    _assert_fails(payload, WorkerError.BAD_FORGET_SET, "subjects.0")


def test_parent_adapter_sha_mismatch(make_input, tmp_path):
    parent = unlearn(make_input(outputRoot=str(tmp_path / "parents")))
    payload = make_input(parentAdapter={"path": parent["adapter"]["path"], "sha256": "f" * 64})
    _assert_fails(payload, WorkerError.BAD_PARENT_ADAPTER, "sha256")

"""Contract validation of unlearn inputs/outputs and forget-set files against contracts/*.schema.json."""
import json

import pytest

from lethe_worker import contracts
from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, LORA_PRESETS, METHODS, HyperParameters, UnlearnConfig
from lethe_worker.errors import WorkerError


def schema(name):
    return json.loads((contracts.CONTRACTS_DIR / name).read_text())


def test_python_method_and_preset_lists_match_the_schemas():
    assert list(METHODS) == schema("unlearn.input.schema.json")["properties"]["method"]["enum"]
    assert list(LORA_PRESETS) == schema("lora.schema.json")["properties"]["targets"]["oneOf"][0]["enum"]


def test_default_hyper_parameters_are_valid_contract_values(make_input):
    for method in METHODS:
        contracts.validate_unlearn_input(make_input(method=method, hyperParameters=DEFAULT_HYPER_PARAMETERS[method]))


def test_valid_input_parses_into_config(make_input):
    payload = make_input(method="npo", hyperParameters={"learningRate": 2e-4, "epochs": 3, "batchSize": 4})
    contracts.validate_unlearn_input(payload)
    cfg = UnlearnConfig.from_json(payload)
    assert cfg.method == "npo" and cfg.hyper.learning_rate == 2e-4 and cfg.hyper.epochs == 3
    # Optional hyper-parameters come from the method's defaults.
    assert cfg.hyper.npo_beta == HyperParameters.from_json("npo", DEFAULT_HYPER_PARAMETERS["npo"]).npo_beta
    assert cfg.lora.targets == "llm" and cfg.parent_adapter is None
    assert cfg.hyper.ascent_floor == 0.0, "without ascentFloor, gradient ascent is plain"
    floored = UnlearnConfig.from_json(make_input(method="ga_klr", hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 4, "ascentFloor": 0.05}))
    assert floored.hyper.ascent_floor == 0.05 and floored.hyper.to_json()["ascentFloor"] == 0.05
    assert floored.hyper.kl_reference == "base", "ga_klr anchors its retain KL to version 0 unless told otherwise"
    anchored = UnlearnConfig.from_json(make_input(method="ga_klr", hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 4, "klReference": "start"}))
    assert anchored.hyper.kl_reference == "start" and anchored.hyper.to_json()["klReference"] == "start"
    assert "ascentObjective" not in floored.hyper.to_json(), "a manifest names the objective only where it is not the plain ascent"
    odds = UnlearnConfig.from_json(make_input(method="ga_klr", hyperParameters={"learningRate": 1e-3, "epochs": 1, "batchSize": 4, "ascentObjective": "logOdds"}))
    assert odds.hyper.ascent_objective == "logOdds" and odds.hyper.to_json()["ascentObjective"] == "logOdds"


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p["hyperParameters"].update(learningRate=-1), "hyperParameters.learningRate"),
    (lambda p: p["hyperParameters"].update(ascentFloor=1), "hyperParameters.ascentFloor"),
    (lambda p: p["hyperParameters"].update(klReference="parent"), "hyperParameters.klReference"),
    (lambda p: p["hyperParameters"].update(ascentObjective="odds"), "hyperParameters.ascentObjective"),
    (lambda p: p["lora"].update(rank=0), "lora.rank"),
    (lambda p: p["lora"].update(targets=[]), "lora.targets"),
    (lambda p: p.update(parentAdapter={"path": "/x", "sha256": "nothex"}), "parentAdapter"),
    (lambda p: p.pop("seed"), "seed"),
    (lambda p: p.update(surprise=True), "surprise"),
])
def test_invalid_input_names_the_field(make_input, mutate, field):
    payload = make_input()
    mutate(payload)
    with pytest.raises(WorkerError) as e:
        contracts.validate_unlearn_input(payload)
    assert e.value.code == WorkerError.INVALID_INPUT
    assert field in str(e.value)


def test_unknown_method_has_its_own_code(make_input):
    with pytest.raises(WorkerError) as e:
        contracts.validate_unlearn_input(make_input(method="rmu"))
    assert e.value.code == WorkerError.UNKNOWN_METHOD and "rmu" in e.value.message


def test_forget_set_validation():
    with pytest.raises(WorkerError) as e:
        contracts.validate_forget_set({"subjects": []})
    assert e.value.code == WorkerError.EMPTY_FORGET_SET
    with pytest.raises(WorkerError) as e:
        contracts.validate_forget_set({"subjects": [{"requestId": "r", "datasetSubjectId": None, "images": [], "facts": []}]})
    assert e.value.code == WorkerError.BAD_FORGET_SET and "name" in e.value.message
    contracts.validate_forget_set({"subjects": [{"requestId": "r", "name": "N", "datasetSubjectId": "p1", "images": [], "facts": []}]})


def test_output_validation_rejects_a_bad_sha():
    good = {"adapter": {"path": "/a/adapter_model.safetensors", "sha256": "0" * 64}, "manifestPath": "/a/manifest.json",
            "lossCurve": [1.0], "steps": 1, "wallSeconds": 1.0, "tokensPerSecond": 10.0, "reused": False}
    contracts.validate_unlearn_output(good)
    with pytest.raises(WorkerError) as e:
        contracts.validate_unlearn_output({**good, "adapter": {"path": "/a", "sha256": "xyz"}})
    assert "adapter.sha256" in str(e.value)

"""The unlearning defaults come from contracts/unlearning-defaults.json, the document the service reads too."""
import copy

import pytest

from lethe_worker import contracts
from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA, METHODS, UNLEARNING_DEFAULTS, HyperParameters
from lethe_worker.errors import WorkerError

# The same values test/control/unlearning-defaults.test.ts expects of the TypeScript side.
GA_KLR = {"learningRate": 0.001, "epochs": 12, "batchSize": 4, "ascentFloor": 0.05, "klReference": "base", "holdForgottenWeight": 1}
NPO = {"learningRate": 0.001, "epochs": 2, "batchSize": 8, "npoBeta": 0.1}
LORA = {"rank": 8, "alpha": 16, "dropout": 0, "targets": "projector+llm"}


def validate_defaults(document):
    contracts.validate("unlearning-defaults.schema.json", document, "unlearning defaults")


def test_the_document_matches_its_schema():
    validate_defaults(UNLEARNING_DEFAULTS)


@pytest.mark.parametrize("mutate", [
    lambda d: d["methods"]["ga"].update(maxSteps=10),
    lambda d: d["methods"].pop("npo"),
    lambda d: d["unsetHyperParameters"].pop("klWeight"),
    lambda d: d["maxima"]["hyperParameters"].update(epochs=0),
    lambda d: d.update(method="sgd"),
])
def test_the_schema_refuses_a_broken_document(mutate):
    document = copy.deepcopy(UNLEARNING_DEFAULTS)
    mutate(document)
    with pytest.raises(WorkerError):
        validate_defaults(document)


def test_the_profile_values_both_runtimes_read():
    assert UNLEARNING_DEFAULTS["method"] == "ga_klr"
    assert DEFAULT_HYPER_PARAMETERS["ga_klr"] == GA_KLR and DEFAULT_HYPER_PARAMETERS["npo"] == NPO
    assert DEFAULT_LORA == LORA
    assert UNLEARNING_DEFAULTS["passes"] == {"reforgetPasses": 3, "reforgetAboveAccuracy": 0.2, "goalPasses": 3, "goalPassAscentObjective": "logOdds"}
    assert set(DEFAULT_HYPER_PARAMETERS) == set(METHODS)


def test_an_omitted_hyper_parameter_takes_the_method_default_then_the_unset_value():
    ga_klr = HyperParameters.from_json("ga_klr", {})
    assert (ga_klr.epochs, ga_klr.batch_size, ga_klr.ascent_floor, ga_klr.kl_reference, ga_klr.hold_forgotten_weight) == (12, 4, 0.05, "base", 1.0)
    assert (ga_klr.kl_weight, ga_klr.general_kl_weight, ga_klr.ascent_objective, ga_klr.max_steps) == (1.0, 0.0, "logProb", None)
    npo = HyperParameters.from_json("npo", {"epochs": 3})
    assert (npo.epochs, npo.batch_size, npo.npo_beta, npo.kl_reference, npo.ascent_floor, npo.hold_forgotten_weight) == (3, 8, 0.1, "start", 0.0, 0.0)


def test_every_default_is_within_the_maxima():
    maxima = UNLEARNING_DEFAULTS["maxima"]
    for method, values in DEFAULT_HYPER_PARAMETERS.items():
        for key, value in values.items():
            if key in maxima["hyperParameters"]:
                assert value <= maxima["hyperParameters"][key], f"{method}.{key}"
    assert all(DEFAULT_LORA[key] <= maxima["lora"][key] for key in ("rank", "alpha", "dropout"))
    assert UNLEARNING_DEFAULTS["passes"]["reforgetPasses"] <= maxima["reforgetPasses"]

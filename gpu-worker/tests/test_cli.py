"""lethe_worker.cli serve: the line protocol the PULSE benchmark (bench/pulse/) speaks to the engine."""
from __future__ import annotations

import json

from lethe_worker import cli
from lethe_worker.config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA


def _serve(*requests) -> list[dict]:
    out: list[dict] = []
    cli.serve([r if isinstance(r, str) else json.dumps(r) for r in requests], out.append)
    return out


def test_defaults_are_the_engine_config():
    [answer] = _serve({"id": 7, "op": "defaults", "payload": {}})
    assert answer == {"id": 7, "result": {"hyperParameters": DEFAULT_HYPER_PARAMETERS, "lora": DEFAULT_LORA}}


def test_unknown_op_and_bad_lines_are_typed_errors_and_serving_goes_on():
    answers = _serve("not json", {"id": 1, "op": "train", "payload": {}}, {"id": 2, "op": "unlearn", "payload": []}, {"id": 3, "op": "defaults", "payload": {}})
    assert answers[0]["error"]["code"] == "INVALID_INPUT" and "not JSON" in answers[0]["error"]["message"]
    assert answers[1] == {"id": 1, "error": {"code": "INVALID_INPUT", "message": "op: must be 'unlearn', 'export_onnx' or 'defaults', got 'train'"}}
    assert answers[2]["error"]["message"] == "payload: must be a JSON object"
    assert "result" in answers[3]


def test_contract_violation_is_reported_with_the_request_id():
    [answer] = _serve({"id": "x", "op": "unlearn", "payload": {"method": "ga"}})
    assert answer["id"] == "x"
    assert "error" in answer and answer["error"]["message"]

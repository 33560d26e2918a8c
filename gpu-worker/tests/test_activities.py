"""The Temporal activities as functions: heartbeats and non-retryable errors (temporalio's ActivityEnvironment)."""
import io

import pytest
from PIL import Image
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from conftest import write_forget_set
from lethe_worker.activities import ACTIVITIES, EXPORT_ONNX_ACTIVITY, UNLEARN_ACTIVITY, unlearn_activity
from lethe_worker.errors import WorkerError


def test_activity_names():
    assert sorted(a.__temporal_activity_definition.name for a in ACTIVITIES) == sorted([UNLEARN_ACTIVITY, EXPORT_ONNX_ACTIVITY])
    assert (UNLEARN_ACTIVITY, EXPORT_ONNX_ACTIVITY) == ("unlearn", "export_onnx")


def test_unlearn_heartbeats_step_of_total(make_input):
    env = ActivityEnvironment()
    beats = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    out = env.run(unlearn_activity, make_input())
    assert beats == ["0/2", "1/2", "2/2"]
    assert out["steps"] == 2 and out["reused"] is False


def test_bad_input_is_a_non_retryable_application_error(make_input, tmp_path):
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as e:
        env.run(unlearn_activity, make_input(baseModel={"path": str(tmp_path / "nowhere"), "id": "x"}))
    assert e.value.non_retryable is True
    assert e.value.type == WorkerError.MODEL_NOT_FOUND
    assert "nowhere" in e.value.message


def test_an_unreadable_image_fails_its_step_at_once_without_retries(make_input, tmp_path):
    """Before the model is loaded: a retry could not succeed and would hold the one GPU queue."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buffer, format="PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(buffer.getvalue()[:-40])
    subject = {"requestId": "req-broken", "name": "Jane Roe", "datasetSubjectId": None, "images": [str(truncated)], "facts": []}
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as e:
        env.run(unlearn_activity, make_input(forgetSet=write_forget_set(tmp_path / "forget-broken.json", [subject])))
    assert e.value.non_retryable is True
    assert e.value.type == WorkerError.UNREADABLE_IMAGE
    assert "req-broken" in e.value.message and "cut.png" in e.value.message

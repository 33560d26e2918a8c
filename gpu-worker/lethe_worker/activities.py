"""Thin Temporal adapter: activities `unlearn` and `export_onnx` over the plain functions.

Activities are synchronous and run in the worker's thread pool (one at a time: one GPU). Progress
callbacks heartbeat "step/total" from the activity thread; WorkerError becomes a non-retryable
ApplicationError whose type is the error code.
"""
from __future__ import annotations

from typing import Any, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from .errors import WorkerError
from .unlearn import unlearn

UNLEARN_ACTIVITY = "unlearn"
EXPORT_ONNX_ACTIVITY = "export_onnx"


def _heartbeat(step: int, total: int) -> None:
    activity.heartbeat(f"{step}/{total}")
    # A sync activity cannot be interrupted; the progress callback is where it notices a cancellation
    # (workflow cancel, heartbeat timeout, or the worker's graceful shutdown running out).
    if activity.is_cancelled():
        raise CancelledError("activity cancelled")


def _run(work: Callable[..., dict[str, Any]], payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return work(payload, _heartbeat)
    except WorkerError as e:
        raise ApplicationError(e.message, type=e.code, non_retryable=True) from e


@activity.defn(name=UNLEARN_ACTIVITY)
def unlearn_activity(payload: dict[str, Any]) -> dict[str, Any]:
    return _run(unlearn, payload)


@activity.defn(name=EXPORT_ONNX_ACTIVITY)
def export_onnx_activity(payload: dict[str, Any]) -> dict[str, Any]:
    # Imported on first use: the export code is owned elsewhere and must not block the unlearn activity.
    from .export_onnx import export_onnx

    return _run(export_onnx, payload)


ACTIVITIES = [unlearn_activity, export_onnx_activity]

"""Temporal round trip: the real dev server, the worker process, and a workflow calling `unlearn` by name."""
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from lethe_worker.artifacts import sha256_file
from lethe_worker.errors import WorkerError
from lethe_worker.worker import READY_LINE

WORKER_DIR = Path(__file__).resolve().parents[1]


@workflow.defn
class UnlearnByName:
    @workflow.run
    async def run(self, args: dict) -> dict:
        return await workflow.execute_activity(
            "unlearn", args["input"], task_queue=args["queue"],
            start_to_close_timeout=timedelta(minutes=5), heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100)),
        )


class WorkerProcess:
    """`python -m lethe_worker.worker` as a child process, with its stderr collected."""

    def __init__(self, address: str, task_queue: str):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lethe_worker.worker", "--address", address, "--namespace", "default", "--task-queue", task_queue],
            cwd=WORKER_DIR, env={**os.environ, "PYTHONPATH": str(WORKER_DIR), "LETHE_TORCH_THREADS": "1"},
            stderr=subprocess.PIPE, text=True,
        )
        threading.Thread(target=lambda: self.lines.extend(iter(self.proc.stderr.readline, "")), daemon=True).start()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not any(READY_LINE in line for line in self.lines):
            assert self.proc.poll() is None, f"worker exited early:\n{''.join(self.lines)}"
            assert time.monotonic() < deadline, f"worker not ready after {timeout}s:\n{''.join(self.lines)}"
            time.sleep(0.2)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def test_unlearn_through_temporal(make_input, tmp_path):
    temporal_bin = os.environ.get("LETHE_TEMPORAL_BIN")
    assert temporal_bin and Path(temporal_bin).is_file(), "LETHE_TEMPORAL_BIN must name the temporal CLI (npm test sets it)"
    good_input = make_input()
    bad_input = make_input(lora={"rank": 4, "alpha": 8, "dropout": 0.0, "targets": ["no_such_proj"]})
    task_queue = f"gpu-test-{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_bin, dev_server_database_filename=str(tmp_path / "temporal.db"),
        ) as env:
            worker = WorkerProcess(env.client.service_client.config.target_host, task_queue)
            try:
                await asyncio.to_thread(worker.wait_ready)
                async with Worker(env.client, task_queue="workflows-test", workflows=[UnlearnByName],
                                  workflow_runner=UnsandboxedWorkflowRunner()):
                    result = await env.client.execute_workflow(
                        UnlearnByName.run, {"input": good_input, "queue": task_queue},
                        id=f"unlearn-{uuid.uuid4()}", task_queue="workflows-test")
                    with pytest.raises(WorkflowFailureError) as failure:
                        await env.client.execute_workflow(
                            UnlearnByName.run, {"input": bad_input, "queue": task_queue},
                            id=f"unlearn-bad-{uuid.uuid4()}", task_queue="workflows-test")
            finally:
                exit_code = await asyncio.to_thread(worker.stop)
            return result, failure.value, exit_code, worker.lines

    result, failure, exit_code, lines = asyncio.run(scenario())
    assert result["reused"] is False and result["steps"] == 2
    assert sha256_file(Path(result["adapter"]["path"])) == result["adapter"]["sha256"]
    activity_error = failure.cause
    assert isinstance(activity_error, ActivityError) and isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == WorkerError.LORA_TARGET_NO_MATCH and activity_error.cause.non_retryable
    assert "no_such_proj" in activity_error.cause.message
    assert activity_error.retry_state is not None and "NON_RETRYABLE" in activity_error.retry_state.name
    assert exit_code == 0, "".join(lines)
    assert any("stopped" in line for line in lines), "".join(lines)

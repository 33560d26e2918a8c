"""The GPU worker process: `python -m lethe_worker.worker --address 127.0.0.1:7233 --namespace default --task-queue gpu`.

Serves activities `unlearn` and `export_onnx`, one at a time (one GPU), until SIGTERM/SIGINT; then it stops
polling and lets a running activity finish within --graceful-seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from .activities import ACTIVITIES

log = logging.getLogger("lethe_worker")
READY_LINE = "lethe worker ready"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lethe_worker.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    parser.add_argument("--task-queue", default=os.environ.get("LETHE_GPU_TASK_QUEUE", "gpu"))
    parser.add_argument("--graceful-seconds", type=float, default=30.0,
                        help="on shutdown, how long a running activity may continue before it is cancelled")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    client = await Client.connect(args.address, namespace=args.namespace)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="activity") as executor:
        worker = Worker(
            client,
            task_queue=args.task_queue,
            activities=ACTIVITIES,
            activity_executor=executor,
            max_concurrent_activities=1,
            graceful_shutdown_timeout=timedelta(seconds=args.graceful_seconds),
        )
        async with worker:
            log.info("%s: task queue %s, namespace %s, server %s", READY_LINE, args.task_queue, args.namespace, args.address)
            await stop.wait()
            log.info("shutting down: no new activities; waiting for the running one")
    log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    if "LETHE_TORCH_THREADS" in os.environ:
        import torch

        torch.set_num_threads(int(os.environ["LETHE_TORCH_THREADS"]))

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(args, stop)

    asyncio.run(serve())
    # The Temporal SDK's native runtime keeps threads that may touch the interpreter while it finalizes,
    # which aborts the process (SIGABRT, "PyGILState_Release: thread state ... must be current";
    # temporalio/sdk-python#300), so a clean stop would exit -6 now and then. Every activity has
    # finished and every log line is written by now: skip finalization.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

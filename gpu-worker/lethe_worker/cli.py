"""Line-oriented entry point for callers outside Temporal (the PULSE benchmark in bench/pulse/).

`python -m lethe_worker.cli serve` reads one JSON request per stdin line,
    {"id": <any>, "op": "unlearn" | "export_onnx" | "defaults", "payload": {...contract input...}}
and answers on stdout, one JSON object per line, all carrying the request's id:
    {"id", "progress": [step, total]}       while unlearn trains
    {"id", "result": {...contract output...}}
    {"id", "error": {"code", "message"}}
One process serves many requests, so torch and transformers are imported once.
It only composes the public functions `unlearn.unlearn` and `export_onnx.export_onnx`; `defaults`
returns config.py's per-method hyper-parameters and LoRA settings so callers need not copy them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, Mapping

import torch

from .config import DEFAULT_HYPER_PARAMETERS, DEFAULT_LORA
from .errors import WorkerError
from .export_onnx import export_onnx
from .unlearn import unlearn

Emit = Callable[[Mapping[str, Any]], None]


def handle(request: Mapping[str, Any], emit: Emit) -> None:
    """Runs one request and emits its progress, then its result or a typed error."""
    request_id = request.get("id")
    op = request.get("op")
    payload = request.get("payload")
    try:
        if not isinstance(payload, dict):
            raise WorkerError(WorkerError.INVALID_INPUT, "payload: must be a JSON object")
        if op == "unlearn":
            result = unlearn(payload, lambda step, total: emit({"id": request_id, "progress": [step, total]}))
        elif op == "export_onnx":
            result = export_onnx(payload)
        elif op == "defaults":
            result = {"hyperParameters": DEFAULT_HYPER_PARAMETERS, "lora": DEFAULT_LORA}
        else:
            raise WorkerError(WorkerError.INVALID_INPUT, f"op: must be 'unlearn', 'export_onnx' or 'defaults', got {op!r}")
        emit({"id": request_id, "result": result})
    except WorkerError as e:
        emit({"id": request_id, "error": {"code": e.code, "message": e.message}})
    except Exception as e:  # a contract violation (jsonschema) or an unexpected failure: report it, keep serving
        emit({"id": request_id, "error": {"code": type(e).__name__, "message": str(e).splitlines()[0] if str(e) else repr(e)}})


def serve(lines, emit: Emit) -> None:
    for line in lines:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as e:
            emit({"id": None, "error": {"code": WorkerError.INVALID_INPUT, "message": f"request is not JSON: {e}"}})
            continue
        handle(request if isinstance(request, dict) else {}, emit)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lethe_worker.cli", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("LETHE_TORCH_THREADS", "2")))

    def emit(message: Mapping[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    serve(sys.stdin, emit)


if __name__ == "__main__":
    main()

"""The GPU check's CPU mode (--reduced) runs end to end, so the script cannot rot between GPU hosts.

It runs in a child process where Pillow, jsonschema and pyarrow cannot be imported: the GPU check promises to need
only torch, transformers, peft, safetensors (and tokenizers) on the GPU host.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

BENCH_PYTHON = Path(__file__).resolve().parents[1]
WORKER = BENCH_PYTHON.parents[1] / "gpu-worker"
BLOCKED = ("PIL", "jsonschema", "referencing", "pyarrow", "onnxscript", "temporalio")

RUN = f"""
import sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of it raises ImportError
from lethe_bench.gpu_check import main
main(sys.argv[1:])
"""


def test_reduced_mode_runs_every_method_and_the_ga_py_loop_without_pillow_or_jsonschema():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER), str(BENCH_PYTHON)]), "LETHE_TORCH_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", RUN, "--reduced", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["reduced"] is True and report["device"] == "cpu" and report["dtype"] == "float32"
    assert report["image_tokens"] == 576 and report["sequence_tokens"][0] > 576
    assert report["trainable_path_parameters"] < report["parameters"]
    assert report["mfu_formula"].startswith("6 * trainable_path_parameters")
    rows = {**report["methods"], "ga.py": report["baseline_ga_py"]}
    from lethe_worker.config import METHODS

    assert set(rows) == {*METHODS, "ga.py"}
    for name, row in rows.items():
        assert "error" not in row, (name, row)
        assert row["steps"] == 1 and row["tokens"] > 576 and math.isfinite(row["tokens_per_s"]) and row["tokens_per_s"] > 0, (name, row)
        assert row["mfu"] is None  # no peak FLOPs on a CPU unless --peak-tflops
    # the retain batch counts too: ga_klr and graddiff train on twice the tokens of ga at the same batch size
    assert rows["ga_klr"]["tokens"] > rows["ga"]["tokens"] and rows["graddiff"]["tokens"] > rows["ga"]["tokens"]

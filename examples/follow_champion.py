#!/usr/bin/env python3
"""Follow a Lethe lineage's champion on an external model server.

Lethe notifies a webhook when a lineage's champion changes (CloudEvents 1.0 JSON, types
``lethe.version.promoted`` and ``lethe.version.rolled_back``, data ``{lineage, version, adapterSha256,
manifestUrl}``). This receiver verifies the notification's signature, reads the champion's manifest (the
manifest, not the event, is the truth: events can arrive late or twice), downloads the adapter, checks its
sha256, and switches the server to it: load the new adapter, switch, unload the old one.

Two backends (docs/serving.md says which LoRA targets each can load):

  vllm          a running vLLM OpenAI server started with --enable-lora and
                VLLM_ALLOW_RUNTIME_LORA_UPDATING=True; adapters are loaded through
                /v1/load_lora_adapter and unloaded through /v1/unload_lora_adapter. Clients ask for the model
                name this receiver serves at GET /current (the champion's adapter name, or the base model).
  transformers  a transformers + peft model held in this process (the same code a custom server embeds).

Usage:
  LETHE_URL=http://lethe:3000 LETHE_TOKEN=<SERVING token> LETHE_WEBHOOK_SECRET=<subscription secret> \\
    python follow_champion.py --lineage default --backend vllm --vllm-url http://127.0.0.1:8000 \\
      --base-model llava-hf/llava-1.5-7b-hf --adapters-dir /var/lib/lethe-adapters --port 8080

Standard library only, except the transformers backend (torch, transformers, peft).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EVENT_TYPES = {"lethe.version.promoted", "lethe.version.rolled_back"}
# A signed notification older (or newer) than this is refused: a captured one cannot be replayed later.
TOLERANCE_SECONDS = 300


# ---------------------------------------------------------------------------------------------
# Signature: header `lethe-signature: t=<unix seconds>,v1=<hex>`, v1 = HMAC-SHA256 of `${t}.${body}`
# with the subscription secret. Several v1 values may be present while a secret rotates.


def verify_signature(secret: str, header: str | None, body: bytes, now: float | None = None) -> bool:
    if not header:
        return False
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


# ---------------------------------------------------------------------------------------------
# Lethe's model endpoints (a SERVING token)


class Lethe:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def _get(self, url: str) -> tuple[bytes, dict[str, str]]:
        request = urllib.request.Request(url if url.startswith("http") else self.url + url,
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.read(), {k.lower(): v for k, v in response.headers.items()}

    def champion(self, lineage: str) -> dict:
        body, _ = self._get(f"/models/{lineage}/champion")
        return json.loads(body)

    def download_adapter(self, manifest: dict, into: Path) -> Path:
        """adapter_model.safetensors + adapter_config.json in a peft directory; the weights' sha256 checked."""
        target = into / f"{manifest['lineage']}-v{manifest['version']}"
        if (target / "adapter_model.safetensors").exists():
            return target
        partial = into / f".{target.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        weights, _ = self._get(manifest["adapterUrl"])
        actual = hashlib.sha256(weights).hexdigest()
        if actual != manifest["adapterSha256"]:
            shutil.rmtree(partial)
            raise RuntimeError(f"adapter of v{manifest['version']} has sha256 {actual}, the manifest says {manifest['adapterSha256']}")
        (partial / "adapter_model.safetensors").write_bytes(weights)
        config, _ = self._get(manifest["adapterConfigUrl"])
        (partial / "adapter_config.json").write_bytes(config)
        partial.rename(target)  # complete or absent: a crash never leaves half an adapter under the final name
        return target


# ---------------------------------------------------------------------------------------------
# Backends: load(name, dir), switch(name or None for the base model), unload(name)


class VllmBackend:
    def __init__(self, url: str, base_model: str):
        self.url = url.rstrip("/")
        self.base_model = base_model

    def _post(self, path: str, payload: dict) -> None:
        request = urllib.request.Request(self.url + path, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600):
            pass

    def load(self, name: str, directory: Path) -> None:
        self._post("/v1/load_lora_adapter", {"lora_name": name, "lora_path": str(directory)})

    def switch(self, name: str | None) -> None:
        # vLLM serves every loaded adapter under its own model name; the switch is which name clients are told
        # to use (GET /current on this receiver).
        pass

    def unload(self, name: str) -> None:
        self._post("/v1/unload_lora_adapter", {"lora_name": name})

    def model_name(self, name: str | None) -> str:
        return name or self.base_model


class TransformersBackend:
    """A peft-wrapped LlavaForConditionalGeneration held in this process."""

    def __init__(self, base_model: str):
        import torch
        from transformers import AutoProcessor, LlavaForConditionalGeneration

        self.base = LlavaForConditionalGeneration.from_pretrained(base_model, dtype=torch.bfloat16 if torch.cuda.is_available() else torch.float32)
        self.processor = AutoProcessor.from_pretrained(base_model)
        self.model = self.base  # becomes a PeftModel on the first adapter
        self.base_model = base_model
        self.lock = threading.Lock()  # generation holds it too: a switch never lands mid-answer

    def load(self, name: str, directory: Path) -> None:
        from peft import PeftModel

        with self.lock:
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(str(directory), adapter_name=name)
            else:
                self.model = PeftModel.from_pretrained(self.base, str(directory), adapter_name=name)
            self.model.eval()

    def switch(self, name: str | None) -> None:
        from peft import PeftModel

        with self.lock:
            if not isinstance(self.model, PeftModel):
                return
            if name is None:
                self.model.base_model.disable_adapter_layers()  # version 0: the base model answers
            else:
                self.model.base_model.enable_adapter_layers()
                self.model.set_adapter(name)

    def unload(self, name: str) -> None:
        with self.lock:
            self.model.delete_adapter(name)

    def model_name(self, name: str | None) -> str:
        return name or self.base_model


# ---------------------------------------------------------------------------------------------


class ChampionFollower:
    def __init__(self, lethe: Lethe, backend, lineage: str, adapters_dir: Path):
        self.lethe = lethe
        self.backend = backend
        self.lineage = lineage
        self.adapters_dir = adapters_dir
        self.current: str | None = None  # the loaded adapter's name; None = the base model
        self.version: int | None = None
        self.lock = threading.Lock()  # one switch at a time; notifications may arrive together

    def sync(self) -> None:
        """Makes the server answer with the lineage's champion now (at start, and on every notification)."""
        with self.lock:
            manifest = self.lethe.champion(self.lineage)
            if manifest["version"] == self.version:
                return  # a repeated or late notification: nothing to do
            old = self.current
            if manifest["adapterSha256"] is None:
                new = None  # version 0: the base model, no adapter
            else:
                new = f"{self.lineage}-v{manifest['version']}"
                directory = self.lethe.download_adapter(manifest, self.adapters_dir)
                self.backend.load(new, directory)  # 1. load the new adapter beside the old one
            self.backend.switch(new)  # 2. switch: answers come from the champion from here on
            self.current, self.version = new, manifest["version"]
            if old is not None and old != new:
                self.backend.unload(old)  # 3. unload the old adapter
            print(f"[follow] {self.lineage}: now version {manifest['version']} "
                  f"({manifest['adapterSha256'] or 'base model'})", flush=True)


def make_handler(follower: ChampionFollower, secret: str):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/current":
                return self._reply(404, {"error": "not found"})
            self._reply(200, {"lineage": follower.lineage, "version": follower.version,
                              "model": follower.backend.model_name(follower.current)})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not verify_signature(secret, self.headers.get("lethe-signature"), body):
                return self._reply(401, {"error": "bad or missing lethe-signature"})
            try:
                event = json.loads(body)
            except json.JSONDecodeError:
                return self._reply(400, {"error": "body is not JSON"})
            if event.get("specversion") != "1.0" or event.get("type") not in EVENT_TYPES:
                return self._reply(202, {"ignored": event.get("type")})  # other events are not ours
            if (event.get("data") or {}).get("lineage") != follower.lineage:
                return self._reply(202, {"ignored": "another lineage"})
            try:
                follower.sync()
            except Exception as error:  # Lethe retries a failed delivery with backoff
                return self._reply(503, {"error": str(error)})
            self._reply(200, {"version": follower.version})

        def log_message(self, fmt: str, *args) -> None:
            sys.stderr.write("[follow] " + fmt % args + "\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lineage", required=True)
    parser.add_argument("--backend", choices=["vllm", "transformers"], required=True)
    parser.add_argument("--base-model", required=True, help="the model id (vLLM) or llava-hf directory (transformers)")
    parser.add_argument("--vllm-url", default="http://127.0.0.1:8000")
    parser.add_argument("--adapters-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    lethe = Lethe(os.environ["LETHE_URL"], os.environ["LETHE_TOKEN"])
    backend = VllmBackend(args.vllm_url, args.base_model) if args.backend == "vllm" else TransformersBackend(args.base_model)
    args.adapters_dir.mkdir(parents=True, exist_ok=True)
    follower = ChampionFollower(lethe, backend, args.lineage, args.adapters_dir)
    follower.sync()  # catch up with promotions made while this receiver was down
    server = ThreadingHTTPServer((args.host, args.port), make_handler(follower, os.environ["LETHE_WEBHOOK_SECRET"]))
    print(f"[follow] listening on {args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""Adapter artifacts: a directory per input hash, published by an atomic rename so a partial one is never visible."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

ADAPTER_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG_FILE = "adapter_config.json"
MANIFEST_FILE = "manifest.json"


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_digest(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of an activity input: a retry of the same input lands in the same place."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_dir(output_root: Path, payload: Mapping[str, Any]) -> Path:
    return output_root / input_digest(payload)


def read_manifest(directory: Path) -> Optional[dict[str, Any]]:
    """The manifest of a complete artifact, or None when there is none. A published directory is always
    complete (it appears by rename), but its adapter bytes are checked against the manifest anyway."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text())
    adapter = directory / ADAPTER_FILE
    if not adapter.is_file() or sha256_file(adapter) != manifest["sha256"]:
        raise RuntimeError(f"artifact {directory} is corrupt: {ADAPTER_FILE} does not match manifest sha256")
    return manifest


def publish(final_dir: Path, write: Callable[[Path], None]) -> bool:
    """Runs `write(tmp_dir)` then renames tmp_dir to final_dir. Returns False when another run published
    the same artifact first (ours is discarded: same input, same artifact)."""
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = final_dir.parent / f".tmp-{final_dir.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        write(tmp_dir)
        for f in tmp_dir.iterdir():
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            if (final_dir / MANIFEST_FILE).is_file():
                return False
            raise
        return True
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")

"""JSON Schema validation of activity payloads against contracts/ (shared with the TypeScript side)."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .config import CONTRACTS_DIR, METHODS
from .errors import WorkerError

if TYPE_CHECKING:  # imported where used: training alone (the GPU check) runs without jsonschema
    from jsonschema import Draft202012Validator
    from referencing import Registry


@lru_cache(maxsize=None)
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for path in sorted(CONTRACTS_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator(schema_file: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads((CONTRACTS_DIR / schema_file).read_text())
    return Draft202012Validator(schema, registry=_registry())


def _where(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(root)"


def validate(schema_file: str, payload: Any, what: str, code: str = WorkerError.INVALID_INPUT) -> None:
    """Raises WorkerError(code) naming the first offending field; other errors follow in the message."""
    errors = sorted(validator(schema_file).iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"at {_where(e)}: {e.message}" for e in errors[:5])
        raise WorkerError(code, f"{what} does not match {schema_file}: {details}")


def validate_unlearn_input(payload: Any) -> None:
    # An unknown method gets its own code: it is the mistake a caller most needs named.
    if isinstance(payload, dict) and "method" in payload and payload["method"] not in METHODS:
        raise WorkerError(WorkerError.UNKNOWN_METHOD, f"unlearn input at method: {payload['method']!r} is not one of {', '.join(METHODS)}")
    validate("unlearn.input.schema.json", payload, "unlearn input")


def validate_unlearn_output(payload: Any) -> None:
    validate("unlearn.output.schema.json", payload, "unlearn output")


def validate_adapter_manifest(payload: Any) -> None:
    validate("adapter-manifest.schema.json", payload, "adapter manifest")


def validate_forget_set(payload: Any) -> None:
    if isinstance(payload, dict) and payload.get("subjects") == []:
        raise WorkerError(WorkerError.EMPTY_FORGET_SET, "forget set has no subjects: nothing to unlearn")
    validate("forget-set.schema.json", payload, "forget set file", WorkerError.BAD_FORGET_SET)

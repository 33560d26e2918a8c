"""Configuration dataclasses parsed from the `unlearn` contract (contracts/unlearn.input.schema.json).

Parsing assumes the payload already passed `contracts.validate_unlearn_input`; these classes only give
the fields names and fill the optional hyper-parameters with the per-method defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple, Union

from .errors import WorkerError

METHODS = ("ga", "ga_klr", "npo", "graddiff")
LORA_PRESETS = ("llm", "projector+llm")

# Tuned on the tiny LLaVA with bench_unlearn (10 forgotten people, same checkpoint for every method).
# ga, npo and graddiff stay the published methods; ga_klr, the service's default, ascends with a floor
# (losses.ga), which is what lets it forget without taking the retained people along, and holds the people of
# earlier requests where the parent version had them (docs/tiny-model-notes.md, session 12).
DEFAULT_HYPER_PARAMETERS: dict[str, dict[str, Any]] = {
    "ga": {"learningRate": 1e-3, "epochs": 2, "batchSize": 8},
    "ga_klr": {"learningRate": 1e-3, "epochs": 12, "batchSize": 8, "klWeight": 1.0, "ascentFloor": 0.05, "klReference": "base", "holdForgottenWeight": 1.0},
    "npo": {"learningRate": 1e-3, "epochs": 2, "batchSize": 8, "npoBeta": 0.1},
    "graddiff": {"learningRate": 1e-3, "epochs": 2, "batchSize": 8, "retainWeight": 1.0},
}
DEFAULT_LORA: dict[str, Any] = {"rank": 8, "alpha": 16, "dropout": 0.0, "targets": "llm"}


@dataclass(frozen=True)
class LoraSettings:
    rank: int
    alpha: float
    dropout: float
    # A preset name ("llm", "projector+llm") or explicit module-name suffixes.
    targets: Union[str, Tuple[str, ...]]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "LoraSettings":
        targets = data["targets"]
        return cls(
            rank=int(data["rank"]),
            alpha=float(data["alpha"]),
            dropout=float(data["dropout"]),
            targets=targets if isinstance(targets, str) else tuple(targets),
        )

    def to_json(self) -> dict[str, Any]:
        targets = self.targets if isinstance(self.targets, str) else list(self.targets)
        return {"rank": self.rank, "alpha": self.alpha, "dropout": self.dropout, "targets": targets}


@dataclass(frozen=True)
class HyperParameters:
    learning_rate: float
    epochs: int
    batch_size: int
    max_steps: Optional[int] = None
    npo_beta: float = 0.1
    kl_weight: float = 1.0
    retain_weight: float = 1.0
    # Probability below which a forget token is no longer ascended (ga, ga_klr, graddiff); 0 = plain GA.
    ascent_floor: float = 0.0
    # What the ascent lowers: "logProb" (log p, plain GA) or "logOdds" (log p - log(1 - p)). log p's push on a token
    # shrinks as 1 - p, so the facts the model knows best were ascended least and outlasted the rest.
    ascent_objective: str = "logProb"
    # The model ga_klr's retain KL anchors to: "start" (where this operation starts, the parent in a sequential
    # lineage) or "base" (version 0: sequential requests cannot compound the drift of the retained people).
    kl_reference: str = "start"
    # Weight of a KL term that holds the people forgotten earlier in the lineage (excludeFromRetain) where the
    # version that forgot them had them (forgottenBy), else where the parent has them: later sequential requests
    # otherwise bring them partly back. 0 = off.
    hold_forgotten_weight: float = 0.0
    # Weight of a KL term to version 0 on the dataset's general questions (lethe/train/general.jsonl): the retain KL
    # covers people only, and general ability was what sequential requests lost first. 0 = off.
    general_kl_weight: float = 0.0

    @classmethod
    def from_json(cls, method: str, data: Mapping[str, Any]) -> "HyperParameters":
        merged = {**DEFAULT_HYPER_PARAMETERS[method], **data}
        return cls(
            learning_rate=float(merged["learningRate"]),
            epochs=int(merged["epochs"]),
            batch_size=int(merged["batchSize"]),
            max_steps=int(merged["maxSteps"]) if merged.get("maxSteps") is not None else None,
            npo_beta=float(merged.get("npoBeta", cls.npo_beta)),
            kl_weight=float(merged.get("klWeight", cls.kl_weight)),
            retain_weight=float(merged.get("retainWeight", cls.retain_weight)),
            ascent_floor=float(merged.get("ascentFloor", cls.ascent_floor)),
            ascent_objective=str(merged.get("ascentObjective", cls.ascent_objective)),
            kl_reference=str(merged.get("klReference", cls.kl_reference)),
            hold_forgotten_weight=float(merged.get("holdForgottenWeight", cls.hold_forgotten_weight)),
            general_kl_weight=float(merged.get("generalKlWeight", cls.general_kl_weight)),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "learningRate": self.learning_rate, "epochs": self.epochs, "batchSize": self.batch_size,
            "npoBeta": self.npo_beta, "klWeight": self.kl_weight, "retainWeight": self.retain_weight,
            "ascentFloor": self.ascent_floor, "klReference": self.kl_reference,
            "holdForgottenWeight": self.hold_forgotten_weight, "generalKlWeight": self.general_kl_weight,
        }
        if self.max_steps is not None:
            out["maxSteps"] = self.max_steps
        # Only when set, so that the manifests of every version trained before the option existed stay the same.
        if self.ascent_objective != "logProb":
            out["ascentObjective"] = self.ascent_objective
        return out


@dataclass(frozen=True)
class FileRef:
    path: Path
    sha256: str


@dataclass(frozen=True)
class ForgottenBy:
    """The adapter of an earlier version and the people of excludeFromRetain it forgot."""
    adapter: FileRef
    subject_ids: Tuple[str, ...]


@dataclass(frozen=True)
class UnlearnConfig:
    base_model_path: Path
    base_model_id: str
    dataset_path: Path
    parent_adapter: Optional[FileRef]
    forget_set: FileRef
    exclude_from_retain: Tuple[str, ...]
    forgotten_by: Tuple[ForgottenBy, ...]
    method: str
    hyper: HyperParameters
    lora: LoraSettings
    seed: int
    output_root: Path
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "UnlearnConfig":
        method = data["method"]
        if method not in METHODS:
            raise WorkerError(WorkerError.UNKNOWN_METHOD, f"method {method!r} is not one of {', '.join(METHODS)}")
        parent = data["parentAdapter"]
        return cls(
            base_model_path=Path(data["baseModel"]["path"]),
            base_model_id=data["baseModel"]["id"],
            dataset_path=Path(data["dataset"]["path"]),
            parent_adapter=FileRef(Path(parent["path"]), parent["sha256"]) if parent else None,
            forget_set=FileRef(Path(data["forgetSet"]["path"]), data["forgetSet"]["sha256"]),
            exclude_from_retain=tuple(data["excludeFromRetain"]),
            forgotten_by=tuple(ForgottenBy(FileRef(Path(f["adapter"]["path"]), f["adapter"]["sha256"]), tuple(f["datasetSubjectIds"]))
                               for f in data.get("forgottenBy", [])),
            method=method,
            hyper=HyperParameters.from_json(method, data["hyperParameters"]),
            lora=LoraSettings.from_json(data["lora"]),
            seed=int(data["seed"]),
            output_root=Path(data["outputRoot"]),
            raw=data,
        )

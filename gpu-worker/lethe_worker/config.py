"""Configuration dataclasses parsed from the `unlearn` contract (contracts/unlearn.input.schema.json).

Parsing assumes the payload already passed `contracts.validate_unlearn_input`; these classes only give
the fields names and fill the optional hyper-parameters from contracts/unlearning-defaults.json, the
defaults the service gives a new lineage too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple, Union

from .errors import WorkerError

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
UNLEARNING_DEFAULTS: dict[str, Any] = json.loads((CONTRACTS_DIR / "unlearning-defaults.json").read_text())

METHODS = ("ga", "ga_klr", "npo", "graddiff", "neverseen_kd")
LORA_PRESETS = ("llm", "projector+llm")

# Per method: what a new lineage of that method gets, and what fills a field an unlearn request leaves out.
DEFAULT_HYPER_PARAMETERS: dict[str, dict[str, Any]] = UNLEARNING_DEFAULTS["methods"]
# An optional hyper-parameter that neither the request nor its method sets.
UNSET_HYPER_PARAMETERS: dict[str, Any] = UNLEARNING_DEFAULTS["unsetHyperParameters"]
DEFAULT_LORA: dict[str, Any] = UNLEARNING_DEFAULTS["lora"]


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
    max_steps: Optional[int]
    npo_beta: float
    kl_weight: float
    retain_weight: float
    # Probability below which a forget token is no longer ascended (ga, ga_klr, graddiff); 0 = plain GA.
    ascent_floor: float
    # What the ascent lowers: "logProb" (log p, plain GA) or "logOdds" (log p - log(1 - p)). log p's push on a token
    # shrinks as 1 - p, so the facts the model knows best were ascended least and outlasted the rest.
    ascent_objective: str
    # The model the retain KL of ga_klr and neverseen_kd anchors to: "start" (where this operation starts, the parent in a sequential
    # lineage) or "base" (version 0: sequential requests cannot compound the drift of the retained people).
    kl_reference: str
    # Weight of a KL term that holds the people forgotten earlier in the lineage (excludeFromRetain) where the
    # version that forgot them had them (forgottenBy), else where the parent has them: later sequential requests
    # otherwise bring them partly back. 0 = off.
    hold_forgotten_weight: float
    # Weight of a KL term to version 0 on the dataset's general questions (lethe/train/general.jsonl): the retain KL
    # covers people only, and general ability was what sequential requests lost first. 0 = off.
    general_kl_weight: float

    @classmethod
    def from_json(cls, method: str, data: Mapping[str, Any]) -> "HyperParameters":
        merged = {**UNSET_HYPER_PARAMETERS, **DEFAULT_HYPER_PARAMETERS[method], **data}
        return cls(
            learning_rate=float(merged["learningRate"]),
            epochs=int(merged["epochs"]),
            batch_size=int(merged["batchSize"]),
            max_steps=int(merged["maxSteps"]) if merged.get("maxSteps") is not None else None,
            npo_beta=float(merged["npoBeta"]),
            kl_weight=float(merged["klWeight"]),
            retain_weight=float(merged["retainWeight"]),
            ascent_floor=float(merged["ascentFloor"]),
            ascent_objective=str(merged["ascentObjective"]),
            kl_reference=str(merged["klReference"]),
            hold_forgotten_weight=float(merged["holdForgottenWeight"]),
            general_kl_weight=float(merged["generalKlWeight"]),
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
        # Only when it differs from the plain ascent, so that a manifest names the objective only where it matters.
        if self.ascent_objective != UNSET_HYPER_PARAMETERS["ascentObjective"]:
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

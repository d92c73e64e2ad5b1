"""The fitted numbers ranking depends on, and what each was fitted on: `weights.json` beside
this module, read once.

The numbers live in a data file rather than in code so that the script that fits them
(`python -m benchmarks.calibrate --write`) writes them together with their provenance, and a
reader sees where every number came from next to the number itself.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from embeddings.ranking.fusion import Calibration, Weights

WEIGHTS_FILE = Path(__file__).with_name("weights.json")
ABOUT = (
    "Fitted ranking weights and decline calibrations, read once by "
    "embeddings/ranking/weights.py. python -m benchmarks.calibrate --write rewrites the two "
    "calibrations with their provenance; refit whenever ranking or a model changes."
)
T = TypeVar("T", Weights, Calibration)


@dataclass(frozen=True, slots=True)
class Provenance:
    fitted_on: str  # the data, and how it was fitted
    checked_on: str  # held-out data, and what the fitted values scored there
    command: str  # what reproduces it
    date: str  # ISO day of the fit


@dataclass(frozen=True, slots=True)
class Fitted(Generic[T]):
    value: T
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class FittedSet:
    """Everything `weights.json` holds; the field names are its entries."""

    english_weights: Fitted[Weights]  # fusion of the four signals for English questions
    # The same with the multilingual model's passage similarity, for an index that holds it.
    english_multilingual_weights: Fitted[Weights]
    crosslingual_weights: Fitted[Weights]  # fusion for questions in other languages
    english_calibration: Fitted[Calibration]  # P(answerable) and the decline threshold
    # The same with the multilingual model's similarity of the top passage.
    english_multilingual_calibration: Fitted[Calibration]
    crosslingual_calibration: Fitted[Calibration]


@functools.cache
def shipped() -> FittedSet:
    """The set the package ships, read on first use."""
    return load(WEIGHTS_FILE)


def load(path: Path) -> FittedSet:
    """The fitted set in `path`; ValueError naming the entry when one is missing or malformed."""
    document = json.loads(path.read_text(encoding="utf-8"))
    entries: dict[str, Any] = {}
    for field in dataclasses.fields(FittedSet):
        try:
            entry = document[field.name]
            value = entry["value"]
            parsed: Weights | Calibration = (
                Weights(**_floats(value))
                if field.name.endswith("_weights")
                else Calibration(
                    coefficients=_floats(value["coefficients"]),
                    intercept=float(value["intercept"]),
                    threshold=float(value["threshold"]),
                )
            )
            entries[field.name] = Fitted(parsed, Provenance(**entry["provenance"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: entry {field.name!r} is malformed ({error!r})") from None
    return FittedSet(**entries)


def write(fitted: FittedSet, path: Path = WEIGHTS_FILE) -> None:
    """Write `fitted` to `path` (whole, or not at all: a crash leaves the old file)."""
    document: dict[str, Any] = {"about": ABOUT}
    for field in dataclasses.fields(FittedSet):
        entry: Fitted[Any] = getattr(fitted, field.name)
        document[field.name] = {
            "value": _plain(entry.value),
            "provenance": dataclasses.asdict(entry.provenance),
        }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def _plain(value: Weights | Calibration) -> dict[str, Any]:
    if isinstance(value, Weights):
        return dataclasses.asdict(value)
    return {"coefficients": dict(value.coefficients), "intercept": value.intercept,
            "threshold": value.threshold}  # fmt: skip


def _floats(mapping: dict[str, Any]) -> dict[str, float]:
    return {str(name): float(number) for name, number in mapping.items()}

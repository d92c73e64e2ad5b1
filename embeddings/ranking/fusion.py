"""Score fusion and calibration as small pure functions over numpy arrays.

The fitted numbers are in weights.json (embeddings/ranking/weights.py). This module imports
only numpy, so that benchmarks/reranker.py can load this file on a GPU machine that has none
of newsdesk's other dependencies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]


def zscore(values: Array) -> Array:
    """Standardise one signal over the candidate set, so signals on different scales can add.

    A constant signal carries no ranking information and becomes all zeros.
    """
    values = values.astype(np.float32)
    std = float(values.std())
    if std < 1e-6:
        return np.zeros_like(values)
    standardised: Array = np.asarray((values - values.mean()) / std, dtype=np.float32)
    return standardised


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each standardised signal counts in the fused score."""

    dense: float = 1.0  # passage vector (title-aware) · question vector
    sentence: float = 1.0  # the passage's best sentence (vector similarity + rare-word coverage)
    lexical: float = 1.0  # BM25 over title + passage
    coverage: float = 0.0  # share of the question's idf weight the passage holds
    speaker: float = 0.0  # the passage's speaker matches the one the question asks about
    # The multilingual model's passage similarity, for English questions too when the index
    # holds that model's vectors: it was trained for questions against passages, MiniLM for
    # sentence similarity, and paraphrased questions ("what did the official find notable")
    # are where they disagree.
    multilingual: float = 0.0


def fusion_terms(
    dense: Array,
    sentence: Array,
    lexical: Array,
    coverage: Array,
    speaker: Array | None = None,
    multilingual: Array | None = None,
) -> dict[str, Array]:
    """The signals as `fuse` adds them, named as in `Weights`: z-scored over the candidates,
    the speaker match unstandardised (0 to 1): a question naming nobody leaves it at zero,
    and one naming a speaker lifts that speaker's passages by the same amount. (The fitting
    script reads these too, so what is fitted is what is fused.)"""
    terms = {"dense": zscore(dense), "sentence": zscore(sentence), "lexical": zscore(lexical),
             "coverage": zscore(coverage)}  # fmt: skip
    if multilingual is not None:
        terms["multilingual"] = zscore(multilingual)
    if speaker is not None:
        terms["speaker"] = speaker.astype(np.float32)
    return terms


def fuse(
    dense: Array,
    sentence: Array,
    lexical: Array,
    coverage: Array,
    weights: Weights,
    speaker: Array | None = None,
    multilingual: Array | None = None,
) -> Array:
    """Weighted sum of the terms: one fused score per candidate (higher is better)."""
    terms = fusion_terms(dense, sentence, lexical, coverage, speaker, multilingual)
    fused = np.zeros(len(dense), np.float32)
    for name, term in terms.items():
        fused = fused + np.float32(getattr(weights, name)) * term
    return fused


def fuse_crosslingual(passage: Array, sentence: Array, lexical: Array, w: Weights) -> Array:
    """Fused score for a question in another language, from the multilingual model's passage
    and best-sentence similarities and BM25 (names and numbers survive translation). MiniLM's
    own signals made it worse: they are left out, and `w.coverage` is unused."""
    fused: Array = (
        np.float32(w.dense) * zscore(passage)
        + np.float32(w.sentence) * zscore(sentence)
        + np.float32(w.lexical) * zscore(lexical)
    )
    return fused


@dataclass(frozen=True, slots=True)
class Calibration:
    """Logistic model of P(top result answers the question) from absolute signals."""

    coefficients: Mapping[str, float]
    intercept: float
    threshold: float  # answer when the probability reaches this

    def probability(self, features: Mapping[str, float]) -> float:
        logit = self.intercept + sum(w * features[name] for name, w in self.coefficients.items())
        return 1.0 / (1.0 + math.exp(-logit))


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    names: Sequence[str],
    l2: float = 1e-2,
    steps: int = 5000,
) -> tuple[dict[str, float], float]:
    """Plain gradient-descent logistic regression (a few features, a few thousand rows).

    Features are standardised while fitting (similarities that all lie between 0.7 and 0.9
    otherwise barely move in 5,000 steps); the weights returned apply to the raw features."""
    raw = np.array([[row[n] for n in names] for row in rows], dtype=np.float64)
    mean, std = raw.mean(axis=0), raw.std(axis=0) + 1e-9
    x = (raw - mean) / std
    y = np.array(labels, dtype=np.float64)
    weights = np.zeros(x.shape[1])
    bias = 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
        gradient = x.T @ (p - y) / len(y) + l2 * weights
        weights -= rate * gradient
        bias -= rate * float(np.mean(p - y))
    scaled = weights / std
    return {n: float(w) for n, w in zip(names, scaled, strict=True)}, bias - float(scaled @ mean)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    answerable_declined: float  # share of questions the archive answers that we decline
    absent_declined: float  # share of questions about absent topics that we decline


def decline_curve(
    probabilities: Sequence[float], answerable: Sequence[bool], thresholds: Sequence[float]
) -> list[CurvePoint]:
    """What each threshold would decline, among answerable and among absent-topic questions."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(answerable, dtype=bool)
    points = []
    for t in thresholds:
        declined = p < t
        points.append(
            CurvePoint(
                threshold=float(t),
                answerable_declined=float(declined[y].mean()) if y.any() else 0.0,
                absent_declined=float(declined[~y].mean()) if (~y).any() else 0.0,
            )
        )
    return points


def pick_threshold(
    probabilities: Sequence[float], answerable: Sequence[bool], max_answerable_declined: float
) -> float:
    """The highest threshold (most declines of absent topics) that declines at most the given
    share of answerable questions."""
    p = np.sort(np.asarray(probabilities, dtype=np.float64)[np.asarray(answerable, dtype=bool)])
    if len(p) == 0:
        return 0.5
    # Declining p < t for t = the k-th smallest probability declines exactly k of them.
    k = math.floor(max_answerable_declined * len(p))
    return float(p[min(k, len(p) - 1)])

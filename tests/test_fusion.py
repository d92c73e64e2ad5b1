"""Score fusion and calibration are small pure functions."""

from __future__ import annotations

import numpy as np

from embeddings.ranking.fusion import (
    Calibration,
    Weights,
    decline_curve,
    fit_logistic,
    fuse,
    pick_threshold,
    zscore,
)


def test_zscore_standardises_and_a_constant_signal_is_neutral() -> None:
    z = zscore(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert np.allclose(z, [-1.2247, 0.0, 1.2247], atol=1e-4)
    assert not zscore(np.array([5.0, 5.0], dtype=np.float32)).any()


def test_fuse_adds_weighted_zscores_so_scale_does_not_matter() -> None:
    dense = np.array([0.70, 0.60, 0.50], dtype=np.float32)
    bm25 = np.array([1.0, 30.0, 2.0], dtype=np.float32)  # another scale entirely
    sentence = np.array([0.9, 0.1, 0.2], dtype=np.float32)
    coverage = np.array([0.1, 0.2, 0.9], dtype=np.float32)
    fused = fuse(dense, sentence, bm25, coverage, Weights())
    assert int(np.argmax(fused)) == 0
    only_lexical = fuse(dense, sentence, bm25, coverage, Weights(dense=0, sentence=0, lexical=1))
    assert int(np.argmax(only_lexical)) == 1
    only_coverage = Weights(dense=0, sentence=0, lexical=0, coverage=1)
    assert int(np.argmax(fuse(dense, sentence, bm25, coverage, only_coverage))) == 2


def test_calibration_is_a_logistic_over_named_features() -> None:
    calibration = Calibration({"a": 2.0, "b": -1.0}, intercept=0.5, threshold=0.5)
    assert abs(calibration.probability({"a": 0.0, "b": 0.5}) - 0.5) < 1e-9
    assert calibration.probability({"a": 3.0, "b": 0.0}) > 0.99


def test_fit_logistic_separates_separable_data() -> None:
    rows = [{"x": v} for v in (0.1, 0.2, 0.3, 0.7, 0.8, 0.9)]
    weights, bias = fit_logistic(rows, [0, 0, 0, 1, 1, 1], ["x"], l2=0.0)
    calibration = Calibration(weights, bias, 0.5)
    assert [calibration.probability(r) > 0.5 for r in rows] == [False] * 3 + [True] * 3


def test_pick_threshold_declines_at_most_the_allowed_share_of_answerable_questions() -> None:
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    answerable = [True] * 10
    threshold = pick_threshold(probabilities, answerable, 0.2)
    assert sum(p < threshold for p in probabilities) == 2


def test_decline_curve_counts_declines_per_group() -> None:
    [point] = decline_curve([0.9, 0.2, 0.1, 0.6], [True, True, False, False], [0.5])
    assert (point.answerable_declined, point.absent_declined) == (0.5, 0.5)

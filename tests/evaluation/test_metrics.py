"""Metric functions against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_world.evaluation.metrics import (
    auroc,
    bootstrap_ci,
    pairwise_accuracy,
    quad_outcomes,
    r2_score,
    relative_accuracy,
    wilson_interval,
)


def test_relative_accuracy_by_hand():
    scores = np.array(
        [
            [1.0, 2.0, 3.0, 4.0],  # C + D = 7 > A + B = 3: correct
            [4.0, 3.0, 2.0, 1.0],  # 3 < 7: wrong
            [1.0, 2.0, 2.0, 1.0],  # 3 == 3: tie
            [0.0, 5.0, 6.0, 0.0],  # 6 > 5: correct
        ]
    )
    np.testing.assert_array_equal(quad_outcomes(scores), [1.0, 0.0, 0.5, 1.0])
    assert relative_accuracy(scores) == pytest.approx(2.5 / 4)
    # another member order: possible clips are the 1st and 3rd
    assert relative_accuracy(scores[:1], [True, False, True, False]) == 1.0  # 2+4 > 1+3


def test_quad_outcomes_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(Q, 4\)"):
        quad_outcomes(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        quad_outcomes(np.array([[np.nan, 0, 0, 0]]))
    with pytest.raises(ValueError, match="two True"):
        quad_outcomes(np.zeros((1, 4)), [True, True, True, False])


def test_pairwise_accuracy_by_hand():
    assert pairwise_accuracy([1.0, 2.0, 3.0], [2.0, 2.0, 1.0]) == pytest.approx(0.5)
    assert pairwise_accuracy([0.0, 0.0], [1.0, 1.0]) == 1.0


def test_auroc_by_hand():
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: wins (0.35>0.1), (0.8>0.1), (0.8>0.4) = 3/4
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # ties count half: positives {1, 2}, negatives {1, 0} -> (0.5 + 1 + 1 + 1) / 4
    assert auroc([1.0, 1.0, 2.0, 0.0], [1, 0, 1, 0]) == pytest.approx(0.875)
    assert auroc([3.0, 3.0], [True, False]) == 0.5
    with pytest.raises(ValueError, match="positive and one negative"):
        auroc([1.0, 2.0], [True, True])


def test_wilson_interval_by_hand():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2
    with pytest.raises(ValueError, match="n=0"):
        wilson_interval(0, 0)


def test_r2_score():
    y = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    assert r2_score(y, y) == 1.0
    assert r2_score(np.broadcast_to(y.mean(0), y.shape), y) == pytest.approx(0.0)
    # column 0: SSE 2, SST 2 -> 0; column 1 exact -> 1; uniform average 0.5
    pred = y.copy()
    pred[:, 0] = [1.0, 0.0, 2.0]
    assert r2_score(pred, y) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="constant"):
        r2_score(np.zeros((3, 1)), np.ones((3, 1)))


def test_bootstrap_ci_brackets_the_estimate_and_is_seeded():
    values = np.random.default_rng(0).normal(size=200)

    def mean(idx):
        return float(values[idx].mean())

    low, high = bootstrap_ci(mean, len(values), resamples=500, seed=1)
    assert low < values.mean() < high
    assert high - low < 0.5
    assert bootstrap_ci(mean, len(values), resamples=500, seed=1) == (low, high)

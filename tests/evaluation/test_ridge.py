"""The ridge read-out recovers a known linear map and finds nothing in noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.metrics import r2_score
from jepa_world.evaluation.ridge import fit_ridge


def _splits(x: np.ndarray, y: np.ndarray, n_train: int, n_val: int):
    return (
        x[:n_train],
        y[:n_train],
        x[n_train : n_train + n_val],
        y[n_train : n_train + n_val],
        x[n_train + n_val :],
        y[n_train + n_val :],
    )


@pytest.mark.parametrize("features", [20, 400])  # primal (p < n) and dual (p > n) solvers
def test_ridge_recovers_a_linear_map(features):
    rng = np.random.default_rng(0)
    n = 600
    latent = rng.normal(size=(n, 5))
    mixing = rng.normal(size=(5, features))
    x = latent @ mixing * rng.uniform(0.1, 10.0, size=features)  # badly scaled features
    x += 0.01 * rng.normal(size=x.shape)
    y = latent @ rng.normal(size=(5, 2)) + 3.0
    xt, yt, xv, yv, xs, ys = _splits(x, y, 300, 100)
    readout = fit_ridge(xt, yt, xv, yv)
    assert r2_score(readout.predict(xs), ys) > 0.99
    assert readout.weight.shape == (features, 2)


def test_ridge_scores_about_zero_on_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(700, 50))
    y = rng.normal(size=(700, 2))
    xt, yt, xv, yv, xs, ys = _splits(x, y, 400, 100)
    readout = fit_ridge(xt, yt, xv, yv)
    assert abs(r2_score(readout.predict(xs), ys)) < 0.05
    assert (readout.relative_alpha >= 1.0).all()  # validation picked strong shrinkage


def test_ridge_picks_alpha_per_output_and_accepts_tensors():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 10))
    y = np.stack([x[:, 0], rng.normal(size=500)], axis=1)  # one signal column, one noise column
    xt, yt, xv, yv, _, _ = _splits(x, y, 300, 100)
    readout = fit_ridge(torch.from_numpy(xt), torch.from_numpy(yt), xv, yv)
    assert readout.relative_alpha[0] < readout.relative_alpha[1]


def test_ridge_rejects_bad_input():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match="NaN"):
        fit_ridge(np.full((10, 3), np.nan), x[:, :1], x, x[:, :1])
    with pytest.raises(ValueError, match="columns"):
        fit_ridge(x, x[:, :1], np.zeros((5, 4)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="sample counts"):
        fit_ridge(x, np.zeros((9, 1)), x, x[:, :1])

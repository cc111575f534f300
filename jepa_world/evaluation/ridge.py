"""Closed-form ridge read-out with standardised features and alpha chosen on a validation split.

Probes must stay linear (a low-capacity read-out measures the representation, not the probe), and
their regularisation must be chosen on data the test never sees. One symmetric eigendecomposition
gives the solution for every alpha at once: of ``X^T X`` when there are fewer features than
samples (primal), of ``X X^T`` otherwise (dual, e.g. 64 patches x 128 dims = 8192 features from
~1000 samples). Each output column gets its own alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["RELATIVE_ALPHAS", "RidgeReadout", "fit_ridge"]

RELATIVE_ALPHAS = tuple(float(a) for a in np.logspace(-6, 3, 19))
"""Alpha grid relative to the mean eigenvalue of the standardised Gram matrix (scale-free)."""


@dataclass
class RidgeReadout:
    """A fitted linear read-out: ``y = standardise(x) @ weight + bias``."""

    mean: Tensor  # (p,) feature means of the training split
    scale: Tensor  # (p,) feature stds (1 where a feature is constant)
    weight: Tensor  # (p, o)
    bias: Tensor  # (o,)
    alpha: Tensor  # (o,) chosen absolute alpha per output
    relative_alpha: Tensor  # (o,) the same, relative to the mean Gram eigenvalue

    def predict(self, x: Tensor | np.ndarray) -> np.ndarray:
        """Predictions (n, o) as float64 numpy for features (n, p)."""
        x = _as_matrix("x", x, self.mean.shape[0])
        return (((x - self.mean) / self.scale) @ self.weight + self.bias).numpy()


def _as_matrix(name: str, x: Tensor | np.ndarray, width: int | None = None) -> Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).double()
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, columns), got shape {tuple(t.shape)}")
    if width is not None and t.shape[1] != width:
        raise ValueError(f"{name} has {t.shape[1]} columns, expected {width}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf")
    return t


def fit_ridge(
    x_train: Tensor | np.ndarray,
    y_train: Tensor | np.ndarray,
    x_val: Tensor | np.ndarray,
    y_val: Tensor | np.ndarray,
    relative_alphas: tuple[float, ...] = RELATIVE_ALPHAS,
) -> RidgeReadout:
    """Fit ridge on the training split; pick each output's alpha by validation MSE.

    Features are standardised with the training mean and std; targets are centred (the bias is
    the training mean, unpenalised). The chosen model is the one fit on the training split only.
    """
    x = _as_matrix("x_train", x_train)
    y = _as_matrix("y_train", y_train)
    xv = _as_matrix("x_val", x_val, x.shape[1])
    yv = _as_matrix("y_val", y_val, y.shape[1])
    if len(x) != len(y) or len(xv) != len(yv):
        raise ValueError(
            f"sample counts differ: x_train {len(x)} vs y_train {len(y)}, "
            f"x_val {len(xv)} vs y_val {len(yv)}"
        )
    if len(x) < 2 or len(xv) < 1:
        raise ValueError(f"need >= 2 training and >= 1 validation samples, got {len(x)}, {len(xv)}")
    if not relative_alphas or min(relative_alphas) <= 0:
        raise ValueError(f"relative_alphas must be positive, got {relative_alphas}")

    mean = x.mean(0)
    scale = x.std(0)
    scale = torch.where(scale > 1e-8 * (1.0 + mean.abs()), scale, torch.ones_like(scale))
    xs, xvs = (x - mean) / scale, (xv - mean) / scale
    y_mean = y.mean(0)
    yc = y - y_mean
    n, p = xs.shape

    if p <= n:  # primal: w = V (L + a)^-1 V^T X^T y
        evals, evecs = torch.linalg.eigh(xs.T @ xs)
        proj = evecs.T @ (xs.T @ yc)  # (r, o)
        val_basis = xvs @ evecs  # (nv, r)
    else:  # dual: w = X^T U (L + a)^-1 U^T y
        evals, evecs = torch.linalg.eigh(xs @ xs.T)
        proj = evecs.T @ yc
        val_basis = (xvs @ xs.T) @ evecs
    evals = evals.clamp_min(0.0)
    unit = float(evals.mean().clamp_min(1e-12))
    alphas = torch.tensor(relative_alphas, dtype=torch.float64) * unit

    errors = torch.stack(
        [(((val_basis @ (proj / (evals + a)[:, None])) + y_mean - yv) ** 2).mean(0) for a in alphas]
    )  # (alphas, o)
    best = errors.argmin(0)
    chosen = alphas[best]  # (o,)
    coef = proj / (evals[:, None] + chosen[None, :])  # (r, o)
    weight = evecs @ coef if p <= n else xs.T @ (evecs @ coef)
    return RidgeReadout(
        mean=mean,
        scale=scale,
        weight=weight,
        bias=y_mean,
        alpha=chosen,
        relative_alpha=torch.tensor(relative_alphas, dtype=torch.float64)[best],
    )

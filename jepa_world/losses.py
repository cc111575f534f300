"""Training objectives in embedding space: prediction losses and anti-collapse regularisers.

Every function reduces to a scalar and takes embeddings ``(..., D)``; regularisers flatten the
leading dims into samples ``(N, D)``. Targets must come from a stop-gradient branch (EMA target
encoder or ``.detach()``): these functions do not detach for you.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.metrics import embedding_std, rankme  # re-exported: collapse monitors

__all__ = [
    "PREDICTION_LOSSES",
    "VICRegLoss",
    "embedding_std",
    "prediction_loss",
    "rankme",
    "sigreg",
    "vicreg_covariance",
    "vicreg_variance",
]

PREDICTION_LOSSES = ("l1", "smooth_l1", "mse")
"""Names of the prediction losses a recipe's ``loss`` key may take."""


def prediction_loss(
    pred: Tensor,
    target: Tensor,
    kind: str = "l1",
    normalize_target: bool = True,
    beta: float = 1.0,
) -> Tensor:
    """Mean ``kind`` distance between ``pred`` and ``target`` (same shape, ``(..., D)``).

    With ``normalize_target`` the target is layer-normed over D without affine (I-JEPA/V-JEPA),
    which fixes its scale so the loss cannot shrink by shrinking the embeddings. ``beta`` is the
    smooth-L1 threshold.
    """
    if kind not in PREDICTION_LOSSES:
        raise ValueError(
            f"kind={kind!r} is not a prediction loss: choose one of {PREDICTION_LOSSES}"
        )
    if pred.shape != target.shape:
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape"
        )
    if normalize_target:
        target = F.layer_norm(target, target.shape[-1:])
    if kind == "l1":
        return F.l1_loss(pred, target)
    if kind == "smooth_l1":
        return F.smooth_l1_loss(pred, target, beta=beta)
    return F.mse_loss(pred, target)


def _samples(z: Tensor, name: str) -> Tensor:
    if z.ndim < 2:
        raise ValueError(f"{name} needs embeddings (..., D) with >= 2 dims, got {tuple(z.shape)}")
    z = z.reshape(-1, z.shape[-1])
    if z.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples to estimate statistics, got 1")
    return z


def vicreg_variance(z: Tensor, gamma: float = 1.0, eps: float = 1e-4) -> Tensor:
    """Mean over dims of ``relu(gamma - sqrt(var + eps))``: pushes every dim's std up to gamma."""
    z = _samples(z, "vicreg_variance")
    std = torch.sqrt(z.var(dim=0) + eps)
    return F.relu(gamma - std).mean()


def vicreg_covariance(z: Tensor) -> Tensor:
    """Sum of squared off-diagonal covariances divided by D: decorrelates the dims."""
    z = _samples(z, "vicreg_covariance")
    n, d = z.shape
    z = z - z.mean(dim=0)
    cov = (z.T @ z) / (n - 1)
    off_diagonal = cov - torch.diag(torch.diagonal(cov))
    return off_diagonal.pow(2).sum() / d


class VICRegLoss(nn.Module):
    """``var_weight * vicreg_variance + cov_weight * vicreg_covariance``.

    Defaults keep VICReg's 25:1 variance-to-covariance ratio with the variance term at unit
    weight next to a prediction loss of order 1.
    """

    def __init__(
        self, var_weight: float = 1.0, cov_weight: float = 0.04, gamma: float = 1.0
    ) -> None:
        super().__init__()
        if var_weight < 0 or cov_weight < 0:
            raise ValueError(f"weights must be >= 0, got var={var_weight}, cov={cov_weight}")
        self.var_weight = float(var_weight)
        self.cov_weight = float(cov_weight)
        self.gamma = float(gamma)

    def terms(self, z: Tensor) -> dict[str, Tensor]:
        """Unweighted ``variance`` and ``covariance`` terms (for logging)."""
        return {
            "variance": vicreg_variance(z, gamma=self.gamma),
            "covariance": vicreg_covariance(z),
        }

    def forward(self, z: Tensor) -> Tensor:
        terms = self.terms(z)
        return self.var_weight * terms["variance"] + self.cov_weight * terms["covariance"]


def sigreg(
    z: Tensor,
    num_projections: int = 256,
    num_points: int = 17,
    generator: torch.Generator | None = None,
    t_max: float = 5.0,
) -> Tensor:
    """LeJEPA's SIGReg: Epps-Pulley test of random 1-D projections against N(0, 1).

    For each random unit direction a, the projected samples x = z a give an empirical
    characteristic function phi(t) = mean(exp(i t x)); the statistic is
    ``N * integral |phi(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt`` over [-t_max, t_max] (trapezoid rule
    on ``num_points`` knots), averaged over ``num_projections`` directions. It stays O(1) for
    standard Gaussian embeddings and grows like N for collapsed ones. Pass a ``generator`` seeded
    identically on every rank so all ranks test the same directions.
    """
    z = _samples(z, "sigreg")
    if num_projections < 1 or num_points < 2:
        raise ValueError(
            f"need num_projections >= 1 and num_points >= 2, got {num_projections}, {num_points}"
        )
    n, d = z.shape
    device = z.device
    draw_on = generator.device if generator is not None else device
    directions = torch.randn(d, num_projections, generator=generator, device=draw_on)
    directions = directions.to(device=device, dtype=z.dtype)
    directions = directions / directions.norm(dim=0, keepdim=True)
    t = torch.linspace(-t_max, t_max, num_points, device=device, dtype=z.dtype)
    gaussian_cf = torch.exp(-0.5 * t**2)
    xt = (z @ directions).unsqueeze(-1) * t  # (N, P, T)
    real = torch.cos(xt).mean(dim=0)  # (P, T)
    imag = torch.sin(xt).mean(dim=0)
    error = ((real - gaussian_cf) ** 2 + imag**2) * gaussian_cf
    return torch.trapezoid(error, t, dim=-1).mean() * n

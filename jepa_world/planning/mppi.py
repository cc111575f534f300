"""Model predictive path integral (MPPI): refit to an exponentially cost-weighted mean."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from jepa_world.planning.sampling import SamplingPlanner

__all__ = ["MPPIPlanner", "mppi_weights"]


def mppi_weights(costs: Tensor, temperature: float) -> Tensor:
    """MPPI weights ``w_i = exp(-(c_i - min c) / T) / sum_j exp(-(c_j - min c) / T)``.

    Subtracting the minimum changes nothing mathematically (it cancels in the normalisation) but
    keeps the best sample's weight at ``exp(0) = 1`` before normalising, so no temperature
    underflows every weight. ``T -> 0`` puts all weight on the cheapest sample(s); ``T -> inf``
    gives uniform weights.
    """
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature={temperature!r}: must be a finite number > 0")
    if costs.ndim != 1 or costs.numel() == 0:
        raise ValueError(f"costs must be a non-empty 1-D tensor, got shape {tuple(costs.shape)}")
    if not torch.isfinite(costs).all():
        raise ValueError("costs must be finite (no NaN or inf)")
    weights = torch.exp(-(costs - costs.min()) / temperature)
    return weights / weights.sum()


class MPPIPlanner(SamplingPlanner):
    """MPPI: among the ``elites`` cheapest samples, weights from :func:`mppi_weights`; the new
    mean is the weighted average and the new std the weighted standard deviation around it."""

    name = "mppi"

    def _refit(self, actions: Tensor, costs: Tensor, elites: int) -> tuple[Tensor, Tensor]:
        idx = torch.topk(costs, elites, largest=False).indices
        elite = actions[idx]
        weights = mppi_weights(costs[idx], self.config.temperature)[:, None, None]
        mean = (weights * elite).sum(dim=0)
        std = (weights * (elite - mean).square()).sum(dim=0).sqrt()
        return mean, std

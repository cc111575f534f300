"""The cross-entropy method: refit the sampling distribution to the cheapest samples."""

from __future__ import annotations

import torch
from torch import Tensor

from jepa_world.planning.sampling import SamplingPlanner

__all__ = ["CEMPlanner"]


class CEMPlanner(SamplingPlanner):
    """Cross-entropy method: the new mean and std are those of the ``elites`` cheapest samples."""

    name = "cem"

    def _refit(self, actions: Tensor, costs: Tensor, elites: int) -> tuple[Tensor, Tensor]:
        elite = actions[torch.topk(costs, elites, largest=False).indices]
        return elite.mean(dim=0), elite.std(dim=0, unbiased=False)

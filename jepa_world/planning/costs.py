"""How far predicted latents are from a goal: the distance and the cost of a whole trajectory.

Both are averages over the latent's elements, so that a cost (and hence an MPPI temperature)
keeps its scale whatever the embedding size.
"""

from __future__ import annotations

import math
from typing import Literal

from torch import Tensor

__all__ = ["CostSteps", "DistanceKind", "distance", "trajectory_cost"]

DistanceKind = Literal["l1", "l2"]
"""How two latents are compared: mean absolute (``l1``) or Euclidean (``l2``) distance."""
CostSteps = Literal["final", "sum"]
"""Which predicted steps a plan's cost counts: the last only, or all of them."""


def distance(z: Tensor, z_goal: Tensor, kind: DistanceKind = "l1") -> Tensor:
    """Distance of each latent in ``z`` ``(B, ...)`` to ``z_goal`` (same shape, ``(1, ...)`` or
    ``(...)``), reduced to ``(B,)``.

    ``l1`` is the mean absolute difference and ``l2`` the root mean squared difference over the
    latent's elements: the L1 / L2 norms divided by ``D`` / ``sqrt(D)``.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind={kind!r}: allowed 'l1' or 'l2'")
    if z.ndim < 2:
        raise ValueError(f"z must be batched (B, ...), got shape {tuple(z.shape)}")
    if z_goal.shape == z.shape[1:]:
        z_goal = z_goal.unsqueeze(0)
    batch_ok = z_goal.ndim == z.ndim and z_goal.shape[0] in (1, z.shape[0])
    if not batch_ok or z_goal.shape[1:] != z.shape[1:]:
        raise ValueError(
            f"z_goal of shape {tuple(z_goal.shape)} does not match z of shape {tuple(z.shape)}: "
            f"expected {tuple(z.shape[1:])}, (1, *that) or (B, *that)"
        )
    diff = (z - z_goal).flatten(1)
    if kind == "l1":
        return diff.abs().mean(dim=1)
    return diff.square().mean(dim=1).sqrt()


def trajectory_cost(
    predicted: Tensor,
    z_goal: Tensor,
    kind: DistanceKind = "l1",
    steps: CostSteps = "final",
    final_weight: float = 0.0,
) -> Tensor:
    """Cost ``(S,)`` of predicted latent trajectories ``(S, H, ...)`` against the goal.

    With ``d_t`` the :func:`distance` after action ``t``: ``steps="final"`` is ``d_H``;
    ``steps="sum"`` is ``(sum_t d_t / H + final_weight * d_H) / (1 + final_weight)``, a weighted
    sum whose weights add up to 1 (so its scale matches ``final``). The final step alone looks
    past obstacles but leaves the path before it free, so the agent drifts once the goal is in
    reach; the sum keeps it at the goal but favours short detours; a ``final_weight`` of a few
    balances the two.
    """
    if steps not in ("final", "sum"):
        raise ValueError(f"steps={steps!r}: allowed 'final' or 'sum'")
    if not (final_weight >= 0 and math.isfinite(final_weight)):
        raise ValueError(f"final_weight={final_weight!r}: must be finite and >= 0")
    if predicted.ndim < 3:
        raise ValueError(
            f"predicted latents must be (S, H, ...), got shape {tuple(predicted.shape)}"
        )
    if steps == "final":
        return distance(predicted[:, -1], z_goal, kind)
    s, h = predicted.shape[:2]
    per_step = distance(predicted.reshape(s * h, *predicted.shape[2:]), z_goal, kind).view(s, h)
    return (per_step.mean(dim=1) + final_weight * per_step[:, -1]) / (1.0 + final_weight)

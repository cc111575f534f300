"""Multi-mode search: a wrapper that lets a sampling planner keep several routes in play.

One mean settles in the nearest local minimum of a distance cost (for instance pressed against a
wall between the agent and the goal). :class:`MultiModePlanner` searches ``count`` means side by
side with the wrapped planner's :meth:`~jepa_world.planning.sampling.SamplingPlanner.search`,
each with ``samples // count`` samples and ``elites // count`` elites (the same roll-outs per
plan, in one batch), each warm started from its own previous plan; the cheapest mode's plan is
executed. A mode starts from a random heading (:meth:`MultiModePlanner.heading_plan`) and
restarts from one whenever its summed actions end within ``separation`` (action units) of a
cheaper mode's, so the modes keep to different routes (mode 0 starts from the planner's usual
start). ``patience`` (None: modes from the first plan) searches one mode with all the samples
until the agent stalls, that many plans without coming 1 % closer to the goal in latent space,
and the ``count`` modes from then on (:meth:`MultiModePlanner.active_modes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from jepa_world.checks import check_int
from jepa_world.planning.costs import distance
from jepa_world.planning.sampling import PlannerConfig, PlanResult, SamplingPlanner, check_latents

if TYPE_CHECKING:
    from jepa_world.planning.protocols import LatentModel

__all__ = ["ModeConfig", "MultiModePlanner"]


@dataclass(frozen=True)
class ModeConfig:
    """``count`` means searched side by side; ``separation``: modes whose summed actions end
    closer than this to a cheaper mode's restart; ``patience`` (None: off): plans without 1 %
    progress toward the goal before the modes are added."""

    count: int = 4
    separation: float = 8.0
    patience: int | None = None

    def __post_init__(self) -> None:
        check_int("modes", self.count, 1)
        if not (self.separation >= 0 and math.isfinite(self.separation)):
            raise ValueError(f"mode_separation={self.separation!r}: must be finite and >= 0")
        patience = self.patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
        ):
            raise ValueError(f"mode_patience={patience!r}: must be None or an int >= 1")


class MultiModePlanner:
    """A sampling planner searching :class:`ModeConfig` ``count`` modes; plans like the planner
    it wraps (``plan``, ``reset``, ``forget``, ``with_bounds``, ``config``)."""

    def __init__(self, planner: SamplingPlanner, modes: ModeConfig | None = None) -> None:
        modes = modes if modes is not None else ModeConfig()
        if modes.count > planner.config.elites:
            raise ValueError(
                f"modes={modes.count!r}: at most elites={planner.config.elites} (each mode refits "
                f"to elites // modes of its own samples)"
            )
        self.planner, self.modes = planner, modes
        self.forget()

    @property
    def config(self) -> PlannerConfig:
        """The wrapped planner's settings."""
        return self.planner.config

    @property
    def name(self) -> str:
        return self.planner.name

    def with_bounds(self, low: Sequence[float], high: Sequence[float]) -> MultiModePlanner:
        """The same search around the wrapped planner with an env's bounds (see
        :meth:`SamplingPlanner.with_bounds`)."""
        bound = self.planner.with_bounds(low, high)
        return self if bound is self.planner else MultiModePlanner(bound, self.modes)

    def reset(self, seed: int | None = None) -> None:
        """Forget every mode and reseed the wrapped planner's noise."""
        self.planner.reset(seed)
        self.forget()

    def forget(self) -> None:
        """Forget every mode's plan and the progress record (a new episode)."""
        self.planner.forget()
        self._modes: Tensor | None = None  # every mode's last plan (modes, H, A)
        self._closest = math.inf  # the nearest the observed latent has come to the goal
        self._stalled = 0  # plans since it last came 1 % closer

    @property
    def mode_plans(self) -> Tensor | None:
        """Every mode's plan ``(modes, H, A)`` after the last call (None before the first)."""
        return None if self._modes is None else self._modes.clone()

    def active_modes(self, z0: Tensor, z_goal: Tensor) -> int:
        """How many modes this plan searches: ``count``, or with ``patience`` set one until the
        observed latent has not come 1 % closer to the goal (the planner's ``cost`` distance)
        for that many plans in a row, then ``count`` until the episode ends (:meth:`forget`)."""
        patience, count = self.modes.patience, self.modes.count
        if patience is None or self._stalled >= patience:
            return count
        now = float(distance(z0, z_goal, self.config.cost))
        if now < 0.99 * self._closest:
            self._closest, self._stalled = now, 0
        else:
            self._stalled += 1
        return count if self._stalled >= patience else 1

    def heading_plan(self) -> Tensor:
        """A fresh mode: one constant action of the longest allowed length in a random
        direction (uniform, drawn from the planner's noise stream) for the first half of the
        horizon, zeros after, clipped. It sends a mode's samples off in a direction the others
        may not try (for instance round the other end of a wall)."""
        cfg, planner = self.config, self.planner
        low, high = planner.require_bounds()
        direction = torch.randn(cfg.action_dim, generator=planner.generator)
        direction = direction / torch.linalg.vector_norm(direction).clamp_min(1e-12)
        reach = float(torch.minimum(high.abs(), low.abs()).min())
        if cfg.max_norm is not None:
            reach = min(reach, cfg.max_norm)
        plan = torch.zeros(cfg.horizon, cfg.action_dim)
        plan[: max(1, cfg.horizon // 2)] = reach * direction
        return planner.clip(plan)

    def initial_means(self, executed: int = 1, modes: int = 1) -> Tensor:
        """The ``modes`` means a plan starts from ``(modes, H, A)``: each mode's previous plan
        as the planner starts from it (warm start), or the planner's cold start for mode 0;
        modes that did not exist yet start from :meth:`heading_plan`."""
        if self.config.warm_start and self._modes is not None:
            kept = [self.planner.start_plan(plan, executed) for plan in self._modes[:modes]]
        else:
            kept = [self.planner.start_plan(None)]
        return torch.stack(kept + [self.heading_plan() for _ in range(modes - len(kept))])

    def _spread(self, plans: Tensor, best: Tensor, keep: int) -> Tensor:
        """Restart (:meth:`heading_plan`) every mode whose plan's summed actions (its end point
        in free space) lie within ``separation`` of a cheaper mode's, so that the modes stay
        apart; mode ``keep`` (the one executed) is never restarted."""
        ends, separation = plans.sum(dim=1), self.modes.separation
        kept: list[int] = []
        for m in torch.argsort(best).tolist():
            near = any(float((ends[m] - ends[j]).norm()) < separation for j in kept)
            if near and m != keep:
                plans[m] = self.heading_plan()
            else:
                kept.append(m)
        return plans

    def plan(self, model: LatentModel, z0: Tensor, z_goal: Tensor, executed: int = 1) -> PlanResult:
        """Plan as the wrapped planner does, over the active modes; execute the cheapest."""
        z0, z_goal = check_latents(z0, z_goal)
        self.planner.require_bounds()
        modes = self.active_modes(z0, z_goal)
        found = self.planner.search(model, z0, z_goal, self.initial_means(executed, modes))
        chosen = int(found.best.argmin())
        plans = self.planner.executed_plans(found)
        if modes > 1:  # restarts write into the plans: a copy outside inference mode
            plans = self._spread(plans.clone(), found.best, chosen)
        self._modes = plans
        plan = plans[chosen]
        return PlanResult(action=plan[0].clone(), plan=plan.clone(), cost=float(found.best[chosen]))

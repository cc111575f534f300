"""Latent planning: CEM and MPPI over a world model, the MPC loop and the Two Rooms protocol.

A planner searches for an action sequence whose predicted latents end near the goal's embedding.
It samples ``samples`` sequences of ``horizon`` actions around a mean plan, always clipped to the
action bounds, rolls the model out on all of them in one batch, scores each by its distance to the
goal embedding and refits the mean (CEM: mean of the elites; MPPI: exponentially weighted mean).
After ``iterations`` refits the first action of the mean plan is executed, and the next call starts
from the plan shifted by one step (warm start). PROTOCOLS.md §1 fixes the evaluation: Two Rooms,
random wall and door per episode, start and goal in opposite rooms, 200 steps, success when the
final distance is below 4.5 px (eb_jepa) and, strictly, when any step comes within 1.41 px (PLDM).

Anything with ``encode`` and ``rollout`` is a :class:`LatentModel`. :class:`TrueDynamics` is one
whose latent is the agent's position and whose roll-out is the simulator itself: the same planner
on it is the ceiling a learned model can reach. :class:`GreedyPolicy` (straight at the goal,
ignoring walls) and :class:`RandomActions` (the floor) are policies that need no model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from jepa_world.probing.metrics import wilson_interval

__all__ = [
    "BASELINES",
    "METRIC_KEYS",
    "PLANNERS",
    "STRICT_SUCCESS_PX",
    "SUCCESS_PX",
    "CEMPlanner",
    "EpisodeResult",
    "GreedyPolicy",
    "LatentModel",
    "MPPIPlanner",
    "PlanResult",
    "PlannerConfig",
    "PlanningPolicy",
    "Policy",
    "RandomActions",
    "SamplingPlanner",
    "TrueDynamics",
    "agent_position",
    "colored_noise",
    "create_planner",
    "distance",
    "evaluate_planning",
    "mppi_weights",
    "plot_episodes",
    "plot_success_vs_budget",
    "run_episode",
    "run_episodes",
    "shift_plan",
    "summarize_episodes",
    "sweep_budget",
    "trajectory_cost",
]

SUCCESS_PX = 4.5  # eb_jepa: success when the final distance to the goal is below this
STRICT_SUCCESS_PX = 1.41  # PLDM: success when any step comes this close
METRIC_KEYS = (
    "planning/success_rate",
    "planning/success_rate_ci_low",
    "planning/success_rate_ci_high",
    "planning/success_rate_strict",
    "planning/final_distance_px",
    "planning/seconds_per_episode",
    "planning/ms_per_plan",
    "planning/steps_to_success",
    "planning/episodes",
)
BASELINES = ("true_dynamics", "greedy", "random_actions")

DistanceKind = Literal["l1", "l2"]
CostSteps = Literal["final", "sum"]
PadMode = Literal["zero", "last"]


# --------------------------------------------------------------------------------------------
# Models and cost
# --------------------------------------------------------------------------------------------


@runtime_checkable
class LatentModel(Protocol):
    """What a planner needs from a world model.

    ``encode(obs)``: observations ``(B, C, H, W)`` (uint8, or float in [0, 1]) -> latents
    ``(B, ...)``. ``rollout(z0, actions)``: latents ``(B, ...)`` and actions ``(B, H, A)`` ->
    the predicted latents after each action, ``(B, H, ...)``.
    """

    def encode(self, obs: Tensor) -> Tensor: ...

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor: ...


def distance(z: Tensor, z_goal: Tensor, kind: DistanceKind = "l1") -> Tensor:
    """Distance of each latent in ``z`` ``(B, ...)`` to ``z_goal`` (same shape, ``(1, ...)`` or
    ``(...)``), reduced to ``(B,)``.

    ``l1`` is the mean absolute difference and ``l2`` the root mean squared difference over the
    latent's elements: the L1 / L2 norms divided by ``D`` / ``sqrt(D)``, so that costs (and hence
    an MPPI temperature) keep their scale whatever the embedding size.
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


def shift_plan(plan: Tensor, pad: PadMode = "zero", steps: int = 1) -> Tensor:
    """Warm start: the plan ``(H, A)`` advanced by ``steps`` executed actions, its end padded with
    zeros or with copies of the last action."""
    if pad not in ("zero", "last"):
        raise ValueError(f"pad={pad!r}: allowed 'zero' or 'last'")
    if plan.ndim != 2 or plan.shape[0] == 0:
        raise ValueError(f"plan must be (H, A) with H >= 1, got shape {tuple(plan.shape)}")
    if not isinstance(steps, int) or not 0 <= steps <= plan.shape[0]:
        raise ValueError(f"steps={steps!r}: allowed [0, horizon={plan.shape[0]}]")
    tail = plan[-1:] if pad == "last" else torch.zeros_like(plan[-1:])
    return torch.cat([plan[steps:], tail.expand(steps, -1)], dim=0)


# --------------------------------------------------------------------------------------------
# Planners
# --------------------------------------------------------------------------------------------


def colored_noise(
    shape: tuple[int, int, int], beta: float = 0.0, generator: torch.Generator | None = None
) -> Tensor:
    """Standard normal noise ``(S, H, A)`` whose power spectrum along the horizon falls as
    ``1 / f**beta`` (iCEM's colored noise): ``beta = 0`` is white noise; larger ``beta`` gives
    smoother, more persistent sequences whose summed displacement grows almost linearly with the
    horizon instead of as its square root, so samples explore far (e.g. to a door) early.

    Built in the frequency domain (``rfft`` bins, the zero frequency scaled as ``f = 1 / H``) and
    divided by its exact per-step standard deviation, so every step keeps unit variance.
    """
    samples, horizon, dims = shape
    if beta == 0 or horizon == 1:
        return torch.randn(shape, generator=generator)
    freqs = torch.fft.rfftfreq(horizon, dtype=torch.float64)
    freqs[0] = 1.0 / horizon
    scale = freqs ** (-beta / 2)
    real = torch.randn((samples, dims, freqs.numel()), generator=generator, dtype=torch.float64)
    imag = torch.randn((samples, dims, freqs.numel()), generator=generator, dtype=torch.float64)
    imag[..., 0] = 0  # the zero and Nyquist bins of a real signal have no imaginary part
    weight = torch.full_like(scale, 2.0)  # each inner bin counts twice (its mirror image)
    weight[0] = 1.0
    if horizon % 2 == 0:
        imag[..., -1] = 0
        weight[-1] = 1.0
    spectrum = torch.complex(real * scale, imag * scale)
    signal = torch.fft.irfft(spectrum, n=horizon, dim=-1)
    variance = (weight.square() * scale.square()).sum() / horizon**2
    return (signal / variance.sqrt()).transpose(1, 2).float()


def _bounds(value: float | Sequence[float], action_dim: int, name: str) -> tuple[float, ...]:
    values = (float(value),) * action_dim if np.isscalar(value) else tuple(map(float, value))
    if len(values) != action_dim:
        raise ValueError(f"{name} has {len(values)} entries, expected action_dim={action_dim}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name}={value!r} must be finite")
    return values


@dataclass(frozen=True)
class PlannerConfig:
    """Settings shared by :class:`CEMPlanner` and :class:`MPPIPlanner`.

    Each plan runs ``iterations`` rounds of ``samples`` action sequences of ``horizon`` steps,
    drawn as ``clip(mean + std * noise, low, high)`` with sample 0 the (clipped) mean itself, so
    the current plan always competes; ``noise`` is :func:`colored_noise` with exponent
    ``noise_beta`` (0: white). The refit uses the ``elites`` cheapest samples (MPPI: set
    ``elites = samples`` for textbook MPPI); ``std`` starts at ``init_std`` every plan and never
    drops below ``min_std``. ``temperature`` is MPPI's, in the units of the cost (see
    :func:`mppi_weights`): rescale it with the latent distance scale of a model; CEM ignores it.
    ``cost``, ``cost_steps`` and ``final_weight`` pick the distance and the step weighting
    (:func:`trajectory_cost`). ``execute="mean"`` returns the refitted mean (the textbook
    answer, smooth); ``"best"`` the cheapest sequence evaluated in any iteration (never worse
    than the warm start under the model, more precise near the goal, but it trusts the model's
    errors more). ``warm_start`` starts each plan from the previous one shifted by the actions
    executed since, padded per ``pad``. ``max_norm`` (None: off) also caps each action's length,
    direction kept: a model trained on short moves forecasts long ones poorly, so a planner may
    stay in its training range (still inside the bounds). ``modes`` > 1 searches that many
    means side by side, each with ``samples // modes`` samples and ``elites // modes`` elites
    (the same roll-outs per plan, in one batch), each warm started from its own previous plan;
    the cheapest mode's plan is executed. A mode starts from a random heading
    (:meth:`SamplingPlanner.heading_plan`) and restarts from one whenever its summed actions end
    within ``mode_separation`` (action units: px in Two Rooms) of a cheaper mode's, so the modes
    keep to different routes where one mean would settle in the nearest local minimum (mode 0
    starts from the usual zeros). ``mode_patience`` (None: modes from the first plan) searches
    one mode with all the samples until the agent stalls, that many plans without coming 1 %
    closer to the goal in latent space, and the ``modes`` from then on (see
    :meth:`SamplingPlanner.active_modes`). ``seed`` seeds the noise (reset per episode).

    The defaults were chosen on Two Rooms with :class:`TrueDynamics` (episodes 0-9): the final
    step weighted 10x against the path lets samples find the door, the path term and a low
    temperature keep the agent on the goal once there, colored noise explores farther, and
    executing the best sequence lands exactly on the goal (held-out episodes 1000-1029, 2-core
    CPU: 28/30 successes with ``"best"``, 26/30 with ``"mean"``; the failures are U-turns of
    50-70 px around the wall, local minima of a distance cost).
    """

    horizon: int = 32
    samples: int = 100
    iterations: int = 4
    elites: int = 20
    temperature: float = 0.1
    init_std: float = 1.5
    min_std: float = 0.05
    low: float | tuple[float, ...] = -2.45
    high: float | tuple[float, ...] = 2.45
    action_dim: int = 2
    cost: DistanceKind = "l2"
    cost_steps: CostSteps = "sum"
    final_weight: float = 10.0
    warm_start: bool = True
    pad: PadMode = "zero"
    noise_beta: float = 2.0
    execute: Literal["mean", "best"] = "best"
    max_norm: float | None = None
    modes: int = 1
    mode_separation: float = 8.0
    mode_patience: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("horizon", 1), ("samples", 1), ("iterations", 1), ("action_dim", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}={value!r}: must be an int >= {low}")
        if isinstance(self.elites, bool) or not isinstance(self.elites, int):
            raise ValueError(f"elites={self.elites!r}: must be an int in [1, samples]")
        if not 1 <= self.elites <= self.samples:
            raise ValueError(f"elites={self.elites!r}: allowed [1, samples={self.samples}]")
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ValueError(f"temperature={self.temperature!r}: must be finite and > 0")
        if not (self.init_std > 0 and math.isfinite(self.init_std)):
            raise ValueError(f"init_std={self.init_std!r}: must be finite and > 0")
        if not (0 <= self.min_std <= self.init_std):
            raise ValueError(f"min_std={self.min_std!r}: allowed [0, init_std={self.init_std}]")
        low = _bounds(self.low, self.action_dim, "low")
        high = _bounds(self.high, self.action_dim, "high")
        if any(lo >= hi for lo, hi in zip(low, high, strict=True)):
            raise ValueError(f"low={self.low!r} must be below high={self.high!r} on every axis")
        if not 0 <= self.noise_beta <= 4:
            raise ValueError(f"noise_beta={self.noise_beta!r}: allowed [0, 4]")
        if self.cost not in ("l1", "l2"):
            raise ValueError(f"cost={self.cost!r}: allowed 'l1' or 'l2'")
        if self.cost_steps not in ("final", "sum"):
            raise ValueError(f"cost_steps={self.cost_steps!r}: allowed 'final' or 'sum'")
        if not (self.final_weight >= 0 and math.isfinite(self.final_weight)):
            raise ValueError(f"final_weight={self.final_weight!r}: must be finite and >= 0")
        if self.execute not in ("mean", "best"):
            raise ValueError(f"execute={self.execute!r}: allowed 'mean' or 'best'")
        if self.pad not in ("zero", "last"):
            raise ValueError(f"pad={self.pad!r}: allowed 'zero' or 'last'")
        if self.max_norm is not None and not (self.max_norm > 0 and math.isfinite(self.max_norm)):
            raise ValueError(f"max_norm={self.max_norm!r}: must be None or finite and > 0")
        if isinstance(self.modes, bool) or not isinstance(self.modes, int) or self.modes < 1:
            raise ValueError(f"modes={self.modes!r}: must be an int >= 1")
        if self.modes > self.elites:
            raise ValueError(
                f"modes={self.modes!r}: at most elites={self.elites} (each mode refits to "
                f"elites // modes of its own samples)"
            )
        patience = self.mode_patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
        ):
            raise ValueError(f"mode_patience={patience!r}: must be None or an int >= 1")
        if not (self.mode_separation >= 0 and math.isfinite(self.mode_separation)):
            raise ValueError(f"mode_separation={self.mode_separation!r}: must be finite and >= 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: must be an int >= 0")


@dataclass
class PlanResult:
    """One plan: the action to execute now ``(A,)``, the whole plan ``(H, A)``, and the cost of
    the best sequence evaluated in the last iteration."""

    action: Tensor
    plan: Tensor
    cost: float


class SamplingPlanner:
    """Sampling, clipping, batched roll-out and warm start; subclasses only refit the mean."""

    name = "sampling"

    def __init__(self, config: PlannerConfig | None = None, **overrides: Any) -> None:
        config = config if config is not None else PlannerConfig()
        self.config = replace(config, **overrides) if overrides else config
        cfg = self.config
        self.low = torch.tensor(_bounds(cfg.low, cfg.action_dim, "low"), dtype=torch.float32)
        self.high = torch.tensor(_bounds(cfg.high, cfg.action_dim, "high"), dtype=torch.float32)
        self._generator = torch.Generator()
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Forget the warm start and reseed the noise (``seed`` defaults to the config's)."""
        self._generator.manual_seed(self.config.seed if seed is None else int(seed))
        self.forget()

    def forget(self) -> None:
        """Forget the warm start only (a new episode), keeping the noise stream."""
        self._modes: Tensor | None = None  # every mode's last plan (modes, H, A)
        self._closest = math.inf  # the nearest the observed latent has come to the goal
        self._stalled = 0  # plans since it last came 1 % closer

    @property
    def mode_plans(self) -> Tensor | None:
        """Every mode's plan ``(modes, H, A)`` after the last call (None before the first)."""
        return None if self._modes is None else self._modes.clone()

    def initial_means(self, executed: int = 1, modes: int = 1) -> Tensor:
        """The ``modes`` means a plan starts from ``(modes, H, A)``: when warm starting, each
        mode's previous plan shifted by the ``executed`` actions (:func:`shift_plan`), else zeros
        (clipped into the bounds) for mode 0; modes that did not exist yet start from
        :meth:`heading_plan`."""
        cfg = self.config
        if cfg.warm_start and self._modes is not None:
            kept = [shift_plan(plan, cfg.pad, executed) for plan in self._modes[:modes]]
        else:
            kept = [self.clip(torch.zeros(cfg.horizon, cfg.action_dim))]
        return torch.stack(kept + [self.heading_plan() for _ in range(modes - len(kept))])

    def active_modes(self, z0: Tensor, z_goal: Tensor) -> int:
        """How many modes this plan searches: ``modes``, or with ``mode_patience`` set one until
        the observed latent has not come 1 % closer to the goal (``cost`` distance) for that many
        plans in a row, then ``modes`` until the episode ends (:meth:`forget`)."""
        cfg = self.config
        if cfg.mode_patience is None or self._stalled >= cfg.mode_patience:
            return cfg.modes
        now = float(distance(z0, z_goal, cfg.cost))
        if now < 0.99 * self._closest:
            self._closest, self._stalled = now, 0
        else:
            self._stalled += 1
        return cfg.modes if self._stalled >= cfg.mode_patience else 1

    def heading_plan(self) -> Tensor:
        """A fresh mode: one constant action of the longest allowed length in a random
        direction (uniform, drawn from the planner's noise stream) for the first half of the
        horizon, zeros after, clipped. It sends a mode's samples off in a direction the others
        may not try (for instance round the other end of a wall)."""
        cfg = self.config
        direction = torch.randn(cfg.action_dim, generator=self._generator)
        direction = direction / torch.linalg.vector_norm(direction).clamp_min(1e-12)
        reach = float(torch.minimum(self.high.abs(), self.low.abs()).min())
        if cfg.max_norm is not None:
            reach = min(reach, cfg.max_norm)
        plan = torch.zeros(cfg.horizon, cfg.action_dim)
        plan[: max(1, cfg.horizon // 2)] = reach * direction
        return self.clip(plan)

    def clip(self, actions: Tensor) -> Tensor:
        """Actions clipped to ``[low, high]`` per axis, then (``max_norm``) scaled down, direction
        kept, to at most ``max_norm`` long."""
        low, high = self.low.to(actions.device), self.high.to(actions.device)
        actions = torch.clamp(actions, min=low, max=high)
        if self.config.max_norm is None:
            return actions
        norm = torch.linalg.vector_norm(actions, dim=-1, keepdim=True)
        return actions * (self.config.max_norm / norm.clamp_min(self.config.max_norm))

    def _refit(self, actions: Tensor, costs: Tensor, elites: int) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _spread_modes(self, plans: Tensor, best: Tensor, keep: int) -> Tensor:
        """Restart (:meth:`heading_plan`) every mode whose plan's summed actions (its end point
        in free space) lie within ``mode_separation`` of a cheaper mode's, so that the modes
        stay apart; mode ``keep`` (the one executed) is never restarted."""
        ends, separation = plans.sum(dim=1), self.config.mode_separation
        kept: list[int] = []
        for m in torch.argsort(best).tolist():
            near = any(float((ends[m] - ends[j]).norm()) < separation for j in kept)
            if near and m != keep:
                plans[m] = self.heading_plan()
            else:
                kept.append(m)
        return plans

    @torch.no_grad()
    def plan(self, model: LatentModel, z0: Tensor, z_goal: Tensor, executed: int = 1) -> PlanResult:
        """Plan from the latent ``z0`` ``(1, ...)`` of the current observation toward ``z_goal``
        (same shape). ``executed``: actions of the previous plan run since it was made (the warm
        start shift)."""
        cfg = self.config
        if z0.ndim < 2 or z0.shape[0] != 1:
            raise ValueError(f"z0 must be one batched latent (1, ...), got {tuple(z0.shape)}")
        if z_goal.shape == z0.shape[1:]:
            z_goal = z_goal.unsqueeze(0)
        if z_goal.shape != z0.shape:
            raise ValueError(
                f"z_goal shape {tuple(z_goal.shape)} does not match z0 shape {tuple(z0.shape)}"
            )
        device = z0.device
        modes = self.active_modes(z0, z_goal)
        per_mode, elites = cfg.samples // modes, cfg.elites // modes
        shape = (modes, per_mode, cfg.horizon, cfg.action_dim)
        means = self.initial_means(executed, modes)
        stds = torch.full_like(means, cfg.init_std)
        start = z0.expand(modes * per_mode, *z0.shape[1:])
        best, best_plans = torch.full((modes,), math.inf), means.clone()
        for _ in range(cfg.iterations):
            noise = colored_noise((modes * per_mode, *shape[2:]), cfg.noise_beta, self._generator)
            actions = means[:, None] + stds[:, None] * noise.view(shape)
            actions[:, 0] = means
            actions = self.clip(actions)
            predicted = model.rollout(start, actions.flatten(0, 1).to(device))
            if predicted.shape[:2] != (modes * per_mode, cfg.horizon):
                raise ValueError(
                    f"model.rollout returned shape {tuple(predicted.shape)}, expected "
                    f"({modes * per_mode}, {cfg.horizon}, ...) for actions "
                    f"{(modes * per_mode, *shape[2:])}"
                )
            costs = trajectory_cost(predicted, z_goal, cfg.cost, cfg.cost_steps, cfg.final_weight)
            costs = costs.float().cpu()
            if not torch.isfinite(costs).all():
                raise ValueError("the model's roll-out gave non-finite costs (NaN or inf latents)")
            costs = costs.view(modes, per_mode)
            cheapest, index = costs.min(dim=1)
            better = cheapest < best
            best = torch.where(better, cheapest, best)
            best_plans[better] = actions[better, index[better]]
            refits = [self._refit(actions[m], costs[m], elites) for m in range(modes)]
            means = torch.stack([mean for mean, _ in refits])
            stds = torch.stack([std for _, std in refits]).clamp_min(cfg.min_std)
        chosen = int(best.argmin())
        plans = best_plans if cfg.execute == "best" else self.clip(means)
        if modes > 1:
            plans = self._spread_modes(plans, best, chosen)
        self._modes = plans
        plan = plans[chosen]
        return PlanResult(action=plan[0].clone(), plan=plan.clone(), cost=float(best[chosen]))


class CEMPlanner(SamplingPlanner):
    """Cross-entropy method: the new mean and std are those of the ``elites`` cheapest samples."""

    name = "cem"

    def _refit(self, actions: Tensor, costs: Tensor, elites: int) -> tuple[Tensor, Tensor]:
        elite = actions[torch.topk(costs, elites, largest=False).indices]
        return elite.mean(dim=0), elite.std(dim=0, unbiased=False)


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


PLANNERS: dict[str, type[SamplingPlanner]] = {"cem": CEMPlanner, "mppi": MPPIPlanner}


def create_planner(
    name: str = "mppi", config: PlannerConfig | None = None, **overrides: Any
) -> CEMPlanner | MPPIPlanner:
    """Build a planner by name (``"cem"`` or ``"mppi"``)."""
    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}: choose one of {sorted(PLANNERS)}")
    return PLANNERS[name](config, **overrides)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Two Rooms: the simulator as a model, and model-free policies
# --------------------------------------------------------------------------------------------


def agent_position(obs: np.ndarray | Tensor) -> np.ndarray:
    """Agent ``(x, y)`` px from Two Rooms observations ``(..., 2, H, W)``: the centroid of the
    agent channel (pixel ``(i, j)`` centred at ``(j + 0.5, i + 0.5)``)."""
    arr = obs.detach().cpu().numpy() if isinstance(obs, Tensor) else np.asarray(obs)
    if arr.ndim < 3 or arr.shape[-3] != 2:
        raise ValueError(f"obs must be (..., 2, H, W) Two Rooms frames, got shape {arr.shape}")
    dot = arr[..., 0, :, :].astype(np.float64)
    mass = dot.sum(axis=(-2, -1))
    if (mass <= 0).any():
        raise ValueError("obs has an empty agent channel: no agent to locate")
    h, w = dot.shape[-2:]
    x = (dot.sum(axis=-2) * (np.arange(w) + 0.5)).sum(axis=-1) / mass
    y = (dot.sum(axis=-1) * (np.arange(h) + 0.5)).sum(axis=-1) / mass
    return np.stack([x, y], axis=-1)


class TrueDynamics:
    """Two Rooms' own simulator as a :class:`LatentModel`: the latent is the agent's position
    (px), ``encode`` reads it off the agent channel and ``rollout`` steps the env's vectorised
    ``move`` with this episode's wall. Cost ``l2`` is then the Euclidean distance / sqrt(2).
    """

    def __init__(self, wall_x: int, door_y: int) -> None:
        from jepa_world.worlds import two_rooms

        for name, value, (low, high) in (
            ("wall_x", wall_x, two_rooms.WALL_X_LIMITS),
            ("door_y", door_y, two_rooms.DOOR_Y_LIMITS),
        ):
            if int(value) != value or not low <= value <= high:
                raise ValueError(f"{name}={value!r}: allowed whole pixels in [{low}, {high}]")
        self.wall_x, self.door_y = int(wall_x), int(door_y)
        self._move = two_rooms.move

    @classmethod
    def from_env(cls, env: Any) -> TrueDynamics:
        """The model of the layout ``env`` (a ``TwoRoomsEnv``, maybe wrapped) is in now."""
        env = getattr(env, "unwrapped", env)
        return cls(env.wall_x, env.door_y)

    def encode(self, obs: Tensor) -> Tensor:
        return torch.from_numpy(agent_position(obs)).float()

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        if z0.ndim != 2 or z0.shape[1] != 2 or actions.ndim != 3 or actions.shape[2] != 2:
            raise ValueError(
                f"expected z0 (B, 2) and actions (B, H, 2), got {tuple(z0.shape)}, "
                f"{tuple(actions.shape)}"
            )
        position = z0.detach().cpu().double().numpy()
        steps = actions.detach().cpu().double().numpy()
        out = np.empty(steps.shape, dtype=np.float64)
        for t in range(steps.shape[1]):
            position = self._move(position, steps[:, t], self.wall_x, self.door_y)
            out[:, t] = position
        return torch.from_numpy(out).to(device=z0.device, dtype=z0.dtype)


@runtime_checkable
class Policy(Protocol):
    """Anything that picks an action from the observation and the env's ``info``."""

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray: ...


class GreedyPolicy:
    """Straight at the goal position, ignoring walls: the displacement to the goal, scaled down
    (direction kept) until each axis is within the bounds. Reads ``info["goal"]``."""

    def __init__(self, low: float = -2.45, high: float = 2.45) -> None:
        if not low < 0 < high:
            raise ValueError(f"bounds (low={low}, high={high}) must satisfy low < 0 < high")
        self.low, self.high = float(low), float(high)

    def reset(self, seed: int | None = None) -> None:
        """Stateless."""

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
        if "goal" not in info:
            raise ValueError("GreedyPolicy needs info['goal']: reset the env with a goal")
        step = np.asarray(info["goal"], np.float64) - np.asarray(info["position"], np.float64)
        limit = np.where(step >= 0, self.high, -self.low)
        scale = min(1.0, float(np.min(limit / np.maximum(np.abs(step), 1e-12))))
        return np.clip(step * scale, self.low, self.high).astype(np.float32)


class RandomActions:
    """Uniform random actions in the bounds: the floor every model must beat."""

    def __init__(self, low: float = -2.45, high: float = 2.45, action_dim: int = 2) -> None:
        if not low < high:
            raise ValueError(f"low={low} must be below high={high}")
        self.low, self.high, self.action_dim = float(low), float(high), int(action_dim)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
        return self._rng.uniform(self.low, self.high, self.action_dim).astype(np.float32)


def _model_device(model: Any) -> torch.device:
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.device
    return torch.device("cpu")


class PlanningPolicy:
    """MPC with a planner and a model toward ``goal_obs``: replan every ``replan_every`` steps
    and execute the plan's actions in between. ``current_plan`` is the plan being executed;
    ``plan_seconds`` the wall time of each plan (encoding the observation included). A model with
    ``begin_episode()`` and ``observe(z, a, z_next)`` (:class:`~jepa_world.probing.adaptation.
    AdaptingModel`) starts afresh with the policy and is told every executed transition."""

    def __init__(
        self,
        planner: SamplingPlanner,
        model: LatentModel,
        goal_obs: np.ndarray | Tensor,
        replan_every: int = 1,
    ) -> None:
        if not isinstance(model, LatentModel):
            raise TypeError(f"model must have encode() and rollout(), got {type(model).__name__}")
        if not 1 <= replan_every <= planner.config.horizon:
            raise ValueError(
                f"replan_every={replan_every!r}: allowed [1, horizon={planner.config.horizon}]"
            )
        self.planner, self.model, self.replan_every = planner, model, int(replan_every)
        self.device = _model_device(model)
        with torch.no_grad():
            self.z_goal = model.encode(self._batch(goal_obs))
        self.plan_seconds: list[float] = []
        self.current_plan = torch.empty(0)
        self._step = 0
        self._adapts = callable(getattr(model, "observe", None))
        self._last: tuple[Tensor, Tensor] | None = None
        if self._adapts:
            model.begin_episode()  # type: ignore[attr-defined]
        planner.forget()

    def _batch(self, obs: np.ndarray | Tensor) -> Tensor:
        t = obs if isinstance(obs, Tensor) else torch.from_numpy(np.ascontiguousarray(obs))
        return t.unsqueeze(0).to(self.device)

    def reset(self, seed: int | None = None) -> None:
        self.planner.reset(seed)
        self.plan_seconds = []
        self._step = 0
        self._last = None
        if self._adapts:
            self.model.begin_episode()  # type: ignore[attr-defined]

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
        """The next action; a model that adapts (``observe``) is first told what the previous
        action did (timed with the plan)."""
        k = self._step % self.replan_every
        began = time.perf_counter()
        z0 = None
        if k == 0 or self._adapts:
            with torch.no_grad():
                z0 = self.model.encode(self._batch(obs))
        if self._adapts and self._last is not None:
            self.model.observe(self._last[0][0], self._last[1], z0[0])  # type: ignore[attr-defined,index]
        if k == 0:
            executed = self.replan_every if self._step else 1
            self.current_plan = self.planner.plan(self.model, z0, self.z_goal, executed).plan
            self.plan_seconds.append(time.perf_counter() - began)
        self._step += 1
        action = self.current_plan[k]
        if self._adapts:
            self._last = (z0, action)  # type: ignore[assignment]
        return action.cpu().numpy().astype(np.float32)


# --------------------------------------------------------------------------------------------
# Episodes
# --------------------------------------------------------------------------------------------


@dataclass
class EpisodeResult:
    """One episode: ``path`` (T + 1, 2) px from the start, ``actions`` (T, 2) executed,
    ``distances`` (T + 1,) to the goal, the layout and its wall mask, the success flags, the first
    step within 4.5 px (``None`` if never), wall time and time per plan (ms)."""

    path: np.ndarray
    actions: np.ndarray
    distances: np.ndarray
    goal: np.ndarray
    wall_x: int
    door_y: int
    wall: np.ndarray
    success: bool
    success_strict: bool
    final_distance: float
    steps_to_success: int | None
    seconds: float
    ms_per_plan: float
    plans: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (arrays as lists), without the wall mask."""
        out = {k: v for k, v in asdict(self).items() if k != "wall"}
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in out.items()}


def _current(env: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """The observation and info of a Two Rooms env's present state (without stepping it)."""
    from jepa_world.worlds.two_rooms import render_frames

    base = getattr(env, "unwrapped", env)
    obs = render_frames(base.position[None, None], [base.wall_x], [base.door_y], base.sigma)[0, 0]
    info: dict[str, Any] = {"position": base.position.copy(), "wall_x": base.wall_x}
    info["door_y"] = base.door_y
    if base.goal is not None:
        info["goal"] = base.goal.copy()
    return obs, info


def run_episode(
    env: Any,
    planner: SamplingPlanner | None,
    model: LatentModel | Policy,
    goal_obs: np.ndarray | None = None,
    max_steps: int = 200,
    replan_every: int = 1,
) -> EpisodeResult:
    """Run one MPC episode in a Two Rooms env that was just reset (with a goal).

    With a ``planner``, ``model`` is a :class:`LatentModel` planned toward ``goal_obs`` (default:
    the env's goal observation); with ``planner=None``, ``model`` is a :class:`Policy`. All
    ``max_steps`` steps are taken (success is judged on the final distance, eb_jepa's rule);
    ``success_strict`` is any step within 1.41 px (PLDM's rule). The time per plan counts encoding
    the observation and planning (per decision for a policy).
    """
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps={max_steps!r}: must be an int >= 1")
    if not isinstance(replan_every, int) or replan_every < 1:
        raise ValueError(f"replan_every={replan_every!r}: must be an int >= 1")
    obs, info = _current(env)
    if "goal" not in info:
        raise ValueError("the env has no goal: reset it with a goal before run_episode")
    base = getattr(env, "unwrapped", env)
    began = time.perf_counter()
    if planner is not None:
        goal_obs = base.goal_observation() if goal_obs is None else goal_obs
        policy: Any = PlanningPolicy(planner, model, goal_obs, replan_every)  # type: ignore[arg-type]
        decisions = policy.plan_seconds
    elif isinstance(model, Policy):
        policy, decisions = model, []
    else:
        raise TypeError(
            f"with planner=None, model must be a Policy (act, reset); got {type(model).__name__}"
        )
    goal = np.asarray(info["goal"], dtype=np.float64)
    path, actions = [np.asarray(info["position"], np.float64)], []
    for _ in range(max_steps):
        tick = time.perf_counter()
        action = np.asarray(policy.act(obs, info), dtype=np.float32)
        if planner is None:
            decisions.append(time.perf_counter() - tick)
        obs, _, _, _, info = env.step(action)
        actions.append(action)
        path.append(np.asarray(info["position"], np.float64))
    seconds = time.perf_counter() - began
    path_arr = np.stack(path)
    dist = np.linalg.norm(path_arr - goal, axis=1)
    within = np.flatnonzero(dist < SUCCESS_PX)
    return EpisodeResult(
        path=path_arr,
        actions=np.stack(actions),
        distances=dist,
        goal=goal,
        wall_x=int(base.wall_x),
        door_y=int(base.door_y),
        wall=obs[1].copy(),
        success=bool(dist[-1] < SUCCESS_PX),
        success_strict=bool((dist < STRICT_SUCCESS_PX).any()),
        final_distance=float(dist[-1]),
        steps_to_success=int(within[0]) if within.size else None,
        seconds=seconds,
        ms_per_plan=1000.0 * float(np.mean(decisions)) if decisions else 0.0,
        plans=len(decisions),
    )


def _episode_controller(
    model_or_policy: LatentModel | Policy | str, env: Any
) -> LatentModel | Policy:
    """The model or policy for the episode ``env`` was just reset to (baselines by name)."""
    if isinstance(model_or_policy, str):
        if model_or_policy not in BASELINES:
            raise ValueError(f"unknown baseline {model_or_policy!r}: choose one of {BASELINES}")
        low, high = float(env.action_space.low[0]), float(env.action_space.high[0])
        if model_or_policy == "greedy":
            return GreedyPolicy(low, high)
        if model_or_policy == "random_actions":
            return RandomActions(low, high)
        return TrueDynamics.from_env(env)
    if isinstance(model_or_policy, LatentModel | Policy):
        return model_or_policy
    raise TypeError(
        f"model_or_policy must be a LatentModel, a Policy or one of {BASELINES}; "
        f"got {type(model_or_policy).__name__}"
    )


def run_episodes(
    model_or_policy: LatentModel | Policy | str,
    episodes: int = 200,
    seed: int = 0,
    planner: SamplingPlanner | None = None,
    max_steps: int = 200,
    replan_every: int = 1,
    env_kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
) -> list[EpisodeResult]:
    """Episodes ``seed, seed + 1, ...`` of PROTOCOLS §1 "medium": ``env.reset(seed=seed + i)``
    draws the wall and door, and a start and goal in opposite rooms; the planner (default MPPI
    with :class:`PlannerConfig` defaults) and any random policy are reseeded with ``seed + i``.
    ``model_or_policy`` is a :class:`LatentModel`, a :class:`Policy`, or a baseline name:
    ``"true_dynamics"`` (the same planner on the simulator), ``"greedy"``, ``"random_actions"``.

    ``workers > 1`` runs the episodes in that many forked processes of one torch thread each
    (episodes are independent and reseeded, so the results do not depend on ``workers``; each
    episode's timings are then those of one core).
    """
    if not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes={episodes!r}: must be an int >= 1")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be an int >= 0")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r}: must be an int >= 1")
    planner = planner if planner is not None else create_planner("mppi")
    job = _EpisodeJob(model_or_policy, seed, planner, max_steps, replan_every, env_kwargs)
    workers = min(workers, episodes)
    if workers == 1:
        return job.run(range(episodes))
    import multiprocessing

    global _JOB
    _JOB = job  # forked workers inherit it: the model is never pickled
    try:
        with multiprocessing.get_context("fork").Pool(workers, _one_thread) as pool:
            parts = pool.map(_run_job, [range(w, episodes, workers) for w in range(workers)])
    finally:
        _JOB = None
    ordered: list[EpisodeResult | None] = [None] * episodes
    for w, part in enumerate(parts):
        ordered[w::workers] = part
    return [r for r in ordered if r is not None]


@dataclass
class _EpisodeJob:
    """Everything one episode needs besides its index, so that workers can run any subset."""

    model_or_policy: Any
    seed: int
    planner: SamplingPlanner
    max_steps: int
    replan_every: int
    env_kwargs: Mapping[str, Any] | None

    def run(self, indices: Sequence[int]) -> list[EpisodeResult]:
        from jepa_world.worlds.two_rooms import TwoRoomsEnv

        env = TwoRoomsEnv(max_episode_steps=self.max_steps, **dict(self.env_kwargs or {}))
        results = []
        for i in indices:
            env.reset(seed=self.seed + i)
            controller = _episode_controller(self.model_or_policy, env)
            episode_planner = None
            if isinstance(controller, LatentModel):
                episode_planner = self.planner
                episode_planner.reset(self.seed + i)
            else:
                controller.reset(self.seed + i)
            results.append(
                run_episode(
                    env, episode_planner, controller, None, self.max_steps, self.replan_every
                )
            )
        env.close()
        return results


_JOB: _EpisodeJob | None = None


def _one_thread() -> None:
    torch.set_num_threads(1)


def _run_job(indices: Sequence[int]) -> list[EpisodeResult]:
    assert _JOB is not None, "a worker started without its job"
    return _JOB.run(indices)


def summarize_episodes(results: Sequence[EpisodeResult]) -> dict[str, float | int | None]:
    """The ``planning/...`` metrics (:data:`METRIC_KEYS`) of a list of episodes.

    ``success_rate`` has a Wilson 95 % interval; ``final_distance_px`` and ``seconds_per_episode``
    are means; ``ms_per_plan`` is the mean over all plans of all episodes; ``steps_to_success`` is
    the median first step within 4.5 px over successful episodes, ``None`` when none succeeded.
    """
    if not results:
        raise ValueError("results must hold at least one episode")
    n = len(results)
    wins = sum(r.success for r in results)
    low, high = wilson_interval(wins, n)
    plans = sum(r.plans for r in results)
    steps = [r.steps_to_success for r in results if r.success and r.steps_to_success is not None]
    return {
        "planning/success_rate": wins / n,
        "planning/success_rate_ci_low": float(low),
        "planning/success_rate_ci_high": float(high),
        "planning/success_rate_strict": sum(r.success_strict for r in results) / n,
        "planning/final_distance_px": float(np.mean([r.final_distance for r in results])),
        "planning/seconds_per_episode": float(np.mean([r.seconds for r in results])),
        "planning/ms_per_plan": (
            sum(r.ms_per_plan * r.plans for r in results) / plans if plans else 0.0
        ),
        "planning/steps_to_success": float(np.median(steps)) if steps else None,
        "planning/episodes": n,
    }


def evaluate_planning(
    model_or_policy: LatentModel | Policy | str,
    episodes: int = 200,
    seed: int = 0,
    planner: SamplingPlanner | None = None,
    max_steps: int = 200,
    replan_every: int = 1,
    env_kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
) -> dict[str, float | int | None]:
    """Run :func:`run_episodes` and return exactly the :data:`METRIC_KEYS` metrics."""
    results = run_episodes(
        model_or_policy, episodes, seed, planner, max_steps, replan_every, env_kwargs, workers
    )
    return summarize_episodes(results)


def sweep_budget(
    model_or_policy: LatentModel | str,
    budgets: Sequence[tuple[int, int]],
    planner: str = "mppi",
    config: PlannerConfig | None = None,
    episodes: int = 20,
    seed: int = 0,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Success against planning budget: one :func:`evaluate_planning` per ``(samples,
    iterations)``; rows hold ``samples``, ``iterations``, ``budget`` and the metrics."""
    config = config if config is not None else PlannerConfig()
    rows = []
    for samples, iterations in budgets:
        cfg = replace(
            config, samples=samples, iterations=iterations, elites=min(config.elites, samples)
        )
        metrics = evaluate_planning(
            model_or_policy, episodes, seed, create_planner(planner, cfg), **kwargs
        )
        rows.append(
            {"samples": samples, "iterations": iterations, "budget": samples * iterations} | metrics
        )
    return rows


# --------------------------------------------------------------------------------------------
# Plots (matplotlib imported lazily, Agg backend)
# --------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_episodes(
    results: Sequence[EpisodeResult],
    path: str | Path,
    columns: int = 4,
    max_episodes: int = 16,
    title: str | None = None,
) -> Path:
    """A grid of episodes on their maps: walls (with the door), start, goal, path; the panel
    title says the final distance and is green on success (4.5 px rule), red otherwise."""
    if not results:
        raise ValueError("results must hold at least one episode")
    if columns < 1 or max_episodes < 1:
        raise ValueError(f"columns={columns} and max_episodes={max_episodes} must be >= 1")
    plt = _pyplot()
    shown = list(results)[:max_episodes]
    cols = min(columns, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, shown, strict=False):
        size = r.wall.shape[-1]
        ax.imshow(r.wall, cmap="Greys", vmin=0, vmax=400, extent=(0, size, size, 0))
        ax.plot(r.path[:, 0], r.path[:, 1], "-", color="tab:blue", lw=1.2)
        ax.plot(*r.path[0], "o", color="tab:orange", ms=5, label="start")
        ax.plot(*r.goal, "*", color="tab:green", ms=9, label="goal")
        ax.add_patch(plt.Circle(r.goal, SUCCESS_PX, fill=False, color="tab:green", lw=0.8))
        colour = "tab:green" if r.success else "tab:red"
        ax.set_title(f"final {r.final_distance:.1f} px", fontsize=8, color=colour)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_success_vs_budget(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | Path,
) -> Path:
    """Success rate (with its Wilson interval) against samples x iterations, log x axis.

    ``rows`` is :func:`sweep_budget`'s output, or a mapping label -> such rows (one line each,
    e.g. ``{"ours": ..., "true_dynamics": ...}``).
    """
    series = dict(rows) if isinstance(rows, Mapping) else {"": rows}
    if not series or not any(series.values()):
        raise ValueError("rows must hold at least one budget point")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, points in series.items():
        pts = sorted(points, key=lambda p: p["samples"] * p["iterations"])
        x = [p["samples"] * p["iterations"] for p in pts]
        y = np.array([p["planning/success_rate"] for p in pts])
        lo = y - np.array([p["planning/success_rate_ci_low"] for p in pts])
        hi = np.array([p["planning/success_rate_ci_high"] for p in pts]) - y
        ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=label or None)
    ax.set_xscale("log")
    budgets = sorted({p["samples"] * p["iterations"] for pts in series.values() for p in pts})
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("planning budget (samples x iterations)")
    ax.set_ylabel(f"success rate (final < {SUCCESS_PX} px)")
    ax.grid(alpha=0.3)
    if any(series):
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

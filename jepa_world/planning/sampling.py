"""Sampling planners: draw action sequences around a mean plan, roll the model out, refit the mean.

A planner searches for an action sequence whose predicted latents end near the goal's embedding.
It samples ``samples`` sequences of ``horizon`` actions around a mean plan, always clipped to the
action bounds, rolls the model out on all of them in one batch, scores each by its distance to the
goal embedding (:func:`~jepa_world.planning.costs.trajectory_cost`) and refits the mean (CEM: mean
of the elites; MPPI: exponentially weighted mean). After ``iterations`` refits the first action of
the plan is executed, and the next call starts from the plan shifted by one step (warm start).

The bounds are the environment's: a planner made without ``low`` / ``high`` takes them from an
env's ``action_space`` (:meth:`SamplingPlanner.with_bounds`, which the MPC loop calls).
:meth:`SamplingPlanner.search` works on several means at once, which is what the multi-mode
search (:mod:`jepa_world.planning.modes`) wraps a planner with.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor

from jepa_world.checks import check_int
from jepa_world.planning.costs import CostSteps, DistanceKind, trajectory_cost

if TYPE_CHECKING:
    from jepa_world.planning.protocols import LatentModel

__all__ = [
    "PadMode",
    "PlanResult",
    "PlannerConfig",
    "SamplingPlanner",
    "Search",
    "bounds_tuple",
    "check_latents",
    "colored_noise",
    "shift_plan",
]

PadMode = Literal["zero", "last"]
"""What fills the end of a plan shifted by the executed steps: zeros or the last action."""
Bounds = float | Sequence[float] | None


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


@functools.lru_cache(maxsize=16)
def _spectrum(horizon: int, beta: float) -> tuple[Tensor, Tensor]:
    """The amplitude of each ``rfft`` bin and the per-step standard deviation it gives (cached:
    every plan of an episode asks for the same; callers never modify them)."""
    freqs = torch.fft.rfftfreq(horizon, dtype=torch.float64)
    freqs[0] = 1.0 / horizon
    scale = freqs ** (-beta / 2)
    weight = torch.full_like(scale, 2.0)  # each inner bin counts twice (its mirror image)
    weight[0] = 1.0
    if horizon % 2 == 0:
        weight[-1] = 1.0
    variance = (weight.square() * scale.square()).sum() / horizon**2
    return scale, variance.sqrt()


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
    scale, std = _spectrum(horizon, beta)
    real = torch.randn((samples, dims, scale.numel()), generator=generator, dtype=torch.float64)
    imag = torch.randn((samples, dims, scale.numel()), generator=generator, dtype=torch.float64)
    imag[..., 0] = 0  # the zero and Nyquist bins of a real signal have no imaginary part
    if horizon % 2 == 0:
        imag[..., -1] = 0
    spectrum = torch.complex(real * scale, imag * scale)
    signal = torch.fft.irfft(spectrum, n=horizon, dim=-1)
    return (signal / std).transpose(1, 2).float()


def bounds_tuple(value: float | Sequence[float], action_dim: int, name: str) -> tuple[float, ...]:
    """``value`` (one number for every axis, or one per axis) as ``action_dim`` finite floats."""
    values = (float(value),) * action_dim if np.isscalar(value) else tuple(map(float, value))
    if len(values) != action_dim:
        raise ValueError(f"{name} has {len(values)} entries, expected action_dim={action_dim}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name}={value!r} must be finite")
    return values


def _positive_int(name: str, value: Any, low: int = 1) -> None:
    check_int(name, value, low)


def _action_dim(low: Bounds, high: Bounds, action_dim: int | None) -> int | None:
    """The action size the bounds imply when ``action_dim`` is not given."""
    if action_dim is not None:
        return action_dim
    for bound in (low, high):
        if bound is not None and not np.isscalar(bound):
            return len(bound)  # type: ignore[arg-type]
    return None


@dataclass(frozen=True)
class PlannerConfig:
    """Settings shared by the sampling planners (CEM, MPPI).

    Each plan runs ``iterations`` rounds of ``samples`` action sequences of ``horizon`` steps,
    drawn as ``clip(mean + std * noise, low, high)`` with sample 0 the (clipped) mean itself, so
    the current plan always competes; ``noise`` is :func:`colored_noise` with exponent
    ``noise_beta`` (0: white). The refit uses the ``elites`` cheapest samples (MPPI: set
    ``elites = samples`` for textbook MPPI); ``std`` starts at ``init_std`` every plan and never
    drops below ``min_std``. ``temperature`` is MPPI's, in the units of the cost (see
    :func:`~jepa_world.planning.mppi.mppi_weights`): rescale it with the latent distance scale
    of a model; CEM ignores it. ``cost``, ``cost_steps`` and ``final_weight`` pick the distance
    and the step weighting (:func:`~jepa_world.planning.costs.trajectory_cost`).
    ``execute="mean"`` returns the refitted mean (the textbook answer, smooth); ``"best"`` the
    cheapest sequence evaluated in any iteration (never worse than the warm start under the
    model, more precise near the goal, but it trusts the model's errors more). ``warm_start``
    starts each plan from the previous one shifted by the actions executed since, padded per
    ``pad``. ``max_norm`` (None: off) also caps each action's length, direction kept: a model
    trained on short moves forecasts long ones poorly, so a planner may stay in its training
    range (still inside the bounds). ``seed`` seeds the noise (reset per episode).

    ``low`` / ``high`` (one number for every axis, or one per axis) and ``action_dim`` default
    to None: the environment's ``action_space`` then supplies them (see
    :meth:`SamplingPlanner.with_bounds`); set them to plan without an env or inside tighter
    bounds. The defaults are generic; a benchmark's suite sets its own (``probes/two_rooms.yaml``
    and docs/planning.md for Two Rooms).
    """

    horizon: int = 16
    samples: int = 64
    iterations: int = 3
    elites: int = 8
    temperature: float = 0.1
    init_std: float = 1.0
    min_std: float = 0.05
    low: float | tuple[float, ...] | None = None
    high: float | tuple[float, ...] | None = None
    action_dim: int | None = None
    cost: DistanceKind = "l2"
    cost_steps: CostSteps = "final"
    final_weight: float = 0.0
    warm_start: bool = True
    pad: PadMode = "zero"
    noise_beta: float = 0.0
    execute: Literal["mean", "best"] = "mean"
    max_norm: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("horizon", "samples", "iterations"):
            _positive_int(name, getattr(self, name))
        if self.action_dim is not None:
            _positive_int("action_dim", self.action_dim)
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
        self._check_bounds()
        if not 0 <= self.noise_beta <= 4:
            raise ValueError(f"noise_beta={self.noise_beta!r}: allowed [0, 4]")
        for name, allowed in (
            ("cost", ("l1", "l2")),
            ("cost_steps", ("final", "sum")),
            ("execute", ("mean", "best")),
            ("pad", ("zero", "last")),
        ):
            if getattr(self, name) not in allowed:
                choices = " or ".join(map(repr, allowed))
                raise ValueError(f"{name}={getattr(self, name)!r}: allowed {choices}")
        if not (self.final_weight >= 0 and math.isfinite(self.final_weight)):
            raise ValueError(f"final_weight={self.final_weight!r}: must be finite and >= 0")
        if self.max_norm is not None and not (self.max_norm > 0 and math.isfinite(self.max_norm)):
            raise ValueError(f"max_norm={self.max_norm!r}: must be None or finite and > 0")
        check_int("seed", self.seed, 0)

    def _check_bounds(self) -> None:
        if (self.low is None) != (self.high is None):
            raise ValueError(f"low={self.low!r} and high={self.high!r}: set both or neither")
        if self.low is None:
            return
        dims = _action_dim(self.low, self.high, self.action_dim) or 1  # one number: any size
        low = bounds_tuple(self.low, dims, "low")
        high = bounds_tuple(self.high, dims, "high")  # type: ignore[arg-type]
        if any(lo >= hi for lo, hi in zip(low, high, strict=True)):
            raise ValueError(f"low={self.low!r} must be below high={self.high!r} on every axis")

    @property
    def bounded(self) -> bool:
        """Whether the bounds (and hence the action size) are known."""
        return (
            self.low is not None and _action_dim(self.low, self.high, self.action_dim) is not None
        )


@dataclass
class PlanResult:
    """One plan: the action to execute now ``(A,)``, the whole plan ``(H, A)``, and the cost of
    the best sequence evaluated."""

    action: Tensor
    plan: Tensor
    cost: float


class Search(NamedTuple):
    """What :meth:`SamplingPlanner.search` found for each of its ``M`` means: the cheapest cost
    ``(M,)`` and sequence ``(M, H, A)`` evaluated in any iteration, and the last refitted means
    ``(M, H, A)`` (unclipped)."""

    best: Tensor
    best_plans: Tensor
    means: Tensor


def check_latents(z0: Tensor, z_goal: Tensor) -> tuple[Tensor, Tensor]:
    """``z0`` as one batched latent ``(1, ...)`` and ``z_goal`` in the same shape."""
    if z0.ndim < 2 or z0.shape[0] != 1:
        raise ValueError(f"z0 must be one batched latent (1, ...), got {tuple(z0.shape)}")
    if z_goal.shape == z0.shape[1:]:
        z_goal = z_goal.unsqueeze(0)
    if z_goal.shape != z0.shape:
        raise ValueError(
            f"z_goal shape {tuple(z_goal.shape)} does not match z0 shape {tuple(z0.shape)}"
        )
    return z0, z_goal


class SamplingPlanner:
    """Sampling, clipping, batched roll-out and warm start; subclasses only refit the mean."""

    name = "sampling"

    def __init__(self, config: PlannerConfig | None = None, **overrides: Any) -> None:
        config = config if config is not None else PlannerConfig()
        self.config = replace(config, **overrides) if overrides else config
        cfg = self.config
        self.low: Tensor | None = None
        self.high: Tensor | None = None
        if cfg.bounded:
            dims = _action_dim(cfg.low, cfg.high, cfg.action_dim)
            self.config = cfg = replace(cfg, action_dim=dims)
            self.low = torch.tensor(bounds_tuple(cfg.low, dims, "low"), dtype=torch.float32)  # type: ignore[arg-type]
            self.high = torch.tensor(bounds_tuple(cfg.high, dims, "high"), dtype=torch.float32)  # type: ignore[arg-type]
        self.generator = torch.Generator()
        self.reset()

    def with_bounds(self, low: Sequence[float], high: Sequence[float]) -> SamplingPlanner:
        """This planner, or when it has no bounds of its own a new one (same settings) whose
        bounds and action size are ``low`` / ``high`` (an env's action space)."""
        cfg = self.config
        if cfg.bounded:
            return self
        if cfg.low is not None:  # one number for every axis: the env gives the action size
            return type(self)(replace(cfg, action_dim=len(tuple(low))))
        low, high = tuple(map(float, low)), tuple(map(float, high))
        return type(self)(replace(cfg, low=low, high=high, action_dim=len(low)))

    def require_bounds(self) -> tuple[Tensor, Tensor]:
        """The bounds ``(low, high)`` as tensors ``(A,)``; raises when the planner has none."""
        if self.low is None or self.high is None:
            raise ValueError(
                "the planner has no action bounds: set low and high in its config, or plan "
                "through the MPC loop, which takes them from the env's action_space"
            )
        return self.low, self.high

    def reset(self, seed: int | None = None) -> None:
        """Forget the warm start and reseed the noise (``seed`` defaults to the config's)."""
        self.generator.manual_seed(self.config.seed if seed is None else int(seed))
        self.forget()

    def forget(self) -> None:
        """Forget the warm start only (a new episode), keeping the noise stream."""
        self._plan: Tensor | None = None

    def start_plan(self, previous: Tensor | None, executed: int = 1) -> Tensor:
        """The mean a plan starts from ``(H, A)``: when warm starting, the ``previous`` plan
        shifted by the ``executed`` actions (:func:`shift_plan`), else zeros clipped into the
        bounds."""
        cfg = self.config
        if cfg.warm_start and previous is not None:
            return shift_plan(previous, cfg.pad, executed)
        return self.clip(torch.zeros(cfg.horizon, cfg.action_dim))

    def clip(self, actions: Tensor) -> Tensor:
        """Actions clipped to ``[low, high]`` per axis, then (``max_norm``) scaled down, direction
        kept, to at most ``max_norm`` long."""
        low, high = self.require_bounds()
        actions = torch.clamp(actions, min=low.to(actions.device), max=high.to(actions.device))
        if self.config.max_norm is None:
            return actions
        norm = torch.linalg.vector_norm(actions, dim=-1, keepdim=True)
        return actions * (self.config.max_norm / norm.clamp_min(self.config.max_norm))

    def _refit(self, actions: Tensor, costs: Tensor, elites: int) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    @torch.inference_mode()
    def search(self, model: LatentModel, z0: Tensor, z_goal: Tensor, means: Tensor) -> Search:
        """Refit ``M`` means ``(M, H, A)`` side by side for ``iterations`` rounds, each with
        ``samples // M`` samples and ``elites // M`` elites of its own, all rolled out in one
        batch from ``z0`` ``(1, ...)``. Runs in inference mode (no autograd bookkeeping on any
        op of the roll-outs); what it returns are inference tensors, read-only outside it."""
        cfg = self.config
        modes = means.shape[0]
        per_mode, elites = cfg.samples // modes, cfg.elites // modes
        batch = modes * per_mode
        shape = (modes, per_mode, cfg.horizon, cfg.action_dim)
        stds = torch.full_like(means, cfg.init_std)
        start = z0.expand(batch, *z0.shape[1:])
        device = z0.device
        best, best_plans = torch.full((modes,), math.inf), means.clone()
        for _ in range(cfg.iterations):
            noise = colored_noise((batch, *shape[2:]), cfg.noise_beta, self.generator)
            actions = means[:, None] + stds[:, None] * noise.view(shape)
            actions[:, 0] = means
            actions = self.clip(actions)
            predicted = model.rollout(start, actions.flatten(0, 1).to(device))
            if predicted.shape[:2] != (batch, cfg.horizon):
                raise ValueError(
                    f"model.rollout returned shape {tuple(predicted.shape)}, expected "
                    f"({batch}, {cfg.horizon}, ...) for actions {(batch, *shape[2:])}"
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
        return Search(best, best_plans, means)

    def executed_plans(self, found: Search) -> Tensor:
        """The plan each mean ends with ``(M, H, A)``: per ``execute``, the cheapest sequence
        seen or the refitted mean, clipped."""
        return found.best_plans if self.config.execute == "best" else self.clip(found.means)

    def plan(self, model: LatentModel, z0: Tensor, z_goal: Tensor, executed: int = 1) -> PlanResult:
        """Plan from the latent ``z0`` ``(1, ...)`` of the current observation toward ``z_goal``
        (same shape). ``executed``: actions of the previous plan run since it was made (the warm
        start shift)."""
        z0, z_goal = check_latents(z0, z_goal)
        self.require_bounds()
        found = self.search(model, z0, z_goal, self.start_plan(self._plan, executed)[None])
        plan = self.executed_plans(found)[0]
        self._plan = plan
        return PlanResult(action=plan[0].clone(), plan=plan.clone(), cost=float(found.best[0]))

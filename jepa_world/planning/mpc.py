"""Model predictive control: one loop for any gymnasium-style env and any world model.

:class:`MPCPolicy` plans with a planner and a model (anything with ``encode`` and ``rollout``)
toward a goal observation, replanning every ``replan_every`` steps; :func:`run_mpc` steps an env
with any policy (an :class:`MPCPolicy` or a model-free baseline) and records what happened. The
planner's action bounds are the env's (:func:`action_bounds` of its ``action_space``), unless
the planner's config sets its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.checks import check_int
from jepa_world.planning.protocols import LatentModel, Policy
from jepa_world.planning.registry import Planner

__all__ = ["MPCPolicy", "MPCTrace", "action_bounds", "env_action", "run_mpc"]


def action_bounds(space: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A gymnasium action space's bounds per planned action dimension: a ``Box``'s ``low`` /
    ``high`` (flattened); for a ``Discrete(n)``, one score in [0, 1] per choice (the planned
    vector is a one-hot score whose argmax is executed, as gym clips record actions)."""
    if hasattr(space, "low") and hasattr(space, "high"):
        low = tuple(float(v) for v in np.ravel(space.low))
        high = tuple(float(v) for v in np.ravel(space.high))
        return low, high
    if hasattr(space, "n"):
        return (0.0,) * int(space.n), (1.0,) * int(space.n)
    raise TypeError(f"action space {space!r}: expected a Box (low, high) or a Discrete (n)")


def env_action(space: Any, vector: np.ndarray) -> Any:
    """The planned vector as the env takes it: reshaped for a ``Box``, the argmax for a
    ``Discrete``."""
    if hasattr(space, "low") and hasattr(space, "shape"):
        return vector.reshape(space.shape)
    return int(np.argmax(vector))


def _model_device(model: Any) -> torch.device:
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.device
    return torch.device("cpu")


class MPCPolicy:
    """MPC with a planner and a model toward ``goal_obs``: replan every ``replan_every`` steps
    and execute the plan's actions in between. ``current_plan`` is the plan being executed;
    ``plan_seconds`` the wall time of each plan (encoding the observation included). With an
    ``action_space``, a planner without bounds of its own takes the space's. A model with
    ``begin_episode()`` and ``observe(z, a, z_next)``
    (:class:`~jepa_world.planning.adaptation.AdaptingModel`) starts afresh with the policy and
    is told every executed transition."""

    def __init__(
        self,
        planner: Planner,
        model: LatentModel,
        goal_obs: np.ndarray | Tensor,
        replan_every: int = 1,
        action_space: Any = None,
    ) -> None:
        if not isinstance(model, LatentModel):
            raise TypeError(f"model must have encode() and rollout(), got {type(model).__name__}")
        if not 1 <= replan_every <= planner.config.horizon:
            raise ValueError(
                f"replan_every={replan_every!r}: allowed [1, horizon={planner.config.horizon}]"
            )
        if action_space is not None:
            planner = planner.with_bounds(*action_bounds(action_space))
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


@dataclass
class MPCTrace:
    """One MPC run: the executed action vectors ``(T, A)``, the env's ``info`` before the first
    step and after each, the last observation (and with ``keep_observations`` every one the
    policy saw after a step), the wall time of each decision and of the whole loop."""

    actions: np.ndarray
    infos: list[dict[str, Any]]
    last_obs: Any
    decision_seconds: list[float]
    seconds: float
    observations: list[Any] = field(default_factory=list)


def run_mpc(
    env: Any,
    policy: Policy,
    obs: Any,
    info: Mapping[str, Any],
    steps: int,
    observe: Callable[[Any], Any] | None = None,
    keep_observations: bool = False,
) -> MPCTrace:
    """Step ``env`` (already reset to ``obs``, ``info``) ``steps`` times with ``policy`` (or
    until the env terminates). ``observe`` maps the env's observation to what the policy sees
    (default: itself; e.g. a rendered frame). Decisions are timed by the policy when it keeps
    ``plan_seconds`` (an :class:`MPCPolicy`), else here, one per step."""
    check_int("steps", steps, 1)
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must have act() and reset(), got {type(policy).__name__}")
    observe = observe or (lambda o: o)
    timed_by_policy = isinstance(getattr(policy, "plan_seconds", None), list)
    decisions: list[float] = policy.plan_seconds if timed_by_policy else []  # type: ignore[attr-defined]
    seen, infos, actions, kept = observe(obs), [dict(info)], [], []
    began = time.perf_counter()
    for _ in range(steps):
        tick = time.perf_counter()
        action = np.asarray(policy.act(seen, infos[-1]), dtype=np.float32)
        if not timed_by_policy:
            decisions.append(time.perf_counter() - tick)
        obs, _, terminated, _, step_info = env.step(env_action(env.action_space, action))
        seen = observe(obs)
        actions.append(action)
        infos.append(step_info)
        if keep_observations:
            kept.append(seen)
        if terminated:
            break
    seconds = time.perf_counter() - began
    return MPCTrace(np.stack(actions), infos, seen, list(decisions), seconds, kept)

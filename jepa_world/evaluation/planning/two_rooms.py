"""The Two Rooms planning benchmark: success rules, the simulator as a model, baselines, episodes.

The evaluation protocol (docs/protocols.md): Two Rooms, a random wall and door per episode, start
and goal in opposite rooms, 200 steps, success when the final distance is below 4.5 px (eb_jepa)
and, strictly, when any step comes within 1.41 px (PLDM). The action bounds are the env's
(``TwoRoomsEnv.action_space``); everything here reads them from there.

:class:`TrueDynamics` is a model whose latent is the agent's position and whose roll-out is the
simulator itself: the same planner on it is the ceiling a learned model can reach.
:class:`GreedyPolicy` (straight at the goal, ignoring walls) and :class:`RandomActions` (the
floor) are policies that need no model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.checks import check_int
from jepa_world.evaluation.planning.outcome import outcome
from jepa_world.planning.mpc import MPCPolicy, action_bounds, run_mpc
from jepa_world.planning.protocols import LatentModel, Policy
from jepa_world.planning.registry import Planner

__all__ = [
    "BASELINES",
    "STRICT_SUCCESS_PX",
    "SUCCESS_PX",
    "EpisodeResult",
    "GreedyPolicy",
    "RandomActions",
    "TrueDynamics",
    "agent_position",
    "current_observation",
    "episode_controller",
    "run_episode",
]

SUCCESS_PX = 4.5  # eb_jepa: success when the final distance to the goal is below this
"""Success: the final distance to the goal is below this many pixels."""
STRICT_SUCCESS_PX = 1.41  # PLDM: success when any step comes this close
"""Strict success: some step comes this close to the goal, in pixels."""
BASELINES = ("true_dynamics", "greedy", "random_actions")
"""Two Rooms policies that need no learned model."""


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
    """Two Rooms' own simulator as a :class:`~jepa_world.planning.protocols.LatentModel`: the
    latent is the agent's position (px), ``encode`` reads it off the agent channel and
    ``rollout`` steps the env's vectorised ``move`` with this episode's wall. Cost ``l2`` is then
    the Euclidean distance / sqrt(2).
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


def _check_bounds(low: float, high: float, zero_inside: bool) -> tuple[float, float]:
    if zero_inside and not low < 0 < high:
        raise ValueError(f"bounds (low={low}, high={high}) must satisfy low < 0 < high")
    if not low < high:
        raise ValueError(f"low={low} must be below high={high}")
    return float(low), float(high)


class GreedyPolicy:
    """Straight at the goal position, ignoring walls: the displacement to the goal, scaled down
    (direction kept) until each axis is within the bounds. Reads ``info["goal"]``."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _check_bounds(low, high, zero_inside=True)

    @classmethod
    def from_space(cls, action_space: Any) -> GreedyPolicy:
        """Within an env's action bounds (the first axis's, as Two Rooms' are the same)."""
        low, high = action_bounds(action_space)
        return cls(low[0], high[0])

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

    def __init__(self, low: float, high: float, action_dim: int = 2) -> None:
        self.low, self.high = _check_bounds(low, high, zero_inside=False)
        self.action_dim = int(action_dim)
        self.reset()

    @classmethod
    def from_space(cls, action_space: Any) -> RandomActions:
        """Within an env's action bounds (the first axis's), one number per axis."""
        low, high = action_bounds(action_space)
        return cls(low[0], high[0], len(low))

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
        return self._rng.uniform(self.low, self.high, self.action_dim).astype(np.float32)


def episode_controller(
    model_or_policy: LatentModel | Policy | str, env: Any
) -> LatentModel | Policy:
    """The model or policy for the episode ``env`` was just reset to (baselines by name)."""
    if isinstance(model_or_policy, str):
        if model_or_policy not in BASELINES:
            raise ValueError(f"unknown baseline {model_or_policy!r}: choose one of {BASELINES}")
        if model_or_policy == "greedy":
            return GreedyPolicy.from_space(env.action_space)
        if model_or_policy == "random_actions":
            return RandomActions.from_space(env.action_space)
        return TrueDynamics.from_env(env)
    if isinstance(model_or_policy, LatentModel | Policy):
        return model_or_policy
    raise TypeError(
        f"model_or_policy must be a LatentModel, a Policy or one of {BASELINES}; "
        f"got {type(model_or_policy).__name__}"
    )


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


def current_observation(env: Any) -> tuple[np.ndarray, dict[str, Any]]:
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
    planner: Planner | None,
    model: LatentModel | Policy,
    goal_obs: np.ndarray | None = None,
    max_steps: int = 200,
    replan_every: int = 1,
) -> EpisodeResult:
    """Run one MPC episode (:func:`~jepa_world.planning.mpc.run_mpc`) in a Two Rooms env that
    was just reset (with a goal).

    With a ``planner``, ``model`` is a latent model planned toward ``goal_obs`` (default: the
    env's goal observation) within the env's action bounds; with ``planner=None``, ``model`` is
    a policy. All ``max_steps`` steps are taken (success is judged on the final distance,
    eb_jepa's rule); ``success_strict`` is any step within 1.41 px (PLDM's rule). The time per
    plan counts encoding the observation and planning (per decision for a policy).
    """
    check_int("max_steps", max_steps, 1)
    check_int("replan_every", replan_every, 1)
    obs, info = current_observation(env)
    if "goal" not in info:
        raise ValueError("the env has no goal: reset it with a goal before run_episode")
    base = getattr(env, "unwrapped", env)
    began = time.perf_counter()
    if planner is not None:
        goal_obs = base.goal_observation() if goal_obs is None else goal_obs
        policy: Any = MPCPolicy(planner, model, goal_obs, replan_every, env.action_space)  # type: ignore[arg-type]
    elif isinstance(model, Policy):
        policy = model
    else:
        raise TypeError(
            f"with planner=None, model must be a Policy (act, reset); got {type(model).__name__}"
        )
    trace = run_mpc(env, policy, obs, info, max_steps)
    seconds = time.perf_counter() - began
    goal = np.asarray(info["goal"], dtype=np.float64)
    path = np.stack([np.asarray(i["position"], np.float64) for i in trace.infos])
    dist = np.linalg.norm(path - goal, axis=1)
    return EpisodeResult(
        path=path,
        actions=trace.actions,
        distances=dist,
        goal=goal,
        wall_x=int(base.wall_x),
        door_y=int(base.door_y),
        wall=trace.last_obs[1].copy(),
        **outcome(dist, SUCCESS_PX, STRICT_SUCCESS_PX, trace, seconds),
    )

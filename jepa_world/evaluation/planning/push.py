"""The push planning task: move a named ball to a goal, the goal given as an image.

Protocol (``probes/push.yaml``, ``docs/planning.md``): episode ``i`` resets the push env with seed
``seed + i`` (agent and 1-3 balls at rest); the named ball is the red one (slot 0). The goal is a
reachable state made with the simulator, as DINO-WM sets its Push-T goals: from the start, a
scripted pusher takes the agent behind the red ball and pushes it along a random direction for
``goal_steps`` steps, then holds still ``settle_steps`` steps so every ball comes to rest; the goal
image is that final state (the red ball at its goal, the agent and the other balls wherever the
script left them). A goal must move the red ball at least ``MIN_GOAL_PX``. The episode succeeds
when the red ball's centre ends within ``SUCCESS_PX`` of its goal position, whatever the rest.

``SUCCESS_PX`` = 4 px = the ball's radius: the ball then covers its goal centre, and an episode
whose ball never moves (the goal is >= 8 px = two radii away) can never count.

:class:`TrueDynamics` plans with the simulator itself (its latent is the full state), the
ceiling for a learned model under the same planner; :class:`WalkAtBall` (straight at the red
ball's centre, at full speed) and random actions are the floors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.planning.episodes import EpisodeJob, run_job
from jepa_world.evaluation.planning.outcome import outcome
from jepa_world.planning.mpc import MPCPolicy, run_mpc
from jepa_world.planning.protocols import LatentModel, Policy
from jepa_world.planning.registry import Planner
from jepa_world.worlds import push as world

__all__ = [
    "BASELINES",
    "GOAL_STEPS",
    "MIN_GOAL_PX",
    "SETTLE_STEPS",
    "SUCCESS_PX",
    "PushEpisode",
    "PushJob",
    "TrueDynamics",
    "WalkAtBall",
    "episode_start",
    "make_goal",
    "run_push_episode",
    "run_push_episodes",
    "scripted_push",
]

SUCCESS_PX = world.BALL_RADIUS
"""Success: the named ball's centre ends within this many px of its goal (its own radius)."""
MIN_GOAL_PX = 2 * world.BALL_RADIUS
"""A goal moves the named ball at least this far (two radii), so doing nothing never succeeds."""
GOAL_STEPS = 24
"""Steps of the scripted push that makes a goal."""
SETTLE_STEPS = 24
"""Steps the script then holds still: friction stops any ball the push left rolling (one at the
speed cap, 6 px/frame, within 24 frames)."""
TARGET = 0
"""The named ball's slot: the red one."""
BASELINES = ("true_dynamics", "greedy", "random_actions")
"""Policies of the push task that need no learned model (``greedy``: :class:`WalkAtBall`)."""
_GOAL_TRIES = 8


def scripted_push(
    state: world.PushState, target: int, direction: np.ndarray, steps: int
) -> np.ndarray:
    """Actions (B, steps, 2) of a simple pusher: walk to the spot behind ball ``target`` (on the
    side away from ``direction``, unit (B, 2)), then walk along ``direction`` through it."""
    b = len(state.agent)
    out = np.zeros((b, steps, 2))
    reach = world.AGENT_RADIUS + world.BALL_RADIUS
    s = state.copy()
    for t in range(steps):
        ball = s.position[:, target]
        behind = ball - direction * (reach + 1.0)
        to_spot = behind - s.agent
        far = np.linalg.norm(to_spot, axis=-1) > 1.0
        a = np.where(far[:, None], to_spot, direction * world.ACTION_BOUND)
        a = _within(a, world.ACTION_BOUND)
        out[:, t] = a
        s, _ = world.step(s, a)
    return out


def _within(a: np.ndarray, bound: float) -> np.ndarray:
    """Displacements scaled down (direction kept) until each axis is within ``bound``."""
    scale = np.minimum(1.0, bound / np.maximum(np.abs(a).max(axis=-1, keepdims=True), 1e-12))
    return a * scale


def episode_start(seed: int, num_balls: Sequence[int] = (1, 3)) -> world.PushState:
    """The start of episode ``seed``: agent and balls placed at rest (one world)."""
    rng = np.random.default_rng(int(seed))
    lo, hi = int(num_balls[0]), int(num_balls[1])
    count = np.array([lo + min(int(rng.random() * (hi - lo + 1)), hi - lo)])
    spots = rng.random((1, (1 + world.MAX_BALLS) * world.PLACE_TRIES * 2))
    agent, position, present = world.place(spots, count)
    return world.PushState(agent, position, np.zeros_like(position), present)


def make_goal(
    start: world.PushState,
    seed: int,
    goal_steps: int = GOAL_STEPS,
    settle_steps: int = SETTLE_STEPS,
    target: int = TARGET,
) -> tuple[world.PushState, np.ndarray]:
    """A reachable goal for one world: the state after :func:`scripted_push` along a random
    direction and ``settle_steps`` still steps, and the script's actions. Directions are drawn
    from ``default_rng(seed)`` until one moves the named ball >= :data:`MIN_GOAL_PX` (of
    ``_GOAL_TRIES``; else the one that moved it most)."""
    rng = np.random.default_rng([int(seed), 1])
    angles = rng.uniform(-math.pi, math.pi, _GOAL_TRIES)
    best: tuple[float, world.PushState, np.ndarray] | None = None
    for angle in angles:
        direction = np.array([[math.cos(angle), math.sin(angle)]])
        push = scripted_push(start, target, direction, goal_steps)
        actions = np.concatenate([push, np.zeros((1, settle_steps, 2))], axis=1)
        _, goal = world.simulate(start, actions)
        moved = float(np.linalg.norm(goal.position[0, target] - start.position[0, target]))
        if best is None or moved > best[0]:
            best = (moved, goal, actions[0])
        if moved >= MIN_GOAL_PX:
            break
    assert best is not None
    return best[1], best[2]


class TrueDynamics:
    """The push simulator as a :class:`~jepa_world.planning.protocols.LatentModel`: the latent
    is the full state (agent, ball positions and velocities, flattened; absent balls 0), and
    ``rollout`` steps :func:`jepa_world.worlds.push.step`. ``encode`` knows the frames of the
    env's present state and of its goal (a frame alone does not show velocities)."""

    def __init__(self, env: Any) -> None:
        self.env = getattr(env, "unwrapped", env)
        self.present = self.env.state.present.copy()

    @staticmethod
    def latent(state: world.PushState) -> np.ndarray:
        """(B, 2 + 4 K) float64: agent, ball positions, ball velocities."""
        b = len(state.agent)
        parts = [state.agent, state.position.reshape(b, -1), state.velocity.reshape(b, -1)]
        return np.concatenate(parts, axis=1)

    def _state(self, z: np.ndarray) -> world.PushState:
        b, k = len(z), world.MAX_BALLS
        present = np.repeat(self.present, b, axis=0)
        pos = z[:, 2 : 2 + 2 * k].reshape(b, k, 2)
        vel = z[:, 2 + 2 * k :].reshape(b, k, 2)
        return world.PushState(z[:, :2].copy(), pos.copy(), vel.copy(), present)

    def encode(self, obs: Tensor) -> Tensor:
        frames = obs.detach().cpu().numpy()
        env, out = self.env, []
        known = [(env.observe(env.state), env.state)]
        if env.goal is not None:
            known.append((env.observe(env.goal), env.goal))
        for frame in frames:
            match = [s for picture, s in known if np.array_equal(picture, frame)]
            if not match:
                raise ValueError("TrueDynamics.encode knows only the env's present and goal frames")
            out.append(self.latent(match[0])[0])
        return torch.from_numpy(np.stack(out)).float()

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        state = self._state(z0.detach().cpu().double().numpy())
        steps = actions.detach().cpu().double().numpy()
        out = np.empty((steps.shape[0], steps.shape[1], z0.shape[1]))
        for t in range(steps.shape[1]):
            state, _ = world.step(state, steps[:, t], self.env.friction)
            out[:, t] = self.latent(state)
        return torch.from_numpy(out).to(dtype=z0.dtype, device=z0.device)


class WalkAtBall:
    """The greedy floor: straight at the named ball's centre at full speed, ignoring the goal
    (a push in whatever direction the agent arrives from). Reads ``info``."""

    def reset(self, seed: int | None = None) -> None:
        """Stateless."""

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
        gap = np.asarray(info["position"][info["target"]]) - np.asarray(info["agent"])
        return _within(gap[None] * 1e3, world.ACTION_BOUND)[0].astype(np.float32)


@dataclass
class PushEpisode:
    """One episode: the agent's path (T + 1, 2), every ball's path (T + 1, K, 2), ``present``
    (K,), the goal state's agent and balls, the named ball's ``distances`` (T + 1,) to its goal,
    executed ``actions`` (T, 2), the success flags (``success_strict``: within SUCCESS_PX at any
    step), the first step within SUCCESS_PX (``None`` if never), wall time, ms per plan."""

    agent: np.ndarray
    balls: np.ndarray
    present: np.ndarray
    goal_agent: np.ndarray
    goal_balls: np.ndarray
    target: int
    actions: np.ndarray
    distances: np.ndarray
    success: bool
    success_strict: bool
    final_distance: float
    steps_to_success: int | None
    seconds: float
    ms_per_plan: float
    plans: int

    @property
    def goal(self) -> np.ndarray:
        return self.goal_balls[self.target]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (arrays as lists)."""
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in asdict(self).items()}


def run_push_episode(
    env: Any,
    controller: LatentModel | Policy,
    planner: Planner | None,
    max_steps: int,
    replan_every: int = 1,
) -> PushEpisode:
    """One MPC episode (or a policy's) in a push env that was just reset with a goal; all
    ``max_steps`` steps are taken, success judged on the final distance."""
    base = getattr(env, "unwrapped", env)
    obs, info = base.observe(base.state), base._info()
    began = time.perf_counter()
    if planner is not None:
        policy: Any = MPCPolicy(
            planner,
            controller,
            base.goal_observation(),
            replan_every,
            env.action_space,  # type: ignore[arg-type]
        )
    else:
        policy = controller
    trace = run_mpc(env, policy, obs, info, max_steps)
    seconds = time.perf_counter() - began
    target = int(info["target"])
    balls = np.stack([np.asarray(i["position"], np.float64) for i in trace.infos])
    agent = np.stack([np.asarray(i["agent"], np.float64) for i in trace.infos])
    dist = np.linalg.norm(balls[:, target] - base.goal.position[0, target], axis=-1)
    return PushEpisode(
        agent=agent,
        balls=balls,
        present=base.state.present[0].copy(),
        goal_agent=base.goal.agent[0].copy(),
        goal_balls=base.goal.position[0].copy(),
        target=target,
        actions=trace.actions,
        distances=dist,
        **outcome(dist, SUCCESS_PX, SUCCESS_PX, trace, seconds),
    )


@dataclass
class PushJob(EpisodeJob):
    """Everything a push episode needs besides its index: the push task's steps of
    :class:`~.episodes.EpisodeJob` (env, start and goal, controller, episode)."""

    max_steps: int = 60
    goal_steps: int = GOAL_STEPS
    settle_steps: int = SETTLE_STEPS

    def make_env(self) -> Any:
        from jepa_world.worlds.push import PushEnv

        return PushEnv(max_episode_steps=self.max_steps, **dict(self.env_kwargs or {}))

    def reset(self, env: Any, seed: int) -> None:
        start = episode_start(seed, env.num_balls)
        goal, _ = make_goal(start, seed, self.goal_steps, self.settle_steps)
        env.reset(seed=seed, options={"state": start, "goal": goal, "target": TARGET})

    def controller(self, env: Any) -> LatentModel | Policy:
        who = self.model_or_policy
        if isinstance(who, str):
            if who not in BASELINES:
                raise ValueError(f"unknown baseline {who!r}: choose one of {BASELINES}")
            if who == "true_dynamics":
                return TrueDynamics(env)
            if who == "greedy":
                return WalkAtBall()
            from jepa_world.evaluation.planning.two_rooms import RandomActions

            return RandomActions.from_space(env.action_space)
        return who

    def episode(
        self, env: Any, controller: LatentModel | Policy, planner: Planner | None
    ) -> PushEpisode:
        return run_push_episode(env, controller, planner, self.max_steps, self.replan_every)


def run_push_episodes(
    model_or_policy: LatentModel | Policy | str,
    episodes: int,
    seed: int,
    planner: Planner | None = None,
    max_steps: int = 60,
    replan_every: int = 1,
    env_kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
    goal_steps: int = GOAL_STEPS,
    settle_steps: int = SETTLE_STEPS,
) -> list[PushEpisode]:
    """Episodes ``seed .. seed + episodes - 1`` of the push task; every model and baseline sees
    the same starts and goals; ``workers`` forked processes change nothing but the wall time."""
    job = PushJob(
        model_or_policy, seed, planner, max_steps, replan_every, env_kwargs, goal_steps,
        settle_steps,
    )  # fmt: skip
    return run_job(job, episodes, workers)

"""Beyond Two Rooms: plan toward a goal frame in any gymnasium env with the one MPC loop.

The frames are rendered as the gym world records its training clips, so a model trained on
``world: gym`` clips sees what it was trained on. This is a smoke test of the loop on a new
env, not a benchmark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from jepa_world.evaluation.models import load_model
from jepa_world.planning.costs import distance
from jepa_world.planning.mpc import MPCPolicy, action_bounds, run_mpc
from jepa_world.planning.registry import create_planner
from jepa_world.planning.sampling import PlannerConfig

__all__ = ["run_gym_planning"]


def run_gym_planning(
    model: Any,
    env_id: str = "Pendulum-v1",
    steps: int = 10,
    config: PlannerConfig | None = None,
    planner: str = "mppi",
    size: int | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """MPC toward a goal frame in a gymnasium env (:func:`~jepa_world.planning.mpc.run_mpc`).

    The goal frame is the first frame of the episode ``env.reset(seed=seed + 1)``; the agent then
    starts from ``env.reset(seed=seed)`` and replans every step. The planner's bounds are the
    env's action space (:func:`~jepa_world.planning.mpc.action_bounds`): a Box's, or for a
    Discrete one score in [0, 1] per choice, whose argmax is executed (as the recorder flattened
    actions for training). Without a ``config``, a small budget (horizon 8, 64 samples, 3
    iterations, 8 elites) with an initial std of half the largest bound. Returns the latent
    distance to the goal after each step, the executed action vectors and ms per plan.
    """
    from jepa_world.worlds.gym import GymRecorder

    model = load_model(model).model
    size = size or int(model.encoder.config["img_size"])
    recorder = GymRecorder(env_id, frames=2, size=size, env_kwargs=env_kwargs)
    env = recorder._env  # the env and rendering of the training clips
    low, high = action_bounds(env.action_space)
    if config is None:
        config = PlannerConfig(
            horizon=8, samples=64, iterations=3, elites=8, init_std=0.5 * max(high)
        )
    plan = create_planner(planner, config).with_bounds(low, high)
    plan.reset(seed)
    try:
        env.reset(seed=seed + 1)
        goal_frame = recorder._frame()
        obs, info = env.reset(seed=seed)
        policy = MPCPolicy(plan, model, goal_frame, 1, env.action_space)
        trace = run_mpc(
            env,
            policy,
            obs,
            info,
            steps,
            observe=lambda _: recorder._frame(),
            keep_observations=True,
        )
        with torch.no_grad():
            z = model.encode(torch.from_numpy(np.stack(trace.observations)))
        distances = distance(z, policy.z_goal, plan.config.cost).tolist()
    finally:
        recorder.close()
    return {
        "env_id": env_id,
        "latent_distance": [float(d) for d in distances],
        "actions": trace.actions.tolist(),
        "low": plan.low.tolist(),  # type: ignore[union-attr]
        "high": plan.high.tolist(),  # type: ignore[union-attr]
        "ms_per_plan": 1000.0 * float(np.mean(trace.decision_seconds)),
    }

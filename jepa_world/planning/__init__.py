"""Latent planning with a world model: costs, sampling planners, multi-mode search, MPC.

- :mod:`~jepa_world.planning.costs`: latent distance and trajectory cost;
- :mod:`~jepa_world.planning.sampling`, :mod:`~jepa_world.planning.cem`,
  :mod:`~jepa_world.planning.mppi`: the sampling planners and their config;
- :mod:`~jepa_world.planning.modes`: the multi-mode search, a wrapper around a planner;
- :mod:`~jepa_world.planning.mpc`: the one MPC loop for any gymnasium-style env and any model
  with ``encode`` / ``rollout``;
- :mod:`~jepa_world.planning.adaptation`: test-time adaptation of the action predictor.

Benchmarks built on it (Two Rooms) live in :mod:`jepa_world.evaluation.planning`. Importing this
package loads torch and numpy only (no gymnasium, no matplotlib).
"""

from jepa_world.planning.adaptation import AdaptConfig, AdaptingModel
from jepa_world.planning.cem import CEMPlanner
from jepa_world.planning.costs import distance, trajectory_cost
from jepa_world.planning.modes import ModeConfig, MultiModePlanner
from jepa_world.planning.mpc import MPCPolicy, MPCTrace, action_bounds, env_action, run_mpc
from jepa_world.planning.mppi import MPPIPlanner, mppi_weights
from jepa_world.planning.protocols import LatentModel, Policy
from jepa_world.planning.registry import PLANNERS, Planner, create_planner
from jepa_world.planning.sampling import (
    PlannerConfig,
    PlanResult,
    SamplingPlanner,
    colored_noise,
    shift_plan,
)

__all__ = [
    "PLANNERS",
    "AdaptConfig",
    "AdaptingModel",
    "CEMPlanner",
    "LatentModel",
    "MPCPolicy",
    "MPCTrace",
    "MPPIPlanner",
    "ModeConfig",
    "MultiModePlanner",
    "PlanResult",
    "Planner",
    "PlannerConfig",
    "Policy",
    "SamplingPlanner",
    "action_bounds",
    "colored_noise",
    "create_planner",
    "distance",
    "env_action",
    "mppi_weights",
    "run_mpc",
    "shift_plan",
    "trajectory_cost",
]

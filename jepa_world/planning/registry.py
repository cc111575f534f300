"""Planners by name, and a factory that wraps one in the multi-mode search on request."""

from __future__ import annotations

from typing import Any

from jepa_world.planning.cem import CEMPlanner
from jepa_world.planning.modes import ModeConfig, MultiModePlanner
from jepa_world.planning.mppi import MPPIPlanner
from jepa_world.planning.sampling import PlannerConfig, SamplingPlanner

__all__ = ["PLANNERS", "Planner", "create_planner"]

PLANNERS: dict[str, type[SamplingPlanner]] = {"cem": CEMPlanner, "mppi": MPPIPlanner}
"""Sampling planner classes by the name a suite's ``planner.name`` takes."""
Planner = SamplingPlanner | MultiModePlanner
"""A planner: a sampling planner, or one wrapped in the multi-mode search."""


def create_planner(
    name: str = "mppi",
    config: PlannerConfig | None = None,
    *,
    modes: ModeConfig | None = None,
    **overrides: Any,
) -> Planner:
    """Build a planner by name (``"cem"`` or ``"mppi"``) from ``config`` with ``overrides``;
    with ``modes``, wrapped in :class:`~jepa_world.planning.modes.MultiModePlanner`."""
    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}: choose one of {sorted(PLANNERS)}")
    planner = PLANNERS[name](config, **overrides)
    return planner if modes is None else MultiModePlanner(planner, modes)

"""The planning suite's schema: every key of ``probes/two_rooms.yaml`` checked before any episode.

A planning suite (``kind: planning``) has a ``planning`` section: the episodes (count, first env
seed, steps, replanning), the Two Rooms env's layout ranges, the planner (its name, the keys of
:class:`~jepa_world.planning.PlannerConfig` and an optional ``modes`` mapping for the multi-mode
search), optional test-time adaptation, the baselines, a budget sweep and the plots. Errors name
the key (``planning.planner.samples``). The planner's keys reach the planner only through the
:class:`PlanningSpec` built here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from jepa_world.checks import check_int
from jepa_world.evaluation.suite import Section
from jepa_world.planning.adaptation import AdaptConfig
from jepa_world.planning.modes import ModeConfig
from jepa_world.planning.registry import PLANNERS, Planner, create_planner
from jepa_world.planning.sampling import PlannerConfig

__all__ = [
    "BASELINE_NAMES",
    "BUDGET_MODELS",
    "TWO_ROOMS",
    "PlanningSpec",
    "SuiteWorld",
    "parse",
    "read",
]

BASELINE_NAMES = ("random_actions", "greedy", "random_init", "true_dynamics")
"""Baselines a planning suite may name under ``baselines.names``."""
BUDGET_MODELS = ("model", "true_dynamics")
"""Planners a budget sweep may run: the model, or the true simulator."""
_PLANNER_KEYS = tuple(f.name for f in fields(PlannerConfig))
_MODE_KEYS = tuple(f.name for f in fields(ModeConfig))
_ADAPT_KEYS = tuple(f.name for f in fields(AdaptConfig))
_SECTION_KEYS = (
    "episodes", "seed", "max_steps", "replan_every", "workers", "env", "planner", "baselines",
    "budget", "plots",
)  # fmt: skip


def _two_rooms_env() -> type:
    from jepa_world.worlds.two_rooms import TwoRoomsEnv

    return TwoRoomsEnv


@dataclass(frozen=True)
class SuiteWorld:
    """The world's side of a planning suite's schema, for :func:`read`: its default suite name
    and episode length, its ``planning.env`` keys and env class (built once to check them), its
    own keys of the ``planning`` section, and the top-level ``world`` the suite must say (None:
    the suite says none)."""

    name: str
    max_steps: int
    env_keys: tuple[str, ...]
    env_class: Callable[[], type]
    keys: tuple[str, ...] = ()
    world: str | None = None


TWO_ROOMS = SuiteWorld(
    "planning", 200, ("wall_range", "door_range", "sigma"), _two_rooms_env, ("adapt",)
)
"""The Two Rooms suite (``probes/two_rooms.yaml``): the planning section adds ``adapt``."""


@dataclass(frozen=True)
class PlanningSpec:
    """A validated planning suite; build with :func:`parse`."""

    name: str
    episodes: int
    seed: int
    max_steps: int
    replan_every: int
    planner: str
    planner_config: PlannerConfig
    env: dict[str, Any]
    baselines: tuple[str, ...]
    baseline_episodes: int
    random_init_seed: int
    budgets: tuple[tuple[int, int], ...]
    budget_episodes: int
    budget_models: tuple[str, ...]
    plot_episodes: int
    workers: int = 1
    adapt: AdaptConfig | None = None
    modes: ModeConfig | None = None
    source: str = "<dict>"

    def build_planner(self, config: PlannerConfig | None = None) -> Planner:
        """The suite's planner (``config``: another budget of it), wrapped in the multi-mode
        search when the suite asks for modes."""
        return create_planner(self.planner, config or self.planner_config, modes=self.modes)


def _cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _built(key: str, build: Any, kwargs: Mapping[str, Any]) -> Any:
    """``build(**kwargs)``, its ValueError prefixed with the suite key."""
    try:
        return build(**kwargs)
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from err


def _planner(sec: Section) -> tuple[str, PlannerConfig, ModeConfig | None]:
    """The planner's name, its config and the multi-mode search's (None: one mode)."""
    node = sec.section("planner", ("name", "modes", *_PLANNER_KEYS))
    name = node.choice("name", "mppi", tuple(sorted(PLANNERS)))
    kwargs = {k: v for k, v in node.data.items() if k not in ("name", "modes")}
    for bound in ("low", "high"):
        if isinstance(kwargs.get(bound), list):
            kwargs[bound] = tuple(kwargs[bound])
    config = _built(node.path, PlannerConfig, kwargs)
    modes = None
    if node.has("modes"):
        mode_node = node.section("modes", _MODE_KEYS)
        modes = _built(mode_node.path, ModeConfig, mode_node.data)
        _built(node.path, create_planner, {"name": name, "config": config, "modes": modes})
    return name, config, modes


def _budgets(sec: Section) -> tuple[tuple[tuple[int, int], ...], int, tuple[str, ...]]:
    budget = sec.section("budget", ("budgets", "episodes", "models"))
    budgets = budget.get("budgets", [])
    if not isinstance(budgets, (list, tuple)):
        raise ValueError(
            f"planning.budget.budgets={budgets!r} must be a list of [samples, iterations]"
        )
    pairs = []
    for i, pair in enumerate(budgets):
        key = f"planning.budget.budgets[{i}]"
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"{key}={pair!r} must be a [samples, iterations] pair")
        pairs.append((check_int(f"{key}[0]", pair[0], 1), check_int(f"{key}[1]", pair[1], 1)))
    episodes = budget.int("episodes", 20, 1)
    models = budget.names("models", BUDGET_MODELS, BUDGET_MODELS)
    return tuple(pairs), episodes, models  # type: ignore[return-value]


def _baseline_names(base: Section) -> tuple[str, ...]:
    """The baselines to run; an empty list runs none."""
    if base.get("names") == []:
        return ()
    return base.names("names", BASELINE_NAMES, BASELINE_NAMES)


def read(
    data: Mapping[str, Any], world: SuiteWorld, extra: Callable[[Section], dict[str, Any]]
) -> dict[str, Any]:
    """The keyword arguments of a :class:`PlanningSpec` (or a world's subclass) from a suite
    mapping: the keys every world's suite has, read here, and the world's own, read from the
    ``planning`` section by ``extra``; errors name the key."""
    top = Section(
        data, "", ("name", "planning") if world.world is None else ("name", "world", "planning")
    )
    if world.world is not None and top.get("world") != world.world:
        raise ValueError(f"world={top.get('world')!r}: this parser reads {world.world} suites only")
    if not top.has("planning"):
        raise ValueError("missing key planning: a planning suite needs a 'planning' section")
    sec = top.section("planning", _SECTION_KEYS + world.keys)
    episodes = sec.int("episodes", 200, 1)
    explicit_null = "workers" in sec.data and sec.data["workers"] is None
    workers = _cpus() if explicit_null else sec.int("workers", 1, 1)  # absent: 1; null: all
    replan_every = sec.int("replan_every", 1, 1)
    planner, config, modes = _planner(sec)
    if replan_every > config.horizon:  # type: ignore[operator]
        raise ValueError(
            f"planning.replan_every={replan_every} is out of range: allowed [1, "
            f"planning.planner.horizon={config.horizon}]"
        )
    env = dict(sec.section("env", world.env_keys).data)
    if env:
        env_class = world.env_class()
        _built("planning.env", lambda **kw: env_class(**kw).close(), env)
    own = extra(sec)
    base = sec.section("baselines", ("names", "episodes", "random_init_seed"))
    budgets, budget_episodes, budget_models = _budgets(sec)
    return {
        "name": top.string("name", world.name),
        "episodes": episodes,
        "seed": sec.int("seed", 0, 0, 2**63 - 2**32),
        "max_steps": sec.int("max_steps", world.max_steps, 1),
        "replan_every": replan_every,
        "planner": planner,
        "planner_config": config,
        "env": env,
        "baselines": _baseline_names(base),
        "baseline_episodes": base.int("episodes", episodes, 1),
        "random_init_seed": base.int("random_init_seed", 0, 0),
        "budgets": budgets,
        "budget_episodes": budget_episodes,
        "budget_models": budget_models,
        "plot_episodes": sec.section("plots", ("episodes",)).int("episodes", 16, 1),
        "workers": workers,
        "modes": modes,
        **own,
    }


def _adapt(sec: Section) -> dict[str, Any]:
    """Two Rooms' own key: test-time adaptation (None: plan with the model as it is)."""
    if not sec.has("adapt"):
        return {"adapt": None}
    node = sec.section("adapt", _ADAPT_KEYS)
    return {"adapt": _built(node.path, AdaptConfig, node.data)}


def parse(data: Mapping[str, Any], source: str = "<dict>") -> PlanningSpec:
    """Validate a planning suite mapping (without its ``kind``; see ``probes/two_rooms.yaml``);
    errors name the key."""
    return PlanningSpec(**read(data, TWO_ROOMS, _adapt), source=source)

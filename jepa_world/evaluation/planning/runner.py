"""Run a planning suite: the model's episodes, then the baselines', then the budget sweep.

Baselines: ``random_actions`` (the floor), ``greedy`` (straight at the goal, ignoring walls),
``random_init`` (the same planner on an untrained model of the same architecture) and
``true_dynamics`` (the same planner on the simulator: the planner's ceiling). The gap from the
model to ``true_dynamics`` is the model's; from ``true_dynamics`` to 1.0, the planner's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jepa_world.evaluation.models import load_model
from jepa_world.evaluation.planning.adapt import adaptable, planning_twin
from jepa_world.evaluation.planning.episodes import (
    budget_config,
    run_episodes,
    summarize_episodes,
)
from jepa_world.evaluation.planning.report import PlanningReport
from jepa_world.evaluation.planning.spec import PlanningSpec
from jepa_world.evaluation.planning.two_rooms import STRICT_SUCCESS_PX, SUCCESS_PX
from jepa_world.evaluation.report import Log, quiet
from jepa_world.planning.adaptation import AdaptingModel
from jepa_world.planning.protocols import LatentModel
from jepa_world.planning.sampling import PlannerConfig

__all__ = ["compare", "protocol", "run"]


def _planning_model(model: Any) -> Any:
    """A model that can plan: ``encode`` and ``rollout``, and an action predictor if it says."""
    if not isinstance(model, LatentModel):
        raise TypeError(
            f"model must be an export folder or have encode() and rollout(); got "
            f"{type(model).__name__}"
        )
    if getattr(model, "action_predictor", True) is None:
        raise ValueError(
            "the model has no action predictor: planning needs an action-conditioned export "
            "(ActionJEPA)"
        )
    return model


def _model_info(model: Any) -> dict[str, Any]:
    encoder = getattr(getattr(model, "encoder", None), "config", None)
    action = getattr(getattr(model, "action_predictor", None), "config", None)
    if encoder is None:
        return {"name": type(model).__name__, "config": None}
    name = f"{encoder['name']}+{action['kind']}" if action else encoder["name"]
    return {"name": name, "config": {"encoder": encoder, "action_predictor": action}}


def _load(model: Any) -> Any:
    """An export folder or loaded model as before; any other model string through the adapters
    (it must implement ``encode`` / ``rollout``)."""
    if isinstance(model, (str, os.PathLike)) and not Path(model).is_dir():
        from jepa_world.evaluation.adapters import load_adapter

        return load_adapter(model)
    return load_model(model).model


def _first_obs(spec: PlanningSpec) -> Any:
    """The first episode's observation (to check that a model's roll-out is differentiable)."""
    from jepa_world.worlds.two_rooms import TwoRoomsEnv

    env = TwoRoomsEnv(max_episode_steps=spec.max_steps, **dict(spec.env or {}))
    obs, _ = env.reset(seed=spec.seed)
    env.close()
    return obs


def _planned(model: Any, spec: PlanningSpec, notes: dict[str, Any] | None = None) -> Any:
    """The model as the planner sees it: wrapped for test-time adaptation when the suite asks
    and the model can adapt (else planned as it is, with the reason in ``notes["adapt"]``)."""
    if spec.adapt is None:
        return model
    target, how = adaptable(model, _first_obs(spec))
    if notes is not None:
        notes.setdefault("adapt", how)
    if target is None:
        return model
    try:
        return AdaptingModel(target, spec.adapt)
    except TypeError as err:
        raise ValueError(f"planning.adapt: {err}") from err


def protocol(
    spec: PlanningSpec, world: str, success_rule: str, strict_success_rule: str
) -> dict[str, Any]:
    """The report's ``protocol``: the suite's settings and the world's rules."""
    return {
        "suite": spec.source,
        "world": world,
        "episodes": spec.episodes,
        "episode_seeds": [spec.seed, spec.seed + spec.episodes],
        "baseline_episodes": spec.baseline_episodes,
        "max_steps": spec.max_steps,
        "replan_every": spec.replan_every,
        "workers": spec.workers,
        "adapt": asdict(spec.adapt) if spec.adapt is not None else None,
        "planner": spec.planner,
        "planner_config": asdict(spec.planner_config),
        "modes": asdict(spec.modes) if spec.modes is not None else None,
        "env": spec.env,
        "success_rule": success_rule,
        "strict_success_rule": strict_success_rule,
        "interval": "Wilson 95 %",
        "random_init_seed": spec.random_init_seed,
        "budgets": [list(b) for b in spec.budgets],
        "budget_episodes": spec.budget_episodes,
    }


def compare(
    model: Any,
    spec: PlanningSpec,
    *,
    log: Log,
    tag: str,
    run: Callable[..., list[Any]],
    twin: Callable[[Any, dict[str, Any]], Any | None],
    notes: dict[str, Any],
    protocol: dict[str, Any],
) -> tuple[list[Any], dict[str, Any]]:
    """The model's episodes, then each baseline's, then the budget sweep, on any world: the
    model's episodes and the report's data (``timing.total_s`` left to the caller).

    ``run`` runs a world's episodes (:func:`~.episodes.run_episodes`'s arguments); ``twin``
    gives the ``random_init`` baseline's model (None: skipped), noting how in ``notes``.
    """
    info = _model_info(model)
    log(f"[{tag}] {spec.episodes} episodes of {spec.max_steps} steps on {info['name']}")

    def episodes(who: Any, count: int, config: PlannerConfig | None = None) -> list[Any]:
        return run(
            who,
            episodes=count,
            seed=spec.seed,
            planner=spec.build_planner(config),
            max_steps=spec.max_steps,
            replan_every=spec.replan_every,
            env_kwargs=spec.env,
            workers=spec.workers,
        )

    timing: dict[str, float] = {}
    metrics: dict[str, Any] = {}
    tick = time.perf_counter()
    results = episodes(_planned(model, spec, notes), spec.episodes)
    timing["model_s"] = time.perf_counter() - tick
    metrics.update(summarize_episodes(results))
    log(f"[{tag}] model: success {metrics['planning/success_rate']:.3f}")

    for name in spec.baselines:
        who: Any = name
        if name == "random_init":
            who = twin(model, notes)
            if who is None:
                continue
        tick = time.perf_counter()
        summary = summarize_episodes(episodes(who, spec.baseline_episodes))
        timing[f"{name}_s"] = time.perf_counter() - tick
        metrics.update({f"baselines/{name}/{k}": v for k, v in summary.items()})
        log(f"[{tag}] {name}: success {summary['planning/success_rate']:.3f}")

    curves: dict[str, Any] = {}
    if spec.budgets:
        tick = time.perf_counter()
        targets = {"model": _planned(model, spec), "true_dynamics": "true_dynamics"}
        curves["budget"] = {
            k: [
                {"samples": s, "iterations": i, "budget": s * i}
                | summarize_episodes(
                    episodes(
                        targets[k], spec.budget_episodes, budget_config(spec.planner_config, s, i)
                    )
                )
                for s, i in spec.budgets
            ]
            for k in spec.budget_models
        }
        timing["budget_s"] = time.perf_counter() - tick
        log(f"[{tag}] budget sweep done")
    return results, {
        "suite": spec.name,
        "metrics": metrics,
        "protocol": protocol,
        "model": info,
        "curves": curves,
        "episodes": [r.as_dict() for r in results[: spec.plot_episodes]],
        # which of the model's episodes failed (index i: env seed `seed + i`), to look at again
        "failed_episodes": [i for i, r in enumerate(results) if not r.success],
        "timing": timing,
        "notes": notes,
    }


def run(
    model_dir_or_model: Any, spec: PlanningSpec, out: Any = None, log: Log | None = None
) -> PlanningReport:
    """Run a parsed planning suite on a model and its baselines; return the report (the caller
    writes it).

    ``model_dir_or_model``: an export folder with an action predictor, a loaded
    ``hub.WorldModel``, a model string whose adapter has ``encode`` / ``rollout`` (``py:...``),
    or any object with ``encode(obs)`` and ``rollout(z0, actions)``. Test-time adaptation
    (``planning.adapt``) applies to any torch world model with a differentiable roll-out (else
    the report's ``notes.adapt`` says why not); the ``random_init`` baseline is the model's
    twin (:func:`~jepa_world.evaluation.planning.adapt.planning_twin`; ``notes.random_init``
    says how it was built, or why it was skipped). ``log`` receives progress lines.
    """
    began = time.perf_counter()
    model = _planning_model(_load(model_dir_or_model))

    def twin(model: Any, notes: dict[str, Any]) -> Any | None:
        fresh, how = planning_twin(model, spec.random_init_seed)
        notes["random_init"] = how
        return None if fresh is None else _planned(fresh, spec)

    rules = protocol(
        spec,
        "two_rooms (docs/protocols.md, 'medium': start and goal in opposite rooms)",
        f"final distance < {SUCCESS_PX} px (eb_jepa)",
        f"any step within {STRICT_SUCCESS_PX} px (PLDM)",
    )
    results, data = compare(
        model, spec, log=log or quiet, tag="planning", run=run_episodes, twin=twin, notes={},
        protocol=rules,
    )  # fmt: skip
    data["timing"]["total_s"] = time.perf_counter() - began
    return PlanningReport(data, results=results[: spec.plot_episodes])

"""Seeded Two Rooms episodes, in one process or several, and the metrics they add up to.

Episode ``i`` resets the env with seed ``seed + i`` (a random wall and door, a start and a goal in
opposite rooms) and reseeds the planner and any random policy with the same number, so every
model and baseline sees the same episodes, and splitting them over worker processes changes
nothing but the wall time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from jepa_world.checks import check_int
from jepa_world.evaluation.planning.two_rooms import (
    EpisodeResult,
    episode_controller,
    run_episode,
)
from jepa_world.planning.modes import ModeConfig
from jepa_world.planning.mpc import action_bounds
from jepa_world.planning.protocols import LatentModel, Policy
from jepa_world.planning.registry import Planner, create_planner
from jepa_world.planning.sampling import PlannerConfig

__all__ = [
    "METRIC_KEYS",
    "EpisodeJob",
    "budget_config",
    "evaluate_planning",
    "run_episodes",
    "run_job",
    "summarize_episodes",
    "sweep_budget",
]

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
"""Keys of the per-policy planning metrics in a report."""


@dataclass
class EpisodeJob:
    """Everything a Two Rooms episode needs besides its index, so that any process can run any
    subset (:meth:`run`). ``planner`` None: MPPI with :class:`~jepa_world.planning.PlannerConfig`
    defaults. Another world's job overrides the four steps of an episode: the env, its reset,
    the controller and the episode itself."""

    model_or_policy: Any
    seed: int
    planner: Planner | None
    max_steps: int = 200
    replan_every: int = 1
    env_kwargs: Mapping[str, Any] | None = None

    def make_env(self) -> Any:
        """The env every episode of this job resets."""
        from jepa_world.worlds.two_rooms import TwoRoomsEnv

        return TwoRoomsEnv(max_episode_steps=self.max_steps, **dict(self.env_kwargs or {}))

    def reset(self, env: Any, seed: int) -> None:
        """Reset ``env`` to episode ``seed`` (its start and goal)."""
        env.reset(seed=seed)

    def controller(self, env: Any) -> LatentModel | Policy:
        """The model or policy for the episode ``env`` was just reset to."""
        return episode_controller(self.model_or_policy, env)

    def episode(self, env: Any, controller: LatentModel | Policy, planner: Planner | None) -> Any:
        """One episode from the reset ``env`` (``planner`` None: ``controller`` is a policy)."""
        return run_episode(env, planner, controller, None, self.max_steps, self.replan_every)

    def run(self, indices: Sequence[int]) -> list[Any]:
        env = self.make_env()
        planner = self.planner if self.planner is not None else create_planner("mppi")
        planner = planner.with_bounds(*action_bounds(env.action_space))
        results = []
        for i in indices:
            self.reset(env, self.seed + i)
            controller = self.controller(env)
            episode_planner = None
            if isinstance(controller, LatentModel):
                episode_planner = planner
                episode_planner.reset(self.seed + i)
            else:
                controller.reset(self.seed + i)
            results.append(self.episode(env, controller, episode_planner))
        env.close()
        return results


def _worker(job: EpisodeJob, part: int, indices: Sequence[int], queue: Any) -> None:
    """One forked process: one torch thread, its share of the episodes, the results (or the
    error) sent back tagged with ``part``."""
    torch.set_num_threads(1)
    try:
        queue.put((part, job.run(indices), None))
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which raises it
        queue.put((part, None, err))


def _run_forked(job: EpisodeJob, episodes: int, workers: int) -> list[Any]:
    """The episodes split round-robin over ``workers`` forked processes. The job (a learned
    model included) reaches each child through ``fork``, never pickled; the results come back
    through a queue."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    parts = [range(w, episodes, workers) for w in range(workers)]
    processes = [
        context.Process(target=_worker, args=(job, w, part, queue), daemon=True)
        for w, part in enumerate(parts)
    ]
    for process in processes:
        process.start()
    ordered: list[Any] = [None] * episodes
    try:
        for _ in processes:
            part, results, error = queue.get()
            if error is not None:
                raise error
            ordered[part::workers] = results
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    return [r for r in ordered if r is not None]


def run_episodes(
    model_or_policy: LatentModel | Policy | str,
    episodes: int = 200,
    seed: int = 0,
    planner: Planner | None = None,
    max_steps: int = 200,
    replan_every: int = 1,
    env_kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
) -> list[EpisodeResult]:
    """Episodes ``seed, seed + 1, ...`` of the Two Rooms protocol (docs/protocols.md):
    ``env.reset(seed=seed + i)`` draws the wall and door, and a start and goal in opposite
    rooms; the planner (default MPPI with :class:`~jepa_world.planning.PlannerConfig` defaults,
    within the env's action bounds) and any random policy are reseeded with ``seed + i``.
    ``model_or_policy`` is a latent model, a policy, or a baseline name: ``"true_dynamics"``
    (the same planner on the simulator), ``"greedy"``, ``"random_actions"``.

    ``workers > 1`` runs the episodes in that many forked processes of one torch thread each
    (the results do not depend on ``workers``; each episode's timings are then one core's).
    """
    job = EpisodeJob(model_or_policy, seed, planner, max_steps, replan_every, env_kwargs)
    return run_job(job, episodes, workers)


def run_job(job: EpisodeJob, episodes: int, workers: int = 1) -> list[Any]:
    """Episodes ``0 .. episodes - 1`` of ``job`` (any world's), in this process or in
    ``workers`` forked ones (the results do not depend on ``workers``)."""
    check_int("episodes", episodes, 1)
    check_int("seed", job.seed, 0)
    check_int("workers", workers, 1)
    workers = min(workers, episodes)
    if workers == 1:
        return job.run(range(episodes))
    return _run_forked(job, episodes, workers)


def summarize_episodes(results: Sequence[EpisodeResult]) -> dict[str, float | int | None]:
    """The ``planning/...`` metrics (:data:`METRIC_KEYS`) of a list of episodes.

    ``success_rate`` has a Wilson 95 % interval; ``final_distance_px`` and ``seconds_per_episode``
    are means; ``ms_per_plan`` is the mean over all plans of all episodes; ``steps_to_success`` is
    the median first step within 4.5 px over successful episodes, ``None`` when none succeeded.
    """
    from jepa_world.evaluation.metrics import wilson_interval

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
    planner: Planner | None = None,
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


def budget_config(config: PlannerConfig, samples: int, iterations: int) -> PlannerConfig:
    """``config`` at another planning budget (elites capped at the samples)."""
    return replace(
        config, samples=samples, iterations=iterations, elites=min(config.elites, samples)
    )


def sweep_budget(
    model_or_policy: LatentModel | str,
    budgets: Sequence[tuple[int, int]],
    planner: str = "mppi",
    config: PlannerConfig | None = None,
    episodes: int = 20,
    seed: int = 0,
    modes: ModeConfig | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Success against planning budget: one :func:`evaluate_planning` per ``(samples,
    iterations)`` (with ``modes``, each planner searches them); rows hold ``samples``,
    ``iterations``, ``budget`` and the metrics."""
    config = config if config is not None else PlannerConfig()
    rows = []
    for samples, iterations in budgets:
        cfg = budget_config(config, samples, iterations)
        metrics = evaluate_planning(
            model_or_policy, episodes, seed, create_planner(planner, cfg, modes=modes), **kwargs
        )
        rows.append(
            {"samples": samples, "iterations": iterations, "budget": samples * iterations} | metrics
        )
    return rows

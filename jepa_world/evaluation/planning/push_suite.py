"""The push planning suite (``probes/push.yaml``, ``world: push``): parse, run, report.

A planning suite whose top level says ``world: push`` runs the push task of
:mod:`.push` (move the red ball to its goal, the goal given as an image) with the same planners,
baselines, Wilson intervals, budget sweep and plots as the Two Rooms suite, plus the intervention
probe of :mod:`.intervention`. Every key is checked before any episode; errors name the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jepa_world.evaluation.planning import push
from jepa_world.evaluation.planning.episodes import budget_config, summarize_episodes
from jepa_world.evaluation.planning.report import PLOTS, PlanningReport
from jepa_world.evaluation.planning.spec import (
    _baseline_names,
    _budgets,
    _built,
    _cpus,
    _planner,
)
from jepa_world.evaluation.report import Log, format_number, pyplot, quiet, save_figure
from jepa_world.evaluation.suite import Section
from jepa_world.planning.modes import ModeConfig
from jepa_world.planning.registry import Planner, create_planner
from jepa_world.planning.sampling import PlannerConfig

__all__ = ["InterventionSpec", "PushReport", "PushSpec", "parse", "plot_push_episodes", "run"]

_SECTION_KEYS = (
    "episodes", "seed", "max_steps", "replan_every", "workers", "env", "goal", "planner",
    "baselines", "budget", "plots", "intervention",
)  # fmt: skip
INTERVENTION_BASELINES = ("action_blind", "random_init")
"""Baselines of the intervention probe."""
PUSH_T_CONTEXT = (
    "Push-T success rates (LeWM 96 %, DINO-WM 74 %, PLDM 78 % in stable-worldmodel's baselines, "
    "GPU-trained) come from a different task (a T-shaped block to a target pose, its own success "
    "rule and budgets): they are context, not a comparison."
)


@dataclass(frozen=True)
class InterventionSpec:
    """The intervention probe's settings (``planning.intervention``)."""

    cases: int = 200
    seed: int = 3_035_000_000
    k: int = 8
    lead: int = 2
    probe_clips: int = 256
    probe_seed: int = 0
    baselines: tuple[str, ...] = INTERVENTION_BASELINES


@dataclass(frozen=True)
class PushSpec:
    """A validated push suite; build with :func:`parse`."""

    name: str
    episodes: int
    seed: int
    max_steps: int
    replan_every: int
    planner: str
    planner_config: PlannerConfig
    env: dict[str, Any]
    goal_steps: int
    settle_steps: int
    baselines: tuple[str, ...]
    baseline_episodes: int
    random_init_seed: int
    budgets: tuple[tuple[int, int], ...]
    budget_episodes: int
    budget_models: tuple[str, ...]
    plot_episodes: int
    workers: int = 1
    modes: ModeConfig | None = None
    intervention: InterventionSpec | None = None
    source: str = "<dict>"
    world: str = "push"

    def build_planner(self, config: PlannerConfig | None = None) -> Planner:
        return create_planner(self.planner, config or self.planner_config, modes=self.modes)


def _intervention(sec: Section) -> InterventionSpec | None:
    if not sec.has("intervention"):
        return None
    node = sec.section(
        "intervention", ("cases", "seed", "k", "lead", "probe_clips", "probe_seed", "baselines")
    )
    d = InterventionSpec()
    names = d.baselines
    if node.get("baselines") == []:
        names = ()
    elif node.has("baselines"):
        names = tuple(node.names("baselines", INTERVENTION_BASELINES, INTERVENTION_BASELINES))
    return InterventionSpec(
        cases=node.int("cases", d.cases, 1),  # type: ignore[arg-type]
        seed=node.int("seed", d.seed, 0, 2**62),  # type: ignore[arg-type]
        k=node.int("k", d.k, 1, 64),  # type: ignore[arg-type]
        lead=node.int("lead", d.lead, 1, 16),  # type: ignore[arg-type]
        probe_clips=node.int("probe_clips", d.probe_clips, 4),  # type: ignore[arg-type]
        probe_seed=node.int("probe_seed", d.probe_seed, 0, 10**9 - 10**6),  # type: ignore[arg-type]
        baselines=names,
    )


def parse(data: Mapping[str, Any], source: str = "<dict>") -> PushSpec:
    """Validate a push suite mapping (without its ``kind``); errors name the key."""
    top = Section(data, "", ("name", "world", "planning"))
    if top.get("world") != "push":
        raise ValueError(f"world={top.get('world')!r}: this parser reads push suites only")
    if not top.has("planning"):
        raise ValueError("missing key planning: a planning suite needs a 'planning' section")
    sec = top.section("planning", _SECTION_KEYS)
    episodes = sec.int("episodes", 200, 1)
    explicit_null = "workers" in sec.data and sec.data["workers"] is None
    workers = _cpus() if explicit_null else sec.int("workers", 1, 1)
    replan_every = sec.int("replan_every", 1, 1)
    planner, config, modes = _planner(sec)
    if replan_every > config.horizon:  # type: ignore[operator]
        raise ValueError(
            f"planning.replan_every={replan_every} is out of range: allowed [1, "
            f"planning.planner.horizon={config.horizon}]"
        )
    env = dict(sec.section("env", ("num_balls", "friction")).data)
    if env:
        from jepa_world.worlds.push import PushEnv

        _built("planning.env", lambda **kw: PushEnv(**kw).close(), env)
    goal = sec.section("goal", ("steps", "settle_steps"))
    base = sec.section("baselines", ("names", "episodes", "random_init_seed"))
    budgets, budget_episodes, budget_models = _budgets(sec)
    return PushSpec(
        name=top.string("name", "push"),
        episodes=episodes,  # type: ignore[arg-type]
        seed=sec.int("seed", 0, 0, 2**63 - 2**32),  # type: ignore[arg-type]
        max_steps=sec.int("max_steps", 60, 1),  # type: ignore[arg-type]
        replan_every=replan_every,  # type: ignore[arg-type]
        planner=planner,
        planner_config=config,
        env=env,
        goal_steps=goal.int("steps", push.GOAL_STEPS, 1, 1000),  # type: ignore[arg-type]
        settle_steps=goal.int("settle_steps", push.SETTLE_STEPS, 0, 1000),  # type: ignore[arg-type]
        baselines=_baseline_names(base),
        baseline_episodes=base.int("episodes", episodes, 1),  # type: ignore[arg-type]
        random_init_seed=base.int("random_init_seed", 0, 0),  # type: ignore[arg-type]
        budgets=budgets,
        budget_episodes=budget_episodes,
        budget_models=budget_models,
        plot_episodes=sec.section("plots", ("episodes",)).int("episodes", 16, 1),  # type: ignore[arg-type]
        workers=workers,  # type: ignore[arg-type]
        modes=modes,
        intervention=_intervention(sec),
        source=source,
    )


def _episodes(
    who: Any, spec: PushSpec, episodes: int, config: PlannerConfig | None = None
) -> list[push.PushEpisode]:
    return push.run_push_episodes(
        who,
        episodes=episodes,
        seed=spec.seed,
        planner=spec.build_planner(config),
        max_steps=spec.max_steps,
        replan_every=spec.replan_every,
        env_kwargs=spec.env,
        workers=spec.workers,
        goal_steps=spec.goal_steps,
        settle_steps=spec.settle_steps,
    )


def _protocol(spec: PushSpec) -> dict[str, Any]:
    return {
        "suite": spec.source,
        "world": "push: move the red ball to the goal image's red ball (goal made with the "
        f"simulator: a {spec.goal_steps}-step scripted push, then {spec.settle_steps} still steps)",
        "episodes": spec.episodes,
        "episode_seeds": [spec.seed, spec.seed + spec.episodes],
        "baseline_episodes": spec.baseline_episodes,
        "max_steps": spec.max_steps,
        "replan_every": spec.replan_every,
        "workers": spec.workers,
        "planner": spec.planner,
        "planner_config": asdict(spec.planner_config),
        "modes": asdict(spec.modes) if spec.modes is not None else None,
        "env": spec.env,
        "success_rule": f"red ball ends < {push.SUCCESS_PX} px from its goal (its radius)",
        "strict_success_rule": f"red ball within {push.SUCCESS_PX} px at any step",
        "interval": "Wilson 95 %",
        "random_init_seed": spec.random_init_seed,
        "budgets": [list(b) for b in spec.budgets],
        "budget_episodes": spec.budget_episodes,
        "greedy": "walk at the red ball's centre at full speed (ignores the goal)",
        "intervention": asdict(spec.intervention) if spec.intervention else None,
    }


def _intervention_metrics(
    model: Any, spec: InterventionSpec, random_init_seed: int, log: Log
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    from jepa_world.evaluation.models import random_init_world_model
    from jepa_world.evaluation.planning import intervention as iv

    cases = iv.make_cases(spec.cases, spec.seed, spec.k, spec.lead)
    models: dict[str, Any] = {"model": model}
    notes: dict[str, str] = {}
    if "action_blind" in spec.baselines:
        models["action_blind"] = iv.ActionBlind(model)
    if "random_init" in spec.baselines:
        try:
            models["random_init"] = random_init_world_model(
                model, random_init_seed, "action_predictor"
            )
        except TypeError as err:
            notes["intervention random_init"] = f"skipped: {err}"
    results = iv.run_intervention(models, cases, spec.probe_clips, spec.probe_seed)
    metrics = {}
    for name, values in results.items():
        prefix = "intervention/" if name == "model" else f"baselines/{name}/intervention/"
        metrics.update({prefix + k: v for k, v in values.items()})
        log(
            f"[intervention] {name}: touched R^2 {values['touched_r2']:.3f}, untouched "
            f"{values['untouched_spurious_px']:.3f} px"
        )
    return metrics, iv.case_summary(cases), notes


def run(
    model_dir_or_model: Any, spec: PushSpec, out: Any = None, log: Log | None = None
) -> PushReport:
    """Run a parsed push suite on a model and its baselines; return the report."""
    from jepa_world.evaluation.models import load_model, random_init_world_model
    from jepa_world.evaluation.planning.runner import _model_info, _planning_model

    log = log or quiet
    began = time.perf_counter()
    model = _planning_model(load_model(model_dir_or_model).model)
    info = _model_info(model)
    timing: dict[str, float] = {}
    notes: dict[str, Any] = {"push_t": PUSH_T_CONTEXT}
    metrics: dict[str, Any] = {}

    log(f"[push] {spec.episodes} episodes of {spec.max_steps} steps on {info['name']}")
    tick = time.perf_counter()
    results = _episodes(model, spec, spec.episodes)
    timing["model_s"] = time.perf_counter() - tick
    metrics.update(summarize_episodes(results))  # type: ignore[arg-type]
    log(f"[push] model: success {metrics['planning/success_rate']:.3f}")

    for name in spec.baselines:
        who: Any = name
        if name == "random_init":
            try:
                who = random_init_world_model(model, spec.random_init_seed, "action_predictor")
            except TypeError as err:
                notes["random_init"] = f"skipped: {err}"
                continue
        tick = time.perf_counter()
        summary = summarize_episodes(_episodes(who, spec, spec.baseline_episodes))  # type: ignore[arg-type]
        timing[f"{name}_s"] = time.perf_counter() - tick
        metrics.update({f"baselines/{name}/{k}": v for k, v in summary.items()})
        log(f"[push] {name}: success {summary['planning/success_rate']:.3f}")

    curves: dict[str, Any] = {}
    if spec.budgets:
        tick = time.perf_counter()
        targets = {"model": model, "true_dynamics": "true_dynamics"}
        curves["budget"] = {
            k: [
                {"samples": s, "iterations": i, "budget": s * i}
                | summarize_episodes(  # type: ignore[arg-type]
                    _episodes(
                        targets[k],
                        spec,
                        spec.budget_episodes,
                        budget_config(spec.planner_config, s, i),
                    )  # fmt: skip
                )
                for s, i in spec.budgets
            ]
            for k in spec.budget_models
        }
        timing["budget_s"] = time.perf_counter() - tick

    protocol = _protocol(spec)
    if spec.intervention is not None:
        tick = time.perf_counter()
        found, cases, more = _intervention_metrics(
            model, spec.intervention, spec.random_init_seed, log
        )
        metrics.update(found)
        notes.update(more)
        protocol["intervention_cases"] = cases
        timing["intervention_s"] = time.perf_counter() - tick
    timing["total_s"] = time.perf_counter() - began

    return PushReport(
        {
            "suite": spec.name,
            "metrics": metrics,
            "protocol": protocol,
            "model": info,
            "curves": curves,
            "episodes": [r.as_dict() for r in results[: spec.plot_episodes]],
            "failed_episodes": [i for i, r in enumerate(results) if not r.success],
            "timing": timing,
            "notes": notes,
        },
        results=results[: spec.plot_episodes],  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------------ report

_INTERVENTION_ROWS = (
    "touched_r2", "touched_error_px", "true_effect_px", "untouched_spurious_px", "touched_balls",
    "untouched_balls",
)  # fmt: skip
_COLOURS = ("tab:red", "tab:green", "tab:blue")


class PushReport(PlanningReport):
    """The push suite's report: the planning table (model against its baselines), then the
    intervention table, the Push-T note and the plots (episodes, success against budget)."""

    title = "Push planning report"

    def summary_lines(self) -> list[str]:
        proto, cfg = self["protocol"], self["protocol"]["planner_config"]
        return [
            f"Model: `{self['model']['name']}`. {proto['world']}; {proto['episodes']} episodes "
            f"(env seeds {proto['episode_seeds'][0]} ..), baselines on "
            f"{proto['baseline_episodes']}; {proto['max_steps']} steps, replanning every "
            f"{proto['replan_every']}. Greedy: {proto['greedy']}.",
            f"Planner: {proto['planner']}, horizon {cfg['horizon']}, {cfg['samples']} samples, "
            f"{cfg['iterations']} iterations, {cfg['elites']} elites"
            + (f", temperature {cfg['temperature']}" if proto["planner"] == "mppi" else "")
            + f", cost {cfg['cost']} ({cfg['cost_steps']}).",
            f"Success: {proto['success_rule']}; strict: {proto['strict_success_rule']}; "
            f"{proto['interval']} interval in brackets.",
        ]

    def footer_lines(self) -> list[str]:
        lines: list[str] = []
        metrics = self["metrics"]
        if "intervention/touched_r2" in metrics:
            names = ["model"] + [
                n for n in INTERVENTION_BASELINES
                if f"baselines/{n}/intervention/touched_r2" in metrics
            ]  # fmt: skip
            cases = self["protocol"].get("intervention_cases", {})
            lines += [
                f"Intervention probe: {cases.get('cases')} cases, effect "
                f"{cases.get('forecast_steps')} steps after the start (k = 8 after the first "
                "contact), read out by a ridge state probe fitted on training-seed clips. An "
                "untrained action predictor forecasts no change (its output layer starts at "
                "zero), so random_init scores like action_blind.",
                "",
                "| intervention | " + " | ".join(names) + " |",
                "|" + " --- |" * (len(names) + 1),
            ]
            for key in _INTERVENTION_ROWS:
                cells = [
                    format_number(
                        metrics.get(
                            ("" if n == "model" else f"baselines/{n}/") + f"intervention/{key}"
                        )
                    )
                    for n in names
                ]
                lines.append(f"| {key} | " + " | ".join(cells) + " |")
            lines.append("")
        return lines + super().footer_lines()

    def plots(self) -> dict[str, tuple[str, Callable[[Path], Path]]]:
        from jepa_world.evaluation.planning.plots import plot_success_vs_budget

        drawn: dict[str, tuple[str, Callable[[Path], Path]]] = {}
        if self.results:
            shown = list(self.results)
            rate = self["metrics"]["planning/success_rate"]
            title = f"{self['model']['name']}: success {rate:.2f}"
            drawn["episodes"] = (
                PLOTS["episodes"],
                lambda path: plot_push_episodes(shown, path, title=title),  # type: ignore[arg-type]
            )
        label = f"success rate (final < {push.SUCCESS_PX:g} px)"
        drawn["budget"] = (
            PLOTS["budget"],
            lambda path: plot_success_vs_budget(self._budget(), path, ylabel=label),
        )
        return drawn


def plot_push_episodes(
    results: list[push.PushEpisode], path: str | Path, columns: int = 4, title: str | None = None
) -> Path:
    """A grid of episodes: the arena, the agent's path (grey), each ball's path in its colour,
    the goal (a circle of the success radius around the red ball's goal; the other balls' goal
    positions as crosses); the panel title is green on success."""
    import math

    if not results:
        raise ValueError("results must hold at least one episode")
    plt = pyplot()
    cols = min(columns, len(results))
    rows = math.ceil(len(results) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, results, strict=False):
        ax.add_patch(plt.Rectangle((0, 0), 64, 64, fill=False, color="0.5", lw=0.8))
        ax.plot(r.agent[:, 0], r.agent[:, 1], "-", color="0.6", lw=0.8)
        for k in range(len(r.present)):
            if not r.present[k]:
                continue
            colour = _COLOURS[k % len(_COLOURS)]
            ax.plot(r.balls[:, k, 0], r.balls[:, k, 1], "-", color=colour, lw=1.2)
            ax.plot(*r.balls[0, k], "o", color=colour, ms=4)
            if k != r.target:
                ax.plot(*r.goal_balls[k], "x", color=colour, ms=4)
        ax.add_patch(plt.Circle(r.goal, push.SUCCESS_PX, fill=False, color="tab:red", lw=1.0))
        ax.set_xlim(0, 64)
        ax.set_ylim(64, 0)
        ax.set_aspect("equal")
        ax.set_title(
            f"final {r.final_distance:.1f} px", fontsize=8,
            color="tab:green" if r.success else "tab:red",
        )  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)

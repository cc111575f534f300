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
from functools import partial
from pathlib import Path
from typing import Any

from jepa_world.evaluation.planning import push
from jepa_world.evaluation.planning.report import PLOTS, PlanningReport
from jepa_world.evaluation.planning.spec import PlanningSpec, SuiteWorld, read
from jepa_world.evaluation.report import Log, format_number, pyplot, quiet, save_figure
from jepa_world.evaluation.suite import Section

__all__ = ["InterventionSpec", "PushReport", "PushSpec", "parse", "plot_push_episodes", "run"]

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
class PushSpec(PlanningSpec):
    """A validated push suite: a :class:`PlanningSpec` with the goal's scripted push and the
    intervention probe (``adapt`` is always None: push suites have no such key); build with
    :func:`parse`."""

    goal_steps: int = push.GOAL_STEPS
    settle_steps: int = push.SETTLE_STEPS
    intervention: InterventionSpec | None = None
    world: str = "push"


def _push_env() -> type:
    from jepa_world.worlds.push import PushEnv

    return PushEnv


PUSH = SuiteWorld(
    "push", 60, ("num_balls", "friction"), _push_env, ("goal", "intervention"), "push"
)
"""The push suite (``probes/push.yaml``): ``world: push``; the planning section adds ``goal``
and ``intervention``."""


def _intervention(sec: Section) -> InterventionSpec | None:
    """The intervention probe's settings; None when the suite runs no probe."""
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


def _push_keys(sec: Section) -> dict[str, Any]:
    """The push suite's own keys: the goal's scripted push and the intervention probe."""
    goal = sec.section("goal", ("steps", "settle_steps"))
    return {
        "goal_steps": goal.int("steps", push.GOAL_STEPS, 1, 1000),
        "settle_steps": goal.int("settle_steps", push.SETTLE_STEPS, 0, 1000),
        "intervention": _intervention(sec),
    }


def parse(data: Mapping[str, Any], source: str = "<dict>") -> PushSpec:
    """Validate a push suite mapping (without its ``kind``); errors name the key."""
    return PushSpec(**read(data, PUSH, _push_keys), source=source)


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
    from jepa_world.evaluation.planning.runner import _planning_model, compare, protocol

    log = log or quiet
    began = time.perf_counter()
    model = _planning_model(load_model(model_dir_or_model).model)

    def twin(model: Any, notes: dict[str, Any]) -> Any | None:
        try:
            return random_init_world_model(model, spec.random_init_seed, "action_predictor")
        except TypeError as err:
            notes["random_init"] = f"skipped: {err}"
            return None

    world = (
        "push: move the red ball to the goal image's red ball (goal made with the simulator: a "
        f"{spec.goal_steps}-step scripted push, then {spec.settle_steps} still steps)"
    )
    rules = protocol(
        spec,
        world,
        f"red ball ends < {push.SUCCESS_PX} px from its goal (its radius)",
        f"red ball within {push.SUCCESS_PX} px at any step",
    )
    rules = {k: v for k, v in rules.items() if k != "adapt"}  # push suites have no adapt key
    rules["greedy"] = "walk at the red ball's centre at full speed (ignores the goal)"
    rules["intervention"] = asdict(spec.intervention) if spec.intervention else None
    run_push = partial(
        push.run_push_episodes, goal_steps=spec.goal_steps, settle_steps=spec.settle_steps
    )
    results, data = compare(
        model, spec, log=log, tag="push", run=run_push, twin=twin,
        notes={"push_t": PUSH_T_CONTEXT}, protocol=rules,
    )  # fmt: skip
    if spec.intervention is not None:
        tick = time.perf_counter()
        found, cases, more = _intervention_metrics(
            model, spec.intervention, spec.random_init_seed, log
        )
        data["metrics"].update(found)
        data["notes"].update(more)
        rules["intervention_cases"] = cases
        data["timing"]["intervention_s"] = time.perf_counter() - tick
    data["timing"]["total_s"] = time.perf_counter() - began
    return PushReport(data, results=results[: spec.plot_episodes])  # type: ignore[arg-type]


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

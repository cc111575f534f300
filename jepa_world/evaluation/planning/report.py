"""The planning suite's report: the model against its baselines, one column each.

A :class:`PlanningReport` is the evaluation framework's one
:class:`~jepa_world.evaluation.report.Report` with the planning suite's table rows (success rate
with its Wilson interval, strict success, final distance, timing), summary lines (protocol and
planner) and plots (episodes on their maps; success against planning budget).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jepa_world.evaluation.planning.episodes import METRIC_KEYS
from jepa_world.evaluation.planning.plots import plot_episodes, plot_success_vs_budget
from jepa_world.evaluation.planning.spec import BASELINE_NAMES
from jepa_world.evaluation.planning.two_rooms import EpisodeResult
from jepa_world.evaluation.report import Report, format_number

__all__ = ["PLOTS", "PlanningReport"]

PLOTS = {"episodes": "planning_episodes.png", "budget": "planning_budget.png"}
"""The planning report's plots: name -> file name."""


def _planning_only(metrics: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix + "planning/")}


class PlanningReport(Report):
    """report.json's content (``metrics``, ``protocol``, ``model``, ``curves``, ``episodes``,
    ``failed_episodes``, ``timing``, ``notes``); :attr:`results` keeps the episodes drawn."""

    title = "Planning report"

    def __init__(self, *args: Any, results: Sequence[EpisodeResult] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results = list(results)

    def columns(self) -> list[str]:
        metrics = self["metrics"]
        return ["model"] + [
            n for n in BASELINE_NAMES if f"baselines/{n}/planning/success_rate" in metrics
        ]

    def rows(self) -> list[tuple[str, list[str]]]:
        metrics, rows = self["metrics"], []
        for key in METRIC_KEYS:
            if key.endswith(("_ci_low", "_ci_high")):
                continue
            cells = []
            for column in self.columns():
                prefix = "" if column == "model" else f"baselines/{column}/"
                cell = format_number(metrics.get(prefix + key))
                if key == "planning/success_rate" and prefix + key in metrics:
                    low = metrics[f"{prefix}planning/success_rate_ci_low"]
                    high = metrics[f"{prefix}planning/success_rate_ci_high"]
                    cell += f" [{low:.3f}, {high:.3f}]"
                cells.append(cell)
            rows.append((key, cells))
        return rows

    def summary_lines(self) -> list[str]:
        proto, cfg = self["protocol"], self["protocol"]["planner_config"]
        modes = proto.get("modes") or {"count": 1, "patience": None}
        stall = f" after a {modes['patience']}-plan stall" if modes["patience"] else ""
        return [
            f"Model: `{self['model']['name']}`. {proto['world']}; {proto['episodes']} episodes "
            f"(env seeds {proto['episode_seeds'][0]} ..), baselines on "
            f"{proto['baseline_episodes']}; {proto['max_steps']} steps, replanning every "
            f"{proto['replan_every']}.",
            f"Planner: {proto['planner']}, horizon {cfg['horizon']}, {cfg['samples']} samples, "
            f"{cfg['iterations']} iterations, {cfg['elites']} elites, {modes['count']} mode(s)"
            f"{stall}, temperature {cfg['temperature']}, cost {cfg['cost']} "
            f"({cfg['cost_steps']}, final weight {cfg['final_weight']}).",
            f"Success: {proto['success_rule']}; strict: {proto['strict_success_rule']}; "
            f"{proto['interval']} interval in brackets.",
        ]

    def footer_lines(self) -> list[str]:
        if not self.get("notes"):
            return []
        return ["Notes: " + "; ".join(f"{k}: {v}" for k, v in self["notes"].items()), ""]

    def plots(self) -> dict[str, tuple[str, Callable[[Path], Path]]]:
        drawn: dict[str, tuple[str, Callable[[Path], Path]]] = {}
        if self.results:
            shown = self.results[: max(1, len(self.get("episodes", self.results)))]
            rate = self["metrics"]["planning/success_rate"]
            title = f"{self['model']['name']}: success {rate:.2f}"
            drawn["episodes"] = (
                PLOTS["episodes"],
                lambda path: plot_episodes(shown, path, max_episodes=len(shown), title=title),
            )
        drawn["budget"] = (
            PLOTS["budget"],
            lambda path: plot_success_vs_budget(self._budget(), path),
        )
        return drawn

    def _budget(self) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        """The budget sweep's curves, or without a sweep one point per run (the suite's own
        budget) for the model and the true-dynamics baseline."""
        budget = self.get("curves", {}).get("budget")
        if budget:
            return budget
        cfg = self["protocol"]["planner_config"]
        point = {"samples": cfg["samples"], "iterations": cfg["iterations"]}
        rows = {"model": [point | _planning_only(self["metrics"], "")]}
        if "baselines/true_dynamics/planning/success_rate" in self["metrics"]:
            rows["true_dynamics"] = [
                point | _planning_only(self["metrics"], "baselines/true_dynamics/")
            ]
        return rows

"""Plots of the Two Rooms planning suite: episodes on their maps, success against budget.

matplotlib is imported when a plot is drawn (the evaluation framework's Agg ``pyplot``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jepa_world.evaluation.planning.two_rooms import SUCCESS_PX, EpisodeResult
from jepa_world.evaluation.report import pyplot, save_figure

__all__ = ["plot_episodes", "plot_success_vs_budget"]


def plot_episodes(
    results: Sequence[EpisodeResult],
    path: str | Path,
    columns: int = 4,
    max_episodes: int = 16,
    title: str | None = None,
) -> Path:
    """A grid of episodes on their maps: walls (with the door), start, goal, path; the panel
    title says the final distance and is green on success (4.5 px rule), red otherwise."""
    if not results:
        raise ValueError("results must hold at least one episode")
    if columns < 1 or max_episodes < 1:
        raise ValueError(f"columns={columns} and max_episodes={max_episodes} must be >= 1")
    plt = pyplot()
    shown = list(results)[:max_episodes]
    cols = min(columns, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, shown, strict=False):
        size = r.wall.shape[-1]
        ax.imshow(r.wall, cmap="Greys", vmin=0, vmax=400, extent=(0, size, size, 0))
        ax.plot(r.path[:, 0], r.path[:, 1], "-", color="tab:blue", lw=1.2)
        ax.plot(*r.path[0], "o", color="tab:orange", ms=5, label="start")
        ax.plot(*r.goal, "*", color="tab:green", ms=9, label="goal")
        ax.add_patch(plt.Circle(r.goal, SUCCESS_PX, fill=False, color="tab:green", lw=0.8))
        colour = "tab:green" if r.success else "tab:red"
        ax.set_title(f"final {r.final_distance:.1f} px", fontsize=8, color=colour)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_success_vs_budget(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | Path,
    ylabel: str | None = None,
) -> Path:
    """Success rate (with its Wilson interval) against samples x iterations, log x axis
    (``ylabel``: the success rule, default Two Rooms').

    ``rows`` is :func:`sweep_budget`'s output, or a mapping label -> such rows (one line each,
    e.g. ``{"ours": ..., "true_dynamics": ...}``).
    """
    series = dict(rows) if isinstance(rows, Mapping) else {"": rows}
    if not series or not any(series.values()):
        raise ValueError("rows must hold at least one budget point")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, points in series.items():
        pts = sorted(points, key=lambda p: p["samples"] * p["iterations"])
        x = [p["samples"] * p["iterations"] for p in pts]
        y = np.array([p["planning/success_rate"] for p in pts])
        lo = y - np.array([p["planning/success_rate_ci_low"] for p in pts])
        hi = np.array([p["planning/success_rate_ci_high"] for p in pts]) - y
        ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=label or None)
    ax.set_xscale("log")
    budgets = sorted({p["samples"] * p["iterations"] for pts in series.values() for p in pts})
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("planning budget (samples x iterations)")
    ax.set_ylabel(ylabel or f"success rate (final < {SUCCESS_PX} px)")
    ax.grid(alpha=0.3)
    if any(series):
        ax.legend(fontsize=8)
    return save_figure(fig, path)

"""The physics suite's report: one table of every metric (model against each baseline, with
intervals) and three plots (roll-out error against horizon, surprise over time, relative accuracy
per property), drawn from the report's own ``metrics`` and ``curves`` so that a report can be
re-rendered later without re-running a model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jepa_world.evaluation.report import Report, format_number, pyplot, save_figure
from jepa_world.worlds.intuitive import PROPERTIES

__all__ = [
    "PLOTS",
    "TABLE_COLUMNS",
    "PhysicsReport",
    "plot_accuracy",
    "plot_rollout",
    "plot_surprise",
]

TABLE_COLUMNS = ("random_init", "pixels", "copy_last", "constant_velocity", "mean")
"""Columns of the physics report table beside the model."""
PLOTS = {
    "rollout": "rollout_error.png",
    "voe_surprise": "voe_surprise.png",
    "voe_accuracy": "voe_accuracy.png",
}
"""The physics report's plots: name -> file name."""
_SUFFIXES = ("_ci_low", "_ci_high", "_std", "_min", "_max")


def _row_keys(metrics: Mapping[str, float]) -> list[str]:
    keys: list[str] = []
    for key in metrics:
        base = key
        if key.startswith("baselines/"):
            base = key.split("/", 2)[2]
        if base.endswith(_SUFFIXES) or base in keys:
            continue
        keys.append(base)
    order = {"state": 0, "rollout": 1, "rollout_fitted": 2, "voe": 3, "voe_fitted": 4}

    def sort_key(k: str):
        group, _, rest = k.partition("/")
        name, _, horizon = rest.partition("@")
        return (order.get(group, 3), name, int(horizon) if horizon.isdigit() else 0, rest)

    return sorted(keys, key=sort_key)


def _cell(metrics: Mapping[str, float], key: str, spread: bool = False) -> str:
    if key not in metrics:
        return "—"
    text = format_number(metrics[key])
    if spread and f"{key}_std" in metrics:
        return f"{text} ± {format_number(metrics[key + '_std'])}"
    if f"{key}_ci_low" in metrics:
        low, high = metrics[key + "_ci_low"], metrics[key + "_ci_high"]
        return f"{text} [{format_number(low)}, {format_number(high)}]"
    return text


class PhysicsReport(Report):
    """Report of a physics suite: ``suite``, ``metrics``, ``protocol``, ``model``, ``curves``,
    ``timing`` and ``notes``.

    Table: each metric of the model against every baseline. Model cells carry their 95 %
    interval ``[low, high]``; random-init cells are ``mean ± std`` over seeds; "—" marks a
    baseline that does not apply to the metric.
    """

    title = "Probe report"

    def columns(self) -> list[str]:
        return ["model", *TABLE_COLUMNS]

    def rows(self) -> list[tuple[str, list[str]]]:
        metrics = self["metrics"]
        rows = []
        for key in _row_keys(metrics):
            cells = [_cell(metrics, key)]
            for name in TABLE_COLUMNS:
                cells.append(
                    _cell(metrics, f"baselines/{name}/{key}", spread=name == "random_init")
                )
            rows.append((key, cells))
        return rows

    def summary_lines(self) -> list[str]:
        protocol = self.get("protocol", {})
        lines = [
            f"Suite `{self.get('suite')}` on `{self.get('model', {}).get('name')}`; "
            f"random-init seeds {protocol.get('random_init_seeds')}; intervals 95 % "
            f"({protocol.get('bootstrap_resamples')} bootstrap resamples or Wilson).",
        ]
        for probe in ("state", "rollout", "voe"):
            if probe in protocol:
                params, seeds = protocol[probe].get("world_params"), protocol[probe].get("seeds")
                lines.append(f"- {probe}: world params {params}; seeds {seeds}.")
        if "forecaster" in protocol:
            b = protocol["forecaster"]
            lines.append(
                f"- fitted forecaster: {b.get('steps')} steps, {b.get('clips')} clips (seeds "
                f"{b.get('seeds')}), batch {b.get('batch_size')}, lr {b.get('lr')}, width "
                f"{b.get('width')}, depth {b.get('depth')}, context {b.get('context_steps')} "
                f"steps, seed {b.get('seed')}."
            )
        timing = self.get("timing", {})
        if "total_s" in timing:
            lines.append(f"- wall time {timing['total_s']:.1f} s.")
        return lines

    def plots(self) -> dict[str, tuple[str, Callable[[Path], Path]]]:
        curves = self.get("curves", {})
        drawn: dict[str, tuple[str, Callable[[Path], Path]]] = {}
        if "rollout" in curves:
            drawn["rollout"] = (PLOTS["rollout"], lambda p: plot_rollout(curves["rollout"], p))
        if "voe_example" in curves:
            examples = curves["voe_example"]
            drawn["voe_surprise"] = (PLOTS["voe_surprise"], lambda p: plot_surprise(examples, p))
            metrics = self["metrics"]
            drawn["voe_accuracy"] = (PLOTS["voe_accuracy"], lambda p: plot_accuracy(metrics, p))
        return drawn


def plot_rollout(curves: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Roll-out error against horizon: position px and latent L1, model against baselines."""
    plt = pyplot()
    ks = curves["horizons"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    pos = curves["position_px"]
    ax = axes[0]
    ax.plot(ks, pos["model"], "o-", color="C0", label="model")
    for name, style in (("copy_last", "s--"), ("constant_velocity", "^--"), ("mean", ":")):
        ax.plot(ks, pos[name], style, label=name.replace("_", " "))
    randoms = pos.get("random_init") or []
    if randoms:
        lo = [min(r[i] for r in randoms) for i in range(len(ks))]
        hi = [max(r[i] for r in randoms) for i in range(len(ks))]
        ax.fill_between(ks, lo, hi, color="grey", alpha=0.3, label="random init (min-max)")
    ax.set(xscale="log", xlabel="horizon k (time steps)", ylabel="position error (px)")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.legend(fontsize=8)
    lat = curves["latent_err"]
    ax = axes[1]
    ax.plot(ks, lat["model"], "o-", color="C0", label="model")
    ax.plot(ks, lat["copy_last"], "s--", label="copy last")
    ax.plot(ks, lat["mean"], ":", label="mean token")
    ax.set(xscale="log", xlabel="horizon k (time steps)", ylabel="L1 to true target tokens")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.legend(fontsize=8)
    fig.suptitle("Roll-out from context, no further frames")
    return save_figure(fig, path)


def plot_surprise(examples: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Per-step surprise of one quadruplet per property (model and pixel novelty)."""
    plt = pyplot()
    props = list(examples)
    fig, axes = plt.subplots(2, len(props), figsize=(3.2 * len(props), 5.5), squeeze=False)
    labels = ("A possible", "B possible", "C impossible", "D impossible")
    for j, prop in enumerate(props):
        ex = examples[prop]
        tub = ex["step_frames"]
        for row, (name, valid, scale) in enumerate(
            (("model", ex["valid_steps"], tub), ("pixels", ex["valid_frames"], 1))
        ):
            ax = axes[row, j]
            for i, series in enumerate(ex[name]):
                xs = [s * scale + scale - 1 for s in valid]
                style = "-" if ex["possible"][i] else "--"
                ax.plot(xs, [series[s] for s in valid], style, label=labels[i])
            for d in sorted(set(ex["divergence_frame"])):
                if d > 0:
                    ax.axvline(d, color="red", lw=0.8, alpha=0.6)
            ax.set_title(f"{prop}: {'model' if row == 0 else 'pixel novelty'}", fontsize=9)
            ax.set_xlabel("frame")
            if j == 0:
                ax.set_ylabel("surprise (L1)" if row == 0 else "sum |x_f - x_f-1|")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Surprise over time, first quadruplet per property (red: divergence frames)")
    return save_figure(fig, path)


def plot_accuracy(metrics: Mapping[str, float], path: str | os.PathLike) -> Path:
    """Relative accuracy per property, with random-init (mean ± std) and pixel bands."""
    plt = pyplot()

    found = {
        k.split("/")[1]
        for k in metrics
        if k.startswith("voe/") and k.endswith("/relative_acc") and not k.startswith("voe/mean")
    }
    props = [p for p in PROPERTIES if p in found] + sorted(found - set(PROPERTIES))
    fig, ax = plt.subplots(figsize=(1.4 * len(props) + 2, 4))
    for i, prop in enumerate(props):
        key = f"voe/{prop}/relative_acc"
        value = metrics[key]
        err = [
            [value - metrics.get(f"{key}_ci_low", value)],
            [metrics.get(f"{key}_ci_high", value) - value],
        ]
        ax.bar(i, value, color="C0", yerr=err, capsize=3, label="model" if i == 0 else None)
        rkey = f"baselines/random_init/{key}"
        if rkey in metrics:
            mean, std = metrics[rkey], metrics.get(f"{rkey}_std", 0.0)
            ax.fill_between(
                [i - 0.45, i + 0.45],
                mean - std,
                mean + std,
                color="grey",
                alpha=0.35,
                label="random init ± std" if i == 0 else None,
            )
        pkey = f"baselines/pixels/{key}"
        if pkey in metrics:
            ax.hlines(
                metrics[pkey],
                i - 0.45,
                i + 0.45,
                colors="C3",
                lw=2,
                label="pixel novelty" if i == 0 else None,
            )
    ax.axhline(0.5, color="black", lw=0.8, ls=":", label="chance")
    ax.set_xticks(range(len(props)), props)
    ax.set(ylim=(0, 1.05), ylabel="relative accuracy")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Matched quadruplets: S(C)+S(D) > S(A)+S(B)")
    return save_figure(fig, path)

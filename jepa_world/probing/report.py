"""Probe report: ``report.json`` (flat metrics + protocol), ``report.md`` (one table), PNG plots.

The JSON is the source of truth; the table and the plots are drawn from it, so a report can be
re-rendered later without re-running a model. matplotlib is imported only when plotting (Agg).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "PLOTS",
    "TABLE_COLUMNS",
    "log_to_logger",
    "markdown_table",
    "plot_accuracy",
    "plot_rollout",
    "plot_surprise",
    "write_report",
]

TABLE_COLUMNS = ("random_init", "pixels", "copy_last", "constant_velocity", "mean")
PLOTS = {
    "rollout": "rollout_error.png",
    "voe_surprise": "voe_surprise.png",
    "voe_accuracy": "voe_accuracy.png",
}
_SUFFIXES = ("_ci_low", "_ci_high", "_std", "_min", "_max")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _row_keys(metrics: Mapping[str, float]) -> list[str]:
    keys: list[str] = []
    for key in metrics:
        base = key
        if key.startswith("baselines/"):
            base = key.split("/", 2)[2]
        if base.endswith(_SUFFIXES) or base in keys:
            continue
        keys.append(base)
    order = {"state": 0, "rollout": 1, "voe": 2}

    def sort_key(k: str):
        group, _, rest = k.partition("/")
        name, _, horizon = rest.partition("@")
        return (order.get(group, 3), name, int(horizon) if horizon.isdigit() else 0, rest)

    return sorted(keys, key=sort_key)


def markdown_table(report: Mapping[str, Any]) -> str:
    """One table: each metric of the model against every baseline, with intervals.

    Model cells carry their 95 % interval ``[low, high]``; random-init cells are ``mean ± std``
    over seeds; "—" marks a baseline that does not apply to the metric.
    """
    metrics = report["metrics"]
    head = "| metric | model | " + " | ".join(TABLE_COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (2 + len(TABLE_COLUMNS))]
    for key in _row_keys(metrics):
        cells = [_cell(metrics, key)]
        for name in TABLE_COLUMNS:
            cells.append(_cell(metrics, f"baselines/{name}/{key}", spread=name == "random_init"))
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(metrics: Mapping[str, float], key: str, spread: bool = False) -> str:
    if key not in metrics:
        return "—"
    text = _fmt(metrics[key])
    if spread and f"{key}_std" in metrics:
        return f"{text} ± {_fmt(metrics[key + '_std'])}"
    if f"{key}_ci_low" in metrics:
        return f"{text} [{_fmt(metrics[key + '_ci_low'])}, {_fmt(metrics[key + '_ci_high'])}]"
    return text


def _protocol_lines(report: Mapping[str, Any]) -> list[str]:
    protocol = report.get("protocol", {})
    lines = [
        f"Suite `{report.get('suite')}` on `{report.get('model', {}).get('name')}`; "
        f"random-init seeds {protocol.get('random_init_seeds')}; intervals 95 % "
        f"({protocol.get('bootstrap_resamples')} bootstrap resamples or Wilson).",
    ]
    for probe in ("state", "rollout", "voe"):
        if probe in protocol:
            p = protocol[probe]
            seeds = p.get("seeds")
            lines.append(f"- {probe}: world params {p.get('world_params')}; seeds {seeds}.")
    timing = report.get("timing", {})
    if "total_s" in timing:
        lines.append(f"- wall time {timing['total_s']:.1f} s.")
    return lines


def write_report(report: Mapping[str, Any], out: str | os.PathLike) -> dict[str, Path]:
    """Write report.json, report.md and the plots into ``out``; return the paths by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "md": out / "report.md"}
    paths["json"].write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    text = [f"# Probe report: {report.get('suite')}", "", *_protocol_lines(report), ""]
    text += [markdown_table(report), ""]
    curves = report.get("curves", {})
    for name, filename in PLOTS.items():
        drawn = {
            "rollout": lambda p: plot_rollout(curves["rollout"], p),
            "voe_surprise": lambda p: plot_surprise(curves["voe_example"], p),
            "voe_accuracy": lambda p: plot_accuracy(report["metrics"], p),
        }
        needs = "rollout" if name == "rollout" else "voe_example"
        if needs in curves:
            paths[name] = drawn[name](out / filename)
            text.append(f"![{name}]({filename})")
    paths["md"].write_text("\n".join(text) + "\n")
    return paths


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_rollout(curves: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Roll-out error against horizon: position px and latent L1, model against baselines."""
    plt = _pyplot()
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_surprise(examples: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Per-step surprise of one quadruplet per property (model and pixel novelty)."""
    plt = _pyplot()
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_accuracy(metrics: Mapping[str, float], path: str | os.PathLike) -> Path:
    """Relative accuracy per property, with random-init (mean ± std) and pixel bands."""
    plt = _pyplot()
    from jepa_world.probing.suite import PROPERTIES

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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _loggers(logger: Any) -> Iterable[Any]:
    if logger is None:
        return []
    if isinstance(logger, (list, tuple)):
        return [lg for lg in logger if lg is not None]
    return [logger]


def log_to_logger(
    logger: Any, report: Mapping[str, Any], out: str | os.PathLike | None = None, step=None
) -> None:
    """Log the report's metrics (and, with ``out``, its PNG plots) to Lightning logger(s).

    Accepts one logger, a list (``trainer.loggers``) or None (nothing happens). Images go to
    loggers with ``log_image`` (e.g. ``WandbLogger``); ``out`` defaults to the folder the report
    was written to by ``run_suite``.
    """
    out = out if out is not None else report.get("out")
    metrics = {
        f"probe/{k}": float(v)
        for k, v in report["metrics"].items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    for lg in _loggers(logger):
        lg.log_metrics(metrics, step=step)
        if out is not None and hasattr(lg, "log_image"):
            for path in sorted(Path(out).glob("*.png")):
                lg.log_image(key=f"probe/{path.stem}", images=[str(path)])

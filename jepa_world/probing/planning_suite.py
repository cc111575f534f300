"""The planning suite: plan to goal images in Two Rooms with an exported world model (PROTOCOLS §1).

``run_planning_suite(model, suite, out)`` runs the MPC episodes of a suite
(``probes/two_rooms.yaml``) with the model's ``encode`` / ``rollout`` and the suite's planner,
then the same episodes for the baselines, and writes ``report.json`` (flat ``metrics``:
``planning/...`` for the model, ``baselines/<name>/planning/...``), ``report.md`` and two PNGs
(episodes drawn on their maps; success against planning budget). Baselines: ``random_actions``
(the floor), ``greedy`` (straight at the goal, ignoring walls), ``random_init`` (the same planner
on an untrained model of the same architecture) and ``true_dynamics`` (the same planner on the
simulator: the planner's ceiling). The gap from the model to ``true_dynamics`` is the model's;
from ``true_dynamics`` to 1.0, the planner's.

A suite is a mapping with a top-level ``planning`` section (see ``probes/two_rooms.yaml``);
:func:`is_planning_suite` tells it apart from a physics suite so that ``jepa-world probe`` can
dispatch. Every key is checked before any episode runs; errors name the key.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jepa_world.probing import planning as P
from jepa_world.probing.adaptation import AdaptConfig, AdaptingModel
from jepa_world.probing.suite import check_int, read_suite_yaml

__all__ = [
    "BASELINE_NAMES",
    "PLOTS",
    "PlanningSuite",
    "is_planning_suite",
    "load_planning_suite",
    "parse_planning_suite",
    "planning_table",
    "random_init_world_model",
    "run_gym_planning",
    "run_planning_suite",
]

BASELINE_NAMES = ("random_actions", "greedy", "random_init", "true_dynamics")
BUDGET_MODELS = ("model", "true_dynamics")
PLOTS = {"episodes": "planning_episodes.png", "budget": "planning_budget.png"}
_PLANNER_FIELDS = tuple(f.name for f in fields(P.PlannerConfig))

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# --------------------------------------------------------------------------------------------
# Suite schema
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanningSuite:
    """A validated planning suite; build with :func:`parse_planning_suite`."""

    name: str
    episodes: int
    seed: int
    max_steps: int
    replan_every: int
    planner: str
    planner_config: P.PlannerConfig
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
    source: str = "<dict>"


def is_planning_suite(suite: Any) -> bool:
    """True for a planning suite: a mapping, or a YAML file / shipped name, with ``planning``."""
    if isinstance(suite, PlanningSuite):
        return True
    if isinstance(suite, Mapping):
        return "planning" in suite
    try:
        path = _resolve(suite)
    except (FileNotFoundError, TypeError):
        return False
    data = read_suite_yaml(path)
    return isinstance(data, Mapping) and "planning" in data


def _resolve(suite: str | os.PathLike) -> Path:
    """A suite file, or a shipped suite by name (``two_rooms``, ``probes/two_rooms.yaml``)."""
    if not isinstance(suite, (str, os.PathLike)):
        raise TypeError(f"suite must be a path, a name or a mapping, got {type(suite).__name__}")
    path = Path(suite)
    if path.is_file():
        return path
    shipped = Path(str(resources.files("jepa_world") / "probes")) / f"{path.stem}.yaml"
    if shipped.is_file():
        return shipped
    raise FileNotFoundError(f"suite {str(suite)!r} is neither a file nor a shipped suite")


def load_planning_suite(suite: str | os.PathLike | Mapping[str, Any]) -> PlanningSuite:
    """Parse a planning suite from a YAML file, a shipped suite name, or a mapping."""
    if isinstance(suite, PlanningSuite):
        return suite
    if isinstance(suite, Mapping):
        return parse_planning_suite(suite)
    path = _resolve(suite)
    return parse_planning_suite(read_suite_yaml(path), source=str(path))


def _section(data: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{key} must be a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"{key} has unknown key(s) {unknown}: allowed {sorted(allowed)}")
    return dict(data)


def _names(key: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or any(v not in allowed for v in value):
        raise ValueError(f"{key}={value!r} must be a list drawn from {list(allowed)}")
    if len(set(value)) != len(value):
        raise ValueError(f"{key} lists an entry twice: {list(value)}")
    return tuple(value)


def parse_planning_suite(data: Mapping[str, Any], source: str = "<dict>") -> PlanningSuite:
    """Validate a suite mapping (see ``probes/two_rooms.yaml``); errors name the key."""
    top = _section(data, "suite", ("name", "planning"))
    if "planning" not in top:
        raise ValueError("missing key planning: a planning suite needs a 'planning' section")
    keys = ("episodes", "seed", "max_steps", "replan_every", "env", "planner", "baselines")
    sec = _section(top["planning"], "planning", (*keys, "budget", "plots", "workers", "adapt"))
    episodes = check_int("planning.episodes", sec.get("episodes", 200), 1)
    workers = sec.get("workers", 1)
    workers = _cpus() if workers is None else check_int("planning.workers", workers, 1)
    seed = check_int("planning.seed", sec.get("seed", 0), 0, 2**63 - 2**32)
    max_steps = check_int("planning.max_steps", sec.get("max_steps", 200), 1)
    replan_every = check_int("planning.replan_every", sec.get("replan_every", 1), 1)
    env = _section(sec.get("env"), "planning.env", ("wall_range", "door_range", "sigma"))
    planner_kw = _section(sec.get("planner"), "planning.planner", ("name", *_PLANNER_FIELDS))
    planner = planner_kw.pop("name", "mppi")
    if planner not in P.PLANNERS:
        raise ValueError(f"planning.planner.name={planner!r}: choose one of {sorted(P.PLANNERS)}")
    for bound in ("low", "high"):
        if isinstance(planner_kw.get(bound), list):
            planner_kw[bound] = tuple(planner_kw[bound])
    try:
        config = P.PlannerConfig(**planner_kw)
    except ValueError as err:
        raise ValueError(f"planning.planner: {err}") from err
    if replan_every > config.horizon:
        raise ValueError(
            f"planning.replan_every={replan_every} is out of range: allowed [1, "
            f"planning.planner.horizon={config.horizon}]"
        )
    base = _section(
        sec.get("baselines"), "planning.baselines", ("names", "episodes", "random_init_seed")
    )
    names = _names(
        "planning.baselines.names", base.get("names", list(BASELINE_NAMES)), BASELINE_NAMES
    )
    baseline_episodes = base.get("episodes")
    baseline_episodes = (
        episodes
        if baseline_episodes is None
        else check_int("planning.baselines.episodes", baseline_episodes, 1)
    )
    random_init_seed = check_int(
        "planning.baselines.random_init_seed", base.get("random_init_seed", 0), 0
    )
    budget = _section(sec.get("budget"), "planning.budget", ("budgets", "episodes", "models"))
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
    budget_episodes = check_int("planning.budget.episodes", budget.get("episodes", 20), 1)
    models = _names(
        "planning.budget.models", budget.get("models", list(BUDGET_MODELS)), BUDGET_MODELS
    )
    plots = _section(sec.get("plots"), "planning.plots", ("episodes",))
    plot_episodes = check_int("planning.plots.episodes", plots.get("episodes", 16), 1)
    name = top.get("name", "planning")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name={name!r} must be a non-empty string")
    if env:
        _check_env(env)
    adapt = None
    if sec.get("adapt") is not None:
        adapt_kw = _section(
            sec["adapt"], "planning.adapt", ("lr", "steps", "buffer", "rollout_steps", "anchor")
        )
        try:
            adapt = AdaptConfig(**adapt_kw)
        except ValueError as err:
            raise ValueError(f"planning.adapt: {err}") from err
    return PlanningSuite(
        name=name,
        episodes=episodes,
        seed=seed,
        max_steps=max_steps,
        replan_every=replan_every,
        planner=planner,
        planner_config=config,
        env=env,
        baselines=names,
        baseline_episodes=baseline_episodes,
        random_init_seed=random_init_seed,
        budgets=tuple(pairs),
        budget_episodes=budget_episodes,
        budget_models=models,
        plot_episodes=plot_episodes,
        workers=workers,
        adapt=adapt,
        source=source,
    )


def _cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_env(env: dict[str, Any]) -> None:
    """Build the env once so bad wall / door ranges fail before any episode, naming the key."""
    from jepa_world.worlds.two_rooms import TwoRoomsEnv

    try:
        TwoRoomsEnv(**env).close()
    except ValueError as err:
        raise ValueError(f"planning.env: {err}") from err


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def _load_model(model: Any) -> Any:
    """An export folder -> ``hub.WorldModel``; anything with encode/rollout passes through."""
    if isinstance(model, (str, os.PathLike)):
        from jepa_world.hub import load_world_model

        model = load_world_model(model)
    if not isinstance(model, P.LatentModel):
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


def random_init_world_model(model: Any, seed: int = 0) -> Any:
    """An untrained ``hub.WorldModel`` of the same architecture as ``model`` (seeded), frozen."""
    from jepa_world.hub import FrozenEncoder, WorldModel, _freeze
    from jepa_world.models import create_action_predictor, create_encoder

    encoder = getattr(getattr(model, "encoder", None), "config", None)
    action = getattr(getattr(model, "action_predictor", None), "config", None)
    if encoder is None or action is None:
        raise TypeError("random_init needs a hub.WorldModel with an encoder and action predictor")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = FrozenEncoder(_freeze(create_encoder(**encoder)))
        predictor = create_action_predictor(**action)
    return WorldModel(fresh, fresh, None, predictor)


def _model_info(model: Any) -> dict[str, Any]:
    encoder = getattr(getattr(model, "encoder", None), "config", None)
    action = getattr(getattr(model, "action_predictor", None), "config", None)
    if encoder is None:
        return {"name": type(model).__name__, "config": None}
    name = f"{encoder['name']}+{action['kind']}" if action else encoder["name"]
    return {"name": name, "config": {"encoder": encoder, "action_predictor": action}}


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def _planned(model: Any, suite: PlanningSuite) -> Any:
    """The model as the planner sees it: wrapped for test-time adaptation when the suite asks."""
    if suite.adapt is None:
        return model
    try:
        return AdaptingModel(model, suite.adapt)
    except TypeError as err:
        raise ValueError(f"planning.adapt: {err}") from err


def _episodes(who: Any, suite: PlanningSuite, episodes: int, config: P.PlannerConfig | None = None):
    planner = P.create_planner(suite.planner, config or suite.planner_config)
    return P.run_episodes(
        who,
        episodes=episodes,
        seed=suite.seed,
        planner=planner,
        max_steps=suite.max_steps,
        replan_every=suite.replan_every,
        env_kwargs=suite.env,
        workers=suite.workers,
    )


def _budget_rows(who: Any, suite: PlanningSuite) -> list[dict[str, Any]]:
    rows = []
    for samples, iterations in suite.budgets:
        config = replace(
            suite.planner_config,
            samples=samples,
            iterations=iterations,
            elites=min(suite.planner_config.elites, samples),
        )
        metrics = P.summarize_episodes(_episodes(who, suite, suite.budget_episodes, config))
        rows.append(
            {"samples": samples, "iterations": iterations, "budget": samples * iterations} | metrics
        )
    return rows


def run_planning_suite(
    model_dir_or_model: Any,
    suite: str | os.PathLike | Mapping[str, Any] | PlanningSuite,
    out: str | os.PathLike | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Run a planning suite on a model and its baselines; return (and write to ``out``) the report.

    ``model_dir_or_model``: an export folder with an action predictor, a loaded
    ``hub.WorldModel``, or any object with ``encode(obs)`` and ``rollout(z0, actions)`` (then the
    ``random_init`` baseline is skipped and noted). ``suite``: a mapping, YAML path or shipped
    name. ``log`` receives progress lines.
    """
    log = log or _quiet
    began = time.perf_counter()
    parsed = load_planning_suite(suite)
    model = _load_model(model_dir_or_model)
    info = _model_info(model)
    timing: dict[str, float] = {}
    notes: dict[str, Any] = {}
    metrics: dict[str, Any] = {}

    log(f"[planning] {parsed.episodes} episodes of {parsed.max_steps} steps on {info['name']}")
    tick = time.perf_counter()
    results = _episodes(_planned(model, parsed), parsed, parsed.episodes)
    timing["model_s"] = time.perf_counter() - tick
    metrics.update(P.summarize_episodes(results))
    log(f"[planning] model: success {metrics['planning/success_rate']:.3f}")

    for name in parsed.baselines:
        who: Any = name
        if name == "random_init":
            try:
                who = _planned(random_init_world_model(model, parsed.random_init_seed), parsed)
            except TypeError as err:
                notes["random_init"] = f"skipped: {err}"
                continue
        tick = time.perf_counter()
        summary = P.summarize_episodes(_episodes(who, parsed, parsed.baseline_episodes))
        timing[f"{name}_s"] = time.perf_counter() - tick
        metrics.update({f"baselines/{name}/{k}": v for k, v in summary.items()})
        log(f"[planning] {name}: success {summary['planning/success_rate']:.3f}")

    curves: dict[str, Any] = {}
    if parsed.budgets:
        tick = time.perf_counter()
        targets = {"model": _planned(model, parsed), "true_dynamics": "true_dynamics"}
        curves["budget"] = {k: _budget_rows(targets[k], parsed) for k in parsed.budget_models}
        timing["budget_s"] = time.perf_counter() - tick
        log("[planning] budget sweep done")
    timing["total_s"] = time.perf_counter() - began

    report = {
        "suite": parsed.name,
        "metrics": metrics,
        "protocol": _protocol(parsed),
        "model": info,
        "curves": curves,
        "episodes": [r.as_dict() for r in results[: parsed.plot_episodes]],
        # which of the model's episodes failed (index i: env seed `seed + i`), to look at again
        "failed_episodes": [i for i, r in enumerate(results) if not r.success],
        "timing": timing,
        "notes": notes,
    }
    if out is not None:
        report["files"] = write_planning_report(report, results, out)
        log(f"[planning] wrote {out}")
    return report


def _protocol(suite: PlanningSuite) -> dict[str, Any]:
    return {
        "suite": suite.source,
        "world": "two_rooms (PROTOCOLS.md §1, 'medium': start and goal in opposite rooms)",
        "episodes": suite.episodes,
        "episode_seeds": [suite.seed, suite.seed + suite.episodes],
        "baseline_episodes": suite.baseline_episodes,
        "max_steps": suite.max_steps,
        "replan_every": suite.replan_every,
        "workers": suite.workers,
        "adapt": asdict(suite.adapt) if suite.adapt is not None else None,
        "planner": suite.planner,
        "planner_config": asdict(suite.planner_config),
        "env": suite.env,
        "success_rule": f"final distance < {P.SUCCESS_PX} px (eb_jepa)",
        "strict_success_rule": f"any step within {P.STRICT_SUCCESS_PX} px (PLDM)",
        "interval": "Wilson 95 %",
        "random_init_seed": suite.random_init_seed,
        "budgets": [list(b) for b in suite.budgets],
        "budget_episodes": suite.budget_episodes,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def planning_table(report: Mapping[str, Any]) -> str:
    """Markdown table: the model and every baseline, one column each, one row per metric."""
    metrics = report["metrics"]
    columns = ["model"] + [
        n for n in BASELINE_NAMES if f"baselines/{n}/planning/success_rate" in metrics
    ]
    lines = ["| metric | " + " | ".join(columns) + " |", "|" + " --- |" * (len(columns) + 1)]
    for key in P.METRIC_KEYS:
        if key.endswith(("_ci_low", "_ci_high")):
            continue
        cells = []
        for column in columns:
            prefix = "" if column == "model" else f"baselines/{column}/"
            cell = _fmt(metrics.get(prefix + key))
            if key == "planning/success_rate" and prefix + key in metrics:
                low = metrics[f"{prefix}planning/success_rate_ci_low"]
                high = metrics[f"{prefix}planning/success_rate_ci_high"]
                cell += f" [{low:.3f}, {high:.3f}]"
            cells.append(cell)
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown(report: Mapping[str, Any]) -> str:
    proto = report["protocol"]
    cfg = proto["planner_config"]
    lines = [
        f"# Planning report: {report['suite']}",
        "",
        f"Model: `{report['model']['name']}`. {proto['world']}; {proto['episodes']} episodes "
        f"(env seeds {proto['episode_seeds'][0]} ..), baselines on {proto['baseline_episodes']}; "
        f"{proto['max_steps']} steps, replanning every {proto['replan_every']}.",
        f"Planner: {proto['planner']}, horizon {cfg['horizon']}, {cfg['samples']} samples, "
        f"{cfg['iterations']} iterations, {cfg['elites']} elites, {cfg['modes']} mode(s)"
        + (f" after a {cfg['mode_patience']}-plan stall" if cfg["mode_patience"] else "")
        + f", temperature {cfg['temperature']}, cost {cfg['cost']} ({cfg['cost_steps']}, "
        f"final weight {cfg['final_weight']}).",
        f"Success: {proto['success_rule']}; strict: {proto['strict_success_rule']}; "
        f"{proto['interval']} interval in brackets.",
        "",
        planning_table(report),
        "",
    ]
    if report.get("notes"):
        lines += ["Notes: " + "; ".join(f"{k}: {v}" for k, v in report["notes"].items()), ""]
    files = report.get("files", {})
    for key in ("episodes", "budget"):
        if key in files:
            lines.append(f"![{key}]({Path(files[key]).name})")
    return "\n".join(lines) + "\n"


def write_planning_report(
    report: dict[str, Any], results: list[P.EpisodeResult], out: str | os.PathLike
) -> dict[str, str]:
    """Write report.json, report.md and the PNGs into ``out``; return the file paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"json": str(folder / "report.json"), "markdown": str(folder / "report.md")}
    shown = results[: max(1, len(report.get("episodes", results)))]
    title = f"{report['model']['name']}: success {report['metrics']['planning/success_rate']:.2f}"
    grid = P.plot_episodes(shown, folder / PLOTS["episodes"], max_episodes=len(shown), title=title)
    files["episodes"] = str(grid)
    budget = report.get("curves", {}).get("budget")
    if budget:
        files["budget"] = str(P.plot_success_vs_budget(budget, folder / PLOTS["budget"]))
    else:  # no sweep configured: one point per run, the suite's own budget
        cfg = report["protocol"]["planner_config"]
        point = {"samples": cfg["samples"], "iterations": cfg["iterations"]}
        rows = {"model": [point | _planning_only(report["metrics"], "")]}
        if "baselines/true_dynamics/planning/success_rate" in report["metrics"]:
            td = _planning_only(report["metrics"], "baselines/true_dynamics/")
            rows["true_dynamics"] = [point | td]
        files["budget"] = str(P.plot_success_vs_budget(rows, folder / PLOTS["budget"]))
    report["files"] = files
    Path(files["json"]).write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    Path(files["markdown"]).write_text(_markdown(report))
    return files


def _planning_only(metrics: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix + "planning/")}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


# --------------------------------------------------------------------------------------------
# Beyond Two Rooms: plan toward a goal frame in any gymnasium env
# --------------------------------------------------------------------------------------------


def run_gym_planning(
    model: Any,
    env_id: str = "Pendulum-v1",
    steps: int = 10,
    config: P.PlannerConfig | None = None,
    planner: str = "mppi",
    size: int | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """MPC toward a goal frame in a gymnasium env, rendered as the gym world records its clips.

    The goal frame is the first frame of the episode ``env.reset(seed=seed + 1)``; the agent then
    starts from ``env.reset(seed=seed)`` and replans every step. Continuous (Box) actions are the
    planned vector clipped to the action space; a Discrete action is the argmax of the planned
    one-hot scores (bounds [0, 1]), matching how the recorder flattened actions for training.
    Returns the latent distance to the goal after each step, the executed actions and ms per plan.
    """
    from jepa_world.worlds.gym import GymRecorder

    model = _load_model(model)
    size = size or int(model.encoder.config["img_size"])
    recorder = GymRecorder(env_id, frames=2, size=size, env_kwargs=env_kwargs)
    env, spaces = recorder._env, recorder._spaces  # same env and rendering as the training clips
    box = isinstance(env.action_space, spaces.Box)
    if box:
        low = tuple(float(v) for v in np.ravel(env.action_space.low))
        high = tuple(float(v) for v in np.ravel(env.action_space.high))
    else:
        low, high = (0.0,) * recorder.action_dim, (1.0,) * recorder.action_dim
    base = config or P.PlannerConfig(horizon=8, samples=64, iterations=3, elites=8)
    cfg = replace(
        base, action_dim=recorder.action_dim, low=low, high=high, init_std=0.5 * max(high)
    )
    plan = P.create_planner(planner, cfg)
    plan.reset(seed)
    try:
        env.reset(seed=seed + 1)
        with torch.no_grad():
            goal = model.encode(torch.tensor(recorder._frame()[None]))
        env.reset(seed=seed)
        distances, actions, times = [], [], []
        for _ in range(steps):
            tick = time.perf_counter()
            with torch.no_grad():
                z0 = model.encode(torch.tensor(recorder._frame()[None]))
            vector = plan.plan(model, z0, goal).action.numpy()
            times.append(time.perf_counter() - tick)
            action = vector.reshape(env.action_space.shape) if box else int(np.argmax(vector))
            env.step(action)
            actions.append(vector.tolist())
            with torch.no_grad():
                z = model.encode(torch.tensor(recorder._frame()[None]))
            distances.append(float(P.distance(z, goal, cfg.cost)[0]))
    finally:
        recorder.close()
    return {
        "env_id": env_id,
        "latent_distance": distances,
        "actions": actions,
        "low": list(low),
        "high": list(high),
        "ms_per_plan": 1000.0 * float(np.mean(times)),
    }

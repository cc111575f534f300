"""Planning latency: ms per plan of a planner on Two Rooms' true dynamics, and on a model.

Runs the same MPC episodes (same layouts, same planner settings, replanning every step) with the
simulator as the model (``true_dynamics``, the baseline) and, when ``--model DIR`` is given, with
that exported world model; prints one line each and, last, one JSON dict with ms per plan, seconds
per step and their ratio. The model folder must load with ``jepa_world.load_world_model`` into
something with ``encode(obs)`` and ``rollout(z0, actions)`` (an action-conditioned export).
``--workers N`` (N > 1) also runs the same episodes in N worker processes (what the planning
suite's ``workers`` key does) and reports the wall-time speed-up against one process.
``--adapt`` (with ``--model``) also times the model with test-time adaptation (the suite's
``adapt`` key, ``AdaptConfig`` defaults), reported against the model without it;
``--adapt-rollout K`` adds the same adaptation with ``rollout_steps=K`` (its roll-out loss starts
once K transitions are buffered, so give ``--steps`` well above K), reported against one-step
adaptation; ``--adapt-anchor W`` gives that roll-out adaptation the weight anchor too (the
suite's ``anchor``; ``probes/two_rooms.yaml`` ships ``--adapt-rollout 16 --adapt-anchor 0.01``).
``--modes N`` (N > 1) also times the same planner searching N modes with the same samples (the
suite's ``modes`` key), reported against one mode.

Run: OMP_NUM_THREADS=1 python benchmarks/planning.py [--model DIR] [--planner mppi] [--steps 20]
     [--workers 2] [--adapt [--adapt-rollout 16 [--adapt-anchor 0.01]]] [--modes 4]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from jepa_world.probing import planning as P  # noqa: E402


def time_episodes(
    model_or_name, planner, episodes: int, steps: int, seed: int, workers: int = 1
) -> dict:
    """ms per plan and wall s per environment step over ``episodes`` short MPC episodes."""
    began = time.perf_counter()
    results = P.run_episodes(
        model_or_name, episodes, seed, planner, max_steps=steps, workers=workers
    )
    wall = time.perf_counter() - began
    plans = sum(r.plans for r in results)
    return {
        "ms_per_plan": sum(r.ms_per_plan * r.plans for r in results) / plans,
        "seconds_per_step": wall / (episodes * steps),
        "plans": plans,
    }


def load_model(directory: str):
    """An exported world model as a :class:`~jepa_world.probing.planning.LatentModel`."""
    import jepa_world

    model = jepa_world.load_world_model(directory)
    if not isinstance(model, P.LatentModel):
        raise ValueError(
            f"{directory}: load_world_model gave a {type(model).__name__} without encode() and "
            "rollout(z0, actions); planning needs an action-conditioned export"
        )
    return model


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="exported action-conditioned world model folder")
    parser.add_argument("--planner", default="mppi", choices=sorted(P.PLANNERS))
    parser.add_argument("--samples", type=int, default=P.PlannerConfig.samples)
    parser.add_argument("--iterations", type=int, default=P.PlannerConfig.iterations)
    parser.add_argument("--horizon", type=int, default=P.PlannerConfig.horizon)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="MPC steps (plans) per episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="also time N worker processes")
    parser.add_argument("--adapt", action="store_true", help="also time test-time adaptation")
    parser.add_argument(
        "--adapt-rollout", type=int, default=None, help="also time adaptation with K-step roll-outs"
    )
    parser.add_argument(
        "--adapt-anchor", type=float, default=None, help="the roll-out adaptation's weight anchor"
    )
    parser.add_argument("--modes", type=int, default=1, help="also time N modes (same samples)")
    args = parser.parse_args(argv)
    if args.adapt and not args.model:
        parser.error("--adapt times the model with test-time adaptation: give --model DIR")
    if args.adapt_rollout is not None and not args.adapt:
        parser.error("--adapt-rollout times adaptation with roll-outs: give --adapt too")
    if args.adapt_anchor is not None and args.adapt_rollout is None:
        parser.error("--adapt-anchor anchors the roll-out adaptation: give --adapt-rollout too")
    torch.set_num_threads(args.threads)
    config = P.PlannerConfig(
        samples=args.samples,
        iterations=args.iterations,
        horizon=args.horizon,
        elites=min(P.PlannerConfig.elites, args.samples),
    )
    planner = P.create_planner(args.planner, config)
    runs = {"true_dynamics": "true_dynamics"}
    if args.model:
        runs["model"] = load_model(args.model)
        if args.adapt:
            from jepa_world.probing.adaptation import AdaptConfig, AdaptingModel

            runs["model_adapt"] = AdaptingModel(runs["model"])
            if args.adapt_rollout is not None:
                config_k = AdaptConfig(rollout_steps=args.adapt_rollout, anchor=args.adapt_anchor)
                runs["model_adapt_rollout"] = AdaptingModel(runs["model"], config_k)
    timings = {}
    for name, who in runs.items():
        timings[name] = t = time_episodes(who, planner, args.episodes, args.steps, args.seed)
        print(
            f"{name}: {t['ms_per_plan']:.1f} ms per plan, {t['seconds_per_step']:.3f} s per step "
            f"({t['plans']} plans; {args.planner}, {args.samples} samples x {args.iterations} "
            f"iterations, horizon {args.horizon}, {args.threads} thread(s))"
        )
    result = {
        "planner": args.planner,
        "config": asdict(config),
        "threads": args.threads,
        "true_dynamics_ms_per_plan": round(timings["true_dynamics"]["ms_per_plan"], 2),
        "true_dynamics_seconds_per_step": round(timings["true_dynamics"]["seconds_per_step"], 4),
    }
    if "model" in timings:
        result["model_ms_per_plan"] = round(timings["model"]["ms_per_plan"], 2)
        result["model_seconds_per_step"] = round(timings["model"]["seconds_per_step"], 4)
        result["model_vs_true_dynamics"] = round(
            timings["model"]["ms_per_plan"] / timings["true_dynamics"]["ms_per_plan"], 2
        )
    if "model_adapt" in timings:
        result["model_adapt_ms_per_plan"] = round(timings["model_adapt"]["ms_per_plan"], 2)
        result["model_adapt_vs_model"] = round(
            timings["model_adapt"]["ms_per_plan"] / timings["model"]["ms_per_plan"], 2
        )
    if "model_adapt_rollout" in timings:
        result["model_adapt_rollout_ms_per_plan"] = round(
            timings["model_adapt_rollout"]["ms_per_plan"], 2
        )
        result["model_adapt_rollout_vs_model_adapt"] = round(
            timings["model_adapt_rollout"]["ms_per_plan"] / timings["model_adapt"]["ms_per_plan"], 2
        )
        result["adapt_rollout_steps"] = args.adapt_rollout
        result["adapt_anchor"] = args.adapt_anchor
    if args.modes > 1:
        modes = P.create_planner(args.planner, replace(config, modes=args.modes))
        for name, who in runs.items():
            t = time_episodes(who, modes, args.episodes, args.steps, args.seed)
            ratio = t["ms_per_plan"] / timings[name]["ms_per_plan"]
            print(f"{name}, {args.modes} modes: {t['ms_per_plan']:.1f} ms per plan, {ratio:.2f}x")
            result[f"{name}_modes_ms_per_plan"] = round(t["ms_per_plan"], 2)
            result[f"{name}_modes_vs_one_mode"] = round(ratio, 2)
        result["modes"] = args.modes
    if args.workers > 1:
        for name, who in runs.items():
            t = time_episodes(who, planner, args.episodes, args.steps, args.seed, args.workers)
            speedup = timings[name]["seconds_per_step"] / t["seconds_per_step"]
            print(
                f"{name}, {args.workers} workers: {t['seconds_per_step']:.3f} s per step, "
                f"{speedup:.2f}x the wall-time speed of one process"
            )
            result[f"{name}_workers_speedup"] = round(speedup, 2)
        result["workers"] = args.workers
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

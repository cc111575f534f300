"""Planning latency: ms per plan of the shipped Two Rooms planner, on a model and on the simulator.

Runs short MPC episodes (the shipped suite's layouts, planner, modes and test-time adaptation,
replanning every step) with the exported world model given by ``--model`` (wrapped for
adaptation as the suite does; ``--no-adapt``: bare) and with the simulator as the model
(``true_dynamics``), and prints ms per plan for both. Each measurement runs in a fresh process
with one torch thread.

``--baseline DIR`` also times another checkout of jepa_world (for instance the code before a
change: ``git worktree add /tmp/old <commit>``) on the same episodes, alternating the two
``--rounds`` times so that load on a shared machine hits both alike, and reports the median
ms per plan of each and the median of the rounds' ratios (new / old; below 1 is faster). Wall
time per plan is what the suite reports; CPU time per step (this process's, plans and
adaptation included) is less sensitive to other work on the machine. Results (final
distances) are compared too: they must match. For a CPU without AVX-512, set
``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2``. A model of
the recipe's architecture with random weights times the same as a trained one.

Run: python benchmarks/planning.py --model DIR [--baseline DIR] [--rounds 3] [--steps 30]
     [--episodes 1] [--no-adapt]
The last line is one JSON dict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _shipped_planner(no_adapt: bool) -> tuple[Any, Any, Any, int, dict]:
    """This checkout's episode runner, shipped planner, adaptation wrapper, seed and env."""
    try:  # the planning library and the evaluation framework's planning suite
        from jepa_world.evaluation import load_suite
        from jepa_world.evaluation.planning.episodes import run_episodes
        from jepa_world.planning.adaptation import AdaptingModel

        spec = load_suite("two_rooms").spec
        planner = spec.build_planner()
    except ImportError:  # a checkout from before them: the probing package
        from jepa_world.probing import planning as P
        from jepa_world.probing.adaptation import AdaptingModel
        from jepa_world.probing.planning_suite import load_planning_suite

        spec = load_planning_suite("two_rooms")
        planner, run_episodes = P.create_planner(spec.planner, spec.planner_config), P.run_episodes

    def wrap(model: Any) -> Any:
        return model if no_adapt or spec.adapt is None else AdaptingModel(model, spec.adapt)

    return run_episodes, planner, wrap, spec.seed, spec.env


def measure(model_dir: str | None, steps: int, episodes: int, no_adapt: bool) -> dict[str, Any]:
    """ms per plan (and final distances) of this checkout, in this process."""
    import time

    import torch

    torch.set_num_threads(1)
    run_episodes, planner, wrap, seed, env = _shipped_planner(no_adapt)
    runs: dict[str, Any] = {"true_dynamics": "true_dynamics"}
    if model_dir:
        from jepa_world.hub import load_world_model

        runs = {"model": wrap(load_world_model(model_dir)), **runs}
    out: dict[str, Any] = {}
    for name, who in runs.items():
        cpu = time.process_time()
        results = run_episodes(who, episodes, seed, planner, max_steps=steps, env_kwargs=env)
        cpu = time.process_time() - cpu
        plans = sum(r.plans for r in results)
        out[f"{name}_ms_per_plan"] = sum(r.ms_per_plan * r.plans for r in results) / plans
        out[f"{name}_cpu_ms_per_step"] = 1000.0 * cpu / (episodes * steps)
        out[f"{name}_final_px"] = [r.final_distance for r in results]
    return out


def _child(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--steps", str(args.steps)]
    command += ["--episodes", str(args.episodes)] + (["--model", args.model] if args.model else [])
    command += ["--no-adapt"] if args.no_adapt else []
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="exported action-conditioned world model folder")
    parser.add_argument("--baseline", help="another jepa_world checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per checkout")
    parser.add_argument("--steps", type=int, default=30, help="MPC steps (plans) per episode")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--no-adapt", action="store_true", help="time the bare model")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        # The checkout under test is the one on PYTHONPATH: an editable install of another
        # checkout must not supply the submodules this one lacks.
        sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in str(f)]
        result = measure(args.model, args.steps, args.episodes, args.no_adapt)
        print(json.dumps(result))
        return result
    trees = {"new": REPO} | ({"old": Path(args.baseline).resolve()} if args.baseline else {})
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            samples[name].append(_child(tree, args))
    result: dict[str, Any] = {"steps": args.steps, "episodes": args.episodes, "rounds": args.rounds}
    result["adapt"] = not args.no_adapt
    result["cpu_capability"] = os.environ.get("ATEN_CPU_CAPABILITY", "default")
    for who in ("model", "true_dynamics"):
        if f"{who}_ms_per_plan" not in samples["new"][0]:
            continue
        for key in (f"{who}_ms_per_plan", f"{who}_cpu_ms_per_step"):
            for name in trees:
                result[f"{name}_{key}"] = round(statistics.median(s[key] for s in samples[name]), 2)
            if "old" in trees:  # each round's new against the old run next to it
                pairs = zip(samples["new"], samples["old"], strict=True)
                ratio = statistics.median(new[key] / old[key] for new, old in pairs)
                result[f"{key}_new_vs_old"] = round(ratio, 3)
        for name in trees:
            print(
                f"{name} {who}: {result[f'{name}_{who}_ms_per_plan']:.1f} ms per plan, "
                f"{result[f'{name}_{who}_cpu_ms_per_step']:.1f} CPU ms per step (medians)"
            )
        if "old" in trees:
            same = samples["new"][0][f"{who}_final_px"] == samples["old"][0][f"{who}_final_px"]
            result[f"{who}_same_results"] = same
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""Time growing-context surprise: one causal pass per clip against one forecast per step.

Usage: ``python benchmarks/surprise.py [MODEL_DIR] [--clips 64] [--frames 24] [--threads 2]``.
A growing context forecasts every step of a clip from all of its past. The probe does it in one
teacher-forced pass of the predictor per training-length window
(``ProbeModel.next_step_forecasts``); the baseline makes one training-shaped forecast per step
(context = every earlier step, one mask token), re-encoding the window each time. Both run on the
same clips in one process; the last line is one JSON dict with the ratio and the largest
difference between the two per-step surprises (they differ only because, in one pass, a step's
mask token also attends to the mask tokens of earlier steps). Without MODEL_DIR a
random-init model with ``recipes/physics2d_cpu.yaml``'s architecture is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recipe_model import random_recipe_model  # noqa: E402


def per_step_errors(model, video, first: int):
    """Baseline: each step t >= first forecast on its own from steps max(0, t-W+1)..t-1."""
    import torch

    errors = []
    steps, w = video.shape[1], model.window_steps
    for t in range(first, steps):
        start = max(0, t - w + 1)
        pred, target = model.forecast_windows(video[:, start : t + 1], t - start)
        errors.append((pred[:, 0] - target[:, -1]).abs().mean(dim=(-2, -1)))
    return torch.stack(errors, dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="exported causal model folder (default: random)")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from jepa_world.evaluation.physics.model import load_probe_model
    from jepa_world.worlds import create_world

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or str(random_recipe_model("physics2d_cpu", Path(tmp) / "random"))
        model = load_probe_model(path)
    video = create_world("physics2d", frames=args.frames, size=model.size).generate(
        np.arange(3_900_000_000, 3_900_000_000 + args.clips)
    )["video"]
    first = model.context_steps
    start = time.perf_counter()
    pred, target = model.next_step_forecasts(video)
    one_pass = (pred[:, first:] - target[:, first:]).abs().mean(dim=(-2, -1))
    one_pass_s = time.perf_counter() - start
    start = time.perf_counter()
    baseline = per_step_errors(model, video, first)
    per_step_s = time.perf_counter() - start
    result = {
        "benchmark": "growing-context surprise",
        "model": args.model or "random-init, recipes/physics2d_cpu.yaml's architecture",
        "clips": args.clips,
        "frames": args.frames,
        "threads": args.threads,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.processor() or ''}",
        "one_pass_s": round(one_pass_s, 2),
        "per_step_s": round(per_step_s, 2),
        "speedup": round(per_step_s / one_pass_s, 1),
        "mean_surprise_one_pass": round(float(one_pass.mean()), 4),
        "mean_surprise_per_step": round(float(baseline.mean()), 4),
        "max_abs_difference": float((one_pass - baseline).abs().max()),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

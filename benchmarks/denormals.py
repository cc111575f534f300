"""Training-step time with subnormal floats computed as IEEE demands against flushed to zero.

Usage: ``python benchmarks/denormals.py [CKPT] [--recipe physics2d_cpu] [--steps 3]
[--threads 1]``. A sharp spatial softmax (the keypoint encoders once trained) leaves weights
below 1e-38, and every op on them takes the CPU's slow subnormal path; ``jepa-world`` flushes
them (``jepa_world.training.runtime.flush_denormal_floats``). Both settings time the same model
on the same batch in one process, best of ``--steps``; the last line is one JSON dict with the
ratio. Pass a checkpoint of a trained run (``runs/physics2d_cpu/checkpoints/last.ckpt``): a
fresh model has few subnormals, so the ratio then says little.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best_step_seconds(module, video, steps: int) -> float:
    best = float("inf")
    for _ in range(steps):
        start = time.perf_counter()
        loss = module.compute_loss(video)[0]
        loss.backward()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ckpt", nargs="?", help="training checkpoint (default: a fresh model)")
    parser.add_argument("--recipe", default="physics2d_cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from jepa_world.training import JEPA
    from jepa_world.training.checkpoints import module_from_checkpoint
    from jepa_world.video import to_float_video
    from jepa_world.worlds import create_world

    torch.set_num_threads(args.threads)
    recipe = Path(__file__).resolve().parents[1] / "jepa_world" / "recipes" / f"{args.recipe}.yaml"
    config = yaml.safe_load(recipe.read_text())
    data = config["data"]["init_args"]
    params = data["world_params"]
    if args.ckpt:
        module = module_from_checkpoint(args.ckpt).train()
    else:
        torch.manual_seed(0)
        module = JEPA(**config["model"]["init_args"], frames=params["frames"]).train()
    world = create_world(data["world"], **params)
    video = to_float_video(world.generate(np.arange(data["batch_size"]))["video"])
    seconds = {}
    for flush in (False, True):
        torch.set_flush_denormal(flush)
        seconds[flush] = best_step_seconds(module, video, args.steps)
    torch.set_flush_denormal(False)
    result = {
        "benchmark": "subnormal floats",
        "model": args.ckpt or f"fresh {args.recipe}",
        "threads": args.threads,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "ieee_step_s": round(seconds[False], 3),
        "flushed_step_s": round(seconds[True], 3),
        "ieee_over_flushed": round(seconds[False] / seconds[True], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

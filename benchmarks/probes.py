"""Time the physics probe suite on a model (or a fresh quickstart-sized random model).

Usage: ``python benchmarks/probes.py [MODEL] [--suite probes/physics.yaml] [--threads 2]``
(MODEL: an export folder or any model string, e.g. ``timm:resnet18``; without it: a random-init
model with the quickstart recipe's architecture).
Prints the time of each stage (data, model, pixel and random-init baselines) and, as the last
line, one JSON dict, with the process's CPU time beside the wall time (on a machine shared with
other work the CPU time is the measure). The budgets: the physics suite on the quickstart model
in <= 5 min on 2 CPU cores, baselines included; on ``timm:resnet18`` (random weights) in <= 10
min. The process is set up as the ``jepa-world`` command sets it
(subnormal floats flushed, large allocations kept on glibc's heap; ``JEPA_WORLD_KEEP_DENORMALS=1``
and ``JEPA_WORLD_SYSTEM_MALLOC=1`` opt out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recipe_model import random_recipe_model  # noqa: E402


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="model folder or string (default: random)")
    parser.add_argument("--suite", default="probes/physics.yaml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="report folder (default: a temp folder)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from jepa_world.evaluation import run_suite
    from jepa_world.training.runtime import (
        flush_denormal_floats,
        keep_large_allocations_on_the_heap,
    )

    flushed = flush_denormal_floats()
    heap = keep_large_allocations_on_the_heap()

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(random_recipe_model("quickstart", Path(tmp) / "random"))
        out = args.out or str(Path(tmp) / "report")
        start = time.perf_counter()
        report = run_suite(model, args.suite, out=out, log=lambda line: print(line, flush=True))
        total = time.perf_counter() - start
    timing = report["timing"]
    for key, seconds in timing.items():
        print(f"{key:<28} {seconds:8.1f} s")
    random_s = sum(v for k, v in timing.items() if k.endswith("random_init_s"))
    model_s = sum(v for k, v in timing.items() if k.endswith("/model_s"))
    result = {
        "benchmark": "probes",
        "suite": report["suite"],
        "model": args.model or "random-init, recipes/quickstart.yaml's architecture",
        "threads": args.threads,
        "denormals_flushed": flushed,
        "allocations_on_heap": heap,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.processor() or ''}",
        "total_s": round(total, 1),
        "cpu_s": round(_cpu_seconds(), 1),
        "model_s": round(model_s, 1),
        "random_init_s": round(random_s, 1),
        "random_init_over_model": round(random_s / model_s, 2) if model_s else None,
        "within_5_min": total <= 300.0,
        "timing": {k: round(v, 2) for k, v in timing.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Generation speed of the procedural worlds on one core.

Prints one line per world, then (last line) one JSON dict:
{"physics2d_fps": .., "two_rooms_fps": .., "push_fps": .., "intuitive_quads_per_s": ..}.
Run: OMP_NUM_THREADS=1 python benchmarks/worlds.py (``--help`` for a smaller run)
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from jepa_world.worlds import create_world  # noqa: E402
from jepa_world.worlds.intuitive import PROPERTIES  # noqa: E402

CPU_RATES: dict[str, float] = {}


def best_rate(fn, units: int, repeats: int = 5, name: str = "") -> float:
    """Units per wall-clock second of ``fn`` (best of ``repeats``: the machine is noisy, the code
    is not). The same in CPU seconds of this process goes to ``CPU_RATES[name]``: on a shared
    machine it says what one core does when it is not waiting for others."""
    fn(0)  # warm-up: first-call allocations and imports
    best, best_cpu = float("inf"), float("inf")
    for r in range(1, repeats + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(r)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    CPU_RATES[name] = units / best_cpu
    return units / best


def main(batch: int = 64, quads: int = 16, repeats: int = 5) -> dict[str, float]:
    physics = create_world("physics2d", size=64, frames=16, num_balls=(3, 3))
    physics_fps = best_rate(
        lambda r: physics.generate(np.arange(batch) + r * batch),
        batch * physics.frames,
        repeats=repeats,
        name="physics2d",
    )
    print(f"physics2d (3 balls, 64x64, {physics.frames} frames): {physics_fps:,.0f} frames/s")

    rooms = create_world("two_rooms")
    rooms_fps = best_rate(
        lambda r: rooms.generate(np.arange(batch) + r * batch),
        batch * rooms.frames,
        repeats=repeats,
        name="two_rooms",
    )
    print(f"two_rooms (65x65, {rooms.frames}-frame windows): {rooms_fps:,.0f} frames/s")

    push = create_world("push")
    push_fps = best_rate(
        lambda r: push.generate(np.arange(batch) + r * batch),
        batch * push.frames,
        repeats=repeats,
        name="push",
    )
    print(f"push (1-3 balls, 64x64, {push.frames}-frame random walks): {push_fps:,.0f} frames/s")

    intuitive = create_world("intuitive")

    def all_props(r: int) -> None:
        for p in PROPERTIES:
            intuitive.quadruplets(p, np.arange(quads) + r * quads)

    quad_rate = best_rate(
        all_props, quads * len(PROPERTIES), repeats=min(3, repeats), name="intuitive"
    )
    print(f"intuitive ({intuitive.frames}-frame quadruplets): {quad_rate:,.1f} quads/s")
    result = {
        "physics2d_fps": round(physics_fps, 1),
        "two_rooms_fps": round(rooms_fps, 1),
        "push_fps": round(push_fps, 1),
        "intuitive_quads_per_s": round(quad_rate, 2),
        "physics2d_fps_cpu_time": round(CPU_RATES["physics2d"], 1),
        "two_rooms_fps_cpu_time": round(CPU_RATES["two_rooms"], 1),
        "push_fps_cpu_time": round(CPU_RATES["push"], 1),
        "intuitive_quads_per_cpu_s": round(CPU_RATES["intuitive"], 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64, help="clips per physics2d/two_rooms/push call")
    parser.add_argument("--quads", type=int, default=16, help="quadruplets per property and call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per world (best kept)")
    args = parser.parse_args()
    main(args.batch, args.quads, args.repeats)

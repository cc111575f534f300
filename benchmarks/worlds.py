"""Generation speed of the procedural worlds on one core.

Prints one line per world, then (last line) one JSON dict:
{"physics2d_fps": .., "two_rooms_fps": .., "push_fps": .., "intuitive_quads_per_s": ..}.
Run: OMP_NUM_THREADS=1 python benchmarks/worlds.py (``--help`` for a smaller run)

``--push-training N`` also times N training steps of ``recipes/push.yaml`` (CPU seconds of the
steps alone, one thread, data made outside them) and prints how many times faster the push world
generates frames than that training consumes them, both per CPU second.
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


def push_training_cpu_fps(steps: int, warmup: int = 2) -> float:
    """Frames per CPU second that training ``recipes/push.yaml`` consumes (steps after a
    warm-up, measured from batch start to batch end: data generation is not counted)."""
    import tempfile
    from pathlib import Path

    import torch
    from lightning.pytorch.callbacks import Callback

    from jepa_world.cli import build_cli

    torch.set_num_threads(1)

    class CpuTimer(Callback):
        def __init__(self) -> None:
            self.cpu, self.steps, self.tick = 0.0, 0, 0.0

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.tick = time.process_time()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx >= warmup:
                self.cpu += time.process_time() - self.tick
                self.steps += 1

    recipe = Path(__file__).resolve().parent.parent / "recipes" / "push.yaml"
    timer = CpuTimer()
    with tempfile.TemporaryDirectory() as root:
        cli = build_cli(
            [
                f"--config={recipe}",
                f"--trainer.default_root_dir={root}",
                f"--trainer.max_steps={steps + warmup}",
                "--trainer.limit_val_batches=0",
                "--trainer.enable_progress_bar=false",
                "--trainer.logger=false",
                "--trainer.callbacks=[]",
                "--trainer.enable_checkpointing=false",
                "--data.init_args.num_workers=0",
            ],
            run=False,
        )
        cli.trainer.callbacks.append(timer)
        cli.trainer.fit(cli.model, cli.datamodule)
        data = cli.datamodule
        clip_frames = data.world.frames
        return data.batch_size * clip_frames * timer.steps / timer.cpu


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
    parser.add_argument(
        "--batch", type=int, default=64, help="clips per physics2d/two_rooms/push call"
    )
    parser.add_argument("--quads", type=int, default=16, help="quadruplets per property and call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per world (best kept)")
    parser.add_argument(
        "--push-training", type=int, default=0, help="also time this many push training steps"
    )
    args = parser.parse_args()
    result = main(args.batch, args.quads, args.repeats)
    if args.push_training:
        train_fps = push_training_cpu_fps(args.push_training)
        ratio = result["push_fps_cpu_time"] / train_fps
        print(
            f"push training consumes {train_fps:,.0f} frames per CPU second; the world "
            f"generates {ratio:.1f}x that"
        )
        print(
            json.dumps(
                {
                    "push_training_fps_cpu_time": round(train_fps, 1),
                    "push_generator_over_training": round(ratio, 1),
                }
            )
        )

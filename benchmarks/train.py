"""Training throughput: `jepa-world fit` against a bare PyTorch loop of the same model, one run.

Both paths train the quickstart recipe's model on the same batch size with the same data module;
the bare loop does exactly the model's work (forward, loss, backward, AdamW, EMA, collapse
statistics) with no Lightning. Also reports how much faster the world generates frames than training
consumes them. Both paths run in a process set up as the ``jepa-world`` command sets it (subnormals
flushed, large allocations on the heap). The last line is one JSON dict:
{"lightning_clips_per_s", "bare_clips_per_s", "lightning_overhead_ratio", "generator_fps",
 "training_fps", "generator_over_training"}.

Run: python benchmarks/train.py [--steps 30] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("WANDB_MODE", "offline")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch.callbacks import Callback  # noqa: E402

from jepa_world.cli import build_cli  # noqa: E402
from jepa_world.training.runtime import tune_process  # noqa: E402
from jepa_world.video import to_float_video  # noqa: E402

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "quickstart.yaml"


class StepTimer(Callback):
    """Wall time of training steps after a warm-up, measured inside the real fit loop."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.end: float | None = None
        self.steps = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx >= self.warmup:
            self.steps += 1
            self.end = time.perf_counter()


def lightning_rate(steps: int, warmup: int, root: str) -> tuple[float, int, object]:
    """Clips/s through the real `fit` (recipe callbacks and offline wandb logger included)."""
    timer = StepTimer(warmup)
    cli = build_cli(
        [
            f"--config={RECIPE}",
            f"--trainer.default_root_dir={root}",
            f"--trainer.max_steps={steps + warmup}",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_progress_bar=false",
        ],
        run=False,
    )
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, cli.datamodule)
    batch_size = cli.datamodule.hparams.get("batch_size", None) or cli.datamodule.batch_size
    return batch_size * timer.steps / (timer.end - timer.start), batch_size, cli


def bare_rate(cli, steps: int, warmup: int) -> float:
    """Clips/s of a hand-written loop over the same model class, data and optimiser."""
    hparams = {k: v for k, v in cli.model.hparams.items() if not k.startswith("_")}
    model = type(cli.model)(**hparams).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=model.hparams.lr)
    data = cli.datamodule
    loader = iter(data.train_dataloader())
    start = None
    for step in range(steps + warmup):
        if step == warmup:
            start = time.perf_counter()
        batch = next(loader)
        video = to_float_video(batch["video"])
        loss, _, _, target = model.compute_loss(video)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.update_target(0.99)
        model.step_statistics(target)
        float(loss.detach())  # the same host sync the Lightning loop does when it logs the loss
    return data.batch_size * steps / (time.perf_counter() - start)


def generator_fps(cli, clips: int = 128) -> float:
    """Frames/s of the data module's world generating on this process (best of 3)."""
    world = cli.datamodule.world
    world.generate(np.arange(clips))
    best = float("inf")
    for r in range(1, 4):
        start = time.perf_counter()
        world.generate(np.arange(clips) + r * clips)
        best = min(best, time.perf_counter() - start)
    return clips * world.frames / best


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    tune_process()
    with tempfile.TemporaryDirectory() as root:
        light, batch_size, cli = lightning_rate(args.steps, args.warmup, root)
        bare = bare_rate(cli, args.steps, args.warmup)
        gen = generator_fps(cli)
    frames = cli.datamodule.frames
    result = {
        "lightning_clips_per_s": round(light, 3),
        "bare_clips_per_s": round(bare, 3),
        "lightning_overhead_ratio": round(bare / light, 3),
        "generator_fps": round(gen, 1),
        "training_fps": round(light * frames, 1),
        "generator_over_training": round(gen / (light * frames), 1),
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
    }
    print(f"fit: {light:.2f} clips/s, bare loop: {bare:.2f} clips/s (batch {batch_size})")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

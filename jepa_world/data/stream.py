"""Stream clips from a procedural world: an infinite train stream, fixed val / test sets.

Seeds come from the disjoint ranges of :mod:`jepa_world.data.seeds`. Every batch is generated
vectorised with one ``world.generate(seeds)`` call and yielded whole
(``DataLoader(batch_size=None)``).

Train seed scheme. Each rank reads its own sequence of batches ``n = 0, 1, 2, ...``; batch ``n`` of
rank ``r`` out of ``R`` ranks uses the seeds

    train_start + seed_offset + (n * R + r) * batch_size + arange(batch_size)

so ranks never share a seed. Dataloader worker ``w`` of ``W`` produces the rank's batches
``n = first + w, first + w + W, ...``, which the DataLoader hands out round-robin, i.e. in the
order ``n = first, first + 1, ...``. The clips a rank sees therefore depend on the rank and the
world size but not on ``num_workers``. ``first`` is the number of batches the trainer has already
consumed, so a resumed run, or a new epoch when ``limit_train_batches`` cuts the infinite stream
into epochs, continues the stream instead of replaying it. Val and test are the first
``val_clips`` / ``test_clips`` seeds of their ranges, in order, so they are the same for every run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import count
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from jepa_world.checks import check_int
from jepa_world.data.batch import to_tensors
from jepa_world.data.partition import (
    PositionedLoader,
    check_part,
    distributed_context,
    worker_context,
)
from jepa_world.data.seeds import SEED_RANGES, seed_range
from jepa_world.worlds import create_world
from jepa_world.worlds.base import World


def stream_seeds(
    step: int, rank: int, world_size: int, batch_size: int, seed_offset: int = 0
) -> np.ndarray:
    """Seeds of batch ``step`` of ``rank``'s train stream (scheme in the module docstring)."""
    check_part("rank", rank, world_size)
    if step < 0:
        raise ValueError(f"step={step} must be >= 0")
    start, stop = SEED_RANGES["train"]
    first = start + seed_offset + (step * world_size + rank) * batch_size
    if first + batch_size > stop:
        raise RuntimeError(
            f"train seed range [{start}, {stop}) exhausted at step {step}: "
            "lower seed_offset or batch_size"
        )
    return first + np.arange(batch_size, dtype=np.int64)


def worker_steps(first_step: int, worker_id: int, num_workers: int) -> Iterator[int]:
    """Steps a dataloader worker generates: ``first_step + worker_id + i * num_workers``."""
    check_part("worker", worker_id, num_workers)
    return count(first_step + worker_id, num_workers)


def split_seeds(split: str, clips: int) -> np.ndarray:
    """The fixed seeds of a finite split: the first ``clips`` seeds of its range."""
    start, stop = seed_range(split)
    if not 0 <= clips <= stop - start:
        raise ValueError(f"{split}_clips={clips} is out of range: allowed [0, {stop - start}]")
    return start + np.arange(clips, dtype=np.int64)


def generate_batch(world: World, seeds: np.ndarray) -> dict[str, Any]:
    """One vectorised ``world.generate`` call turned into a torch batch with a ``seed`` entry."""
    batch = to_tensors(world.generate(seeds))
    batch["seed"] = torch.from_numpy(np.array(seeds, dtype=np.int64))
    return batch


class WorldStream(IterableDataset):
    """Infinite train stream of whole batches for one rank (see the module docstring)."""

    def __init__(
        self,
        world: World,
        batch_size: int,
        seed_offset: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__()
        check_part("rank", rank, world_size)
        self.world, self.batch_size, self.seed_offset = world, batch_size, seed_offset
        self.rank, self.world_size = rank, world_size
        self.first_step = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        worker_id, num_workers = worker_context()
        for step in worker_steps(self.first_step, worker_id, num_workers):
            seeds = stream_seeds(
                step, self.rank, self.world_size, self.batch_size, self.seed_offset
            )
            yield generate_batch(self.world, seeds)


class WorldClips(Dataset):
    """A fixed, finite set of clips; item ``i`` is the whole batch ``i`` (in seed order)."""

    def __init__(self, world: World, seeds: Sequence[int], batch_size: int) -> None:
        self.world, self.batch_size = world, batch_size
        self.seeds = np.asarray(seeds, dtype=np.int64)

    def __len__(self) -> int:
        return -(-len(self.seeds) // self.batch_size)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)})")
        chunk = self.seeds[index * self.batch_size : (index + 1) * self.batch_size]
        return generate_batch(self.world, chunk)


def consumed_batches(trainer: Any) -> int:
    """Train batches this rank has already consumed (restored from checkpoints by Lightning)."""
    if trainer is None:
        return 0
    return int(trainer.fit_loop.epoch_loop.batch_progress.total.ready)


class WorldDataModule(pl.LightningDataModule):
    """Clips from any registered world: infinite train stream, fixed val and test sets.

    Batches are dicts of tensors: ``video`` uint8 (B, T, C, H, W), ``actions`` float32 (B, T, A)
    when the world has actions, ``state`` {name: float32 (B, T, ...)}, ``seed`` int64 (B,).
    """

    def __init__(
        self,
        world: str = "physics2d",
        world_params: dict[str, Any] | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        val_clips: int = 256,
        test_clips: int = 256,
        seed_offset: int = 0,
    ) -> None:
        super().__init__()
        check_int("batch_size", batch_size, 1)
        check_int("num_workers", num_workers, 0)
        train_size = SEED_RANGES["train"][1] - SEED_RANGES["train"][0]
        check_int("seed_offset", seed_offset, 0, train_size - 1)
        self.val_seeds = split_seeds("val", val_clips)
        self.test_seeds = split_seeds("test", test_clips)
        self.save_hyperparameters()
        self.world_name, self.world_params = world, dict(world_params or {})
        self.world = create_world(world, **self.world_params)
        self.batch_size, self.num_workers, self.seed_offset = batch_size, num_workers, seed_offset

    @property
    def frames(self) -> int:
        return int(self.world.frames)

    @property
    def size(self) -> int:
        return int(self.world.size)

    @property
    def channels(self) -> int:
        return int(self.world.channels)

    def train_dataloader(self) -> DataLoader:
        trainer = getattr(self, "trainer", None)
        rank, world_size = distributed_context(trainer)
        stream = WorldStream(self.world, self.batch_size, self.seed_offset, rank, world_size)
        return PositionedLoader(
            stream,
            lambda _: consumed_batches(self.trainer),
            "first_step",
            batch_size=None,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._fixed_loader(self.val_seeds)

    def test_dataloader(self) -> DataLoader:
        return self._fixed_loader(self.test_seeds)

    def _fixed_loader(self, seeds: np.ndarray) -> DataLoader:
        clips = WorldClips(self.world, seeds, self.batch_size)
        return DataLoader(clips, batch_size=None, shuffle=False, num_workers=self.num_workers)

from __future__ import annotations

import itertools
from types import SimpleNamespace

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from jepa_world.data.seeds import SEED_RANGES
from jepa_world.data.stream import (
    WorldDataModule,
    split_seeds,
    stream_seeds,
    worker_steps,
)


def _seeds_of(rank: int, world_size: int, worker: int, workers: int, steps: int) -> list[int]:
    chosen = itertools.islice(worker_steps(0, worker, workers), steps)
    return [s for step in chosen for s in stream_seeds(step, rank, world_size, 4).tolist()]


@pytest.mark.parametrize("world_size,workers", [(1, 1), (2, 3), (3, 2)])
def test_rank_and_worker_streams_are_disjoint(world_size: int, workers: int) -> None:
    streams = [
        _seeds_of(r, world_size, w, workers, steps=5)
        for r in range(world_size)
        for w in range(workers)
    ]
    everything = [s for seeds in streams for s in seeds]
    assert len(everything) == len(set(everything)) == world_size * workers * 5 * 4
    low, high = SEED_RANGES["train"]
    assert low <= min(everything) and max(everything) < high


def test_rank_stream_does_not_depend_on_num_workers() -> None:
    alone = set(_seeds_of(1, 2, 0, 1, steps=6))
    shared = set(_seeds_of(1, 2, 0, 3, steps=2)) | set(_seeds_of(1, 2, 1, 3, steps=2))
    shared |= set(_seeds_of(1, 2, 2, 3, steps=2))
    assert alone == shared


def test_stream_seed_errors() -> None:
    with pytest.raises(ValueError, match="rank=2"):
        stream_seeds(0, 2, 2, 4)
    with pytest.raises(ValueError, match="worker=3"):
        worker_steps(0, 3, 3)
    with pytest.raises(RuntimeError, match="exhausted"):
        stream_seeds(10**9, 0, 1, 4)


def test_train_val_test_seeds_disjoint() -> None:
    train = set(_seeds_of(0, 1, 0, 1, steps=8))
    val, test = set(split_seeds("val", 64).tolist()), set(split_seeds("test", 64).tolist())
    assert not (train & val) and not (train & test) and not (val & test)
    assert min(val) == SEED_RANGES["val"][0] and min(test) == SEED_RANGES["test"][0]


def test_train_batch_shapes_dtypes_and_seeds(fake_world) -> None:
    dm = WorldDataModule("fake", {"frames": 5, "size": 8}, batch_size=3, val_clips=4)
    assert (dm.frames, dm.size, dm.channels) == (5, 8, 3)
    batches = list(itertools.islice(iter(dm.train_dataloader()), 2))
    b = batches[0]
    assert b["video"].dtype == torch.uint8 and b["video"].shape == (3, 5, 3, 8, 8)
    assert b["actions"].dtype == torch.float32 and b["actions"].shape == (3, 5, 2)
    assert b["state"]["position"].dtype == torch.float32
    assert b["state"]["position"].shape == (3, 5, 2)
    assert b["seed"].dtype == torch.int64
    assert b["seed"].tolist() == stream_seeds(0, 0, 1, 3).tolist()
    assert batches[1]["seed"].tolist() == stream_seeds(1, 0, 1, 3).tolist()


def test_same_seed_same_bytes_in_any_batch(fake_world) -> None:
    first = next(iter(WorldDataModule("fake", batch_size=4).train_dataloader()))
    again = next(iter(WorldDataModule("fake", batch_size=4).train_dataloader()))
    assert torch.equal(first["video"], again["video"])
    alone = fake_world().generate(first["seed"][2:3].numpy())
    assert np.array_equal(first["video"][2:3].numpy(), alone["video"])
    assert np.array_equal(first["actions"][2:3].numpy(), alone["actions"])


def test_val_and_test_are_fixed_and_batched(fake_world) -> None:
    dm = WorldDataModule("fake", batch_size=4, val_clips=10, test_clips=3)
    val = list(dm.val_dataloader())
    assert [len(b["seed"]) for b in val] == [4, 4, 2]
    seeds = torch.cat([b["seed"] for b in val]).tolist()
    assert seeds == list(range(SEED_RANGES["val"][0], SEED_RANGES["val"][0] + 10))
    again = list(dm.val_dataloader())
    assert all(torch.equal(a["video"], b["video"]) for a, b in zip(val, again, strict=True))
    test = list(dm.test_dataloader())
    assert test[0]["seed"].tolist() == list(
        range(SEED_RANGES["test"][0], SEED_RANGES["test"][0] + 3)
    )


def test_rank_from_trainer_and_resume_position(fake_world) -> None:
    dm = WorldDataModule("fake", batch_size=2)
    progress = SimpleNamespace(total=SimpleNamespace(ready=3))
    dm.trainer = SimpleNamespace(
        global_rank=1,
        world_size=2,
        fit_loop=SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=progress)),
    )
    batch = next(iter(dm.train_dataloader()))
    assert batch["seed"].tolist() == stream_seeds(3, 1, 2, 2).tolist()


def test_workers_give_the_same_stream(fake_world) -> None:
    one = itertools.islice(iter(WorldDataModule("fake", batch_size=2).train_dataloader()), 4)
    two = WorldDataModule("fake", batch_size=2, num_workers=2).train_dataloader()
    many = itertools.islice(iter(two), 4)
    assert [b["seed"].tolist() for b in one] == [b["seed"].tolist() for b in many]


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"num_workers": -1}, "num_workers"),
        ({"seed_offset": -1}, "seed_offset"),
        ({"val_clips": 10**9 + 1}, "val_clips"),
        ({"test_clips": -1}, "test_clips"),
    ],
)
def test_invalid_parameters_name_themselves(fake_world, kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        WorldDataModule("fake", **kwargs)


def test_unknown_world() -> None:
    with pytest.raises(ValueError, match="unknown world"):
        WorldDataModule("no-such-world")


def test_real_physics2d_world() -> None:
    dm = WorldDataModule("physics2d", {"frames": 3, "size": 32}, batch_size=2)
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (2, 3, 3, 32, 32) and batch["video"].dtype == torch.uint8
    assert batch["state"]["position"].shape[:2] == (2, 3)
    assert all(v.dtype == torch.float32 for v in batch["state"].values())
    val = next(iter(dm.val_dataloader()))
    assert val["seed"][0] == SEED_RANGES["val"][0]


class _SeedRecorder(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen: list[list[int]] = []

    def training_step(self, batch, batch_idx):
        self.seen.append(batch["seed"].tolist())
        return (self.weight * batch["video"].float().mean()).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def test_trainer_epochs_continue_the_stream(fake_world) -> None:
    model = _SeedRecorder()
    trainer = pl.Trainer(
        max_epochs=2,
        limit_train_batches=2,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    )
    trainer.fit(model, datamodule=WorldDataModule("fake", batch_size=2))
    assert model.seen == [stream_seeds(step, 0, 1, 2).tolist() for step in range(4)]

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from jepa_world.data import shards
from jepa_world.data.shards import (
    ShardDataModule,
    ShardReader,
    read_index,
    shard_epoch_plan,
    val_split,
    write_shards,
)


@pytest.fixture
def written(fake_world, tmp_path: Path) -> Path:
    out = tmp_path / "ds"
    paths = write_shards("fake", out, clips=10, world_params={"frames": 3}, shard_size=4)
    assert [p.name for p in paths] == ["shard-000000", "shard-000001", "shard-000002"]
    return out


def test_round_trip_identical_arrays(written: Path, fake_world) -> None:
    index = read_index(written)
    assert index["world"] == "fake" and index["clips"] == 10
    assert [s["clips"] for s in index["shards"]] == [4, 4, 2]
    assert (index["frames"], index["channels"], index["size"]) == (3, 3, 8)
    shard = np.load(written / "shard-000001" / "video.npy", mmap_mode="r")
    assert isinstance(shard, np.memmap)
    batch = ShardReader(written, index).read(np.arange(10))
    expected = fake_world(frames=3).generate(np.arange(10))
    assert batch["seed"].tolist() == list(range(10))
    assert np.array_equal(batch["video"].numpy(), expected["video"])
    assert np.array_equal(batch["actions"].numpy(), expected["actions"])
    assert np.array_equal(batch["state"]["position"].numpy(), expected["state"]["position"])


def test_data_module_batches(written: Path) -> None:
    dm = ShardDataModule(str(written), batch_size=3, val_fraction=0.2)
    assert (dm.frames, dm.size, dm.channels) == (3, 8, 3)
    dm.setup("fit")
    train = list(dm.train_dataloader())
    assert len(train) == len(dm.train_dataloader()) == 2  # 8 train clips -> 2 full batches
    b = train[0]
    assert b["video"].dtype == torch.uint8 and b["video"].shape == (3, 3, 3, 8, 8)
    assert b["actions"].dtype == torch.float32 and b["actions"].shape == (3, 3, 2)
    assert b["state"]["position"].dtype == torch.float32 and b["seed"].dtype == torch.int64
    val = list(dm.val_dataloader())
    assert torch.cat([v["seed"] for v in val]).tolist() == [8, 9]
    train_seeds = {s for b in train for s in b["seed"].tolist()}
    assert train_seeds <= set(range(8))


def test_epochs_reshuffle_and_seed_is_reproducible(written: Path) -> None:
    loader = ShardDataModule(str(written), batch_size=2, val_fraction=0.0).train_dataloader()
    first = [b["seed"].tolist() for b in loader]
    second = [b["seed"].tolist() for b in loader]
    assert first != second
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10))
    again = ShardDataModule(str(written), batch_size=2, val_fraction=0.0).train_dataloader()
    assert [b["seed"].tolist() for b in again] == first


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_plan_splits_ranks_disjoint_and_even(world_size: int) -> None:
    sizes, train = [4, 4, 4, 3], 13
    plans = [shard_epoch_plan(sizes, train, 2, 5, r, world_size) for r in range(world_size)]
    assert len({len(p) for p in plans}) == 1  # same number of steps on every rank
    ids = [int(i) for p in plans for batch in p for i in batch]
    assert len(ids) == len(set(ids)) and max(ids) < train
    assert all(len(batch) == 2 for p in plans for batch in p)


def test_plan_keeps_ranks_on_few_shards_and_no_shuffle_is_ordered() -> None:
    plan = shard_epoch_plan([4] * 8, 32, 4, 0, rank=1, world_size=4)
    assert len({int(i) // 4 for batch in plan for i in batch}) <= 3
    ordered = shard_epoch_plan([4, 4], 8, 3, 0, 0, 1, shuffle=False)
    assert [b.tolist() for b in ordered] == [[0, 1, 2], [3, 4, 5]]


def test_val_split_bounds() -> None:
    assert val_split(10, 0.0) == 0 and val_split(10, 0.01) == 1 and val_split(10, 0.99) == 9
    with pytest.raises(ValueError, match="val_fraction"):
        val_split(10, 1.0)
    with pytest.raises(ValueError, match="val_fraction"):
        val_split(1, 0.5)


def test_truncated_shard_names_the_file(written: Path) -> None:
    file = written / "shard-000001" / "video.npy"
    file.write_bytes(file.read_bytes()[:-10])
    with pytest.raises(ValueError, match="shard-000001/video.npy.*truncated"):
        ShardDataModule(str(written)).setup("fit")


def test_bad_header_names_the_file(written: Path) -> None:
    file = written / "shard-000002" / "actions.npy"
    data = bytearray(file.read_bytes())
    data[:6] = b"garbag"
    file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shard-000002/actions.npy.*header"):
        ShardDataModule(str(written)).setup("fit")


def test_flipped_byte_caught_by_hash_check(written: Path) -> None:
    file = written / "shard-000000" / "video.npy"
    data = bytearray(file.read_bytes())
    data[-1] ^= 0xFF
    file.write_bytes(bytes(data))
    ShardDataModule(str(written)).setup("fit")  # size and header are still right
    with pytest.raises(ValueError, match="shard-000000/video.npy.*sha256"):
        ShardDataModule(str(written), verify_hashes=True).setup("fit")


def test_missing_file_index_and_directory(written: Path, tmp_path: Path) -> None:
    (written / "shard-000000" / "state.position.npy").unlink()
    with pytest.raises(FileNotFoundError, match="state.position.npy"):
        ShardDataModule(str(written)).setup("fit")
    (written / "index.json").unlink()
    with pytest.raises(FileNotFoundError, match="index.json"):
        ShardDataModule(str(written)).setup("fit")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_index(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text[: len(text) // 2],
        lambda text: json.dumps({**json.loads(text), "shards": []}),
        lambda text: json.dumps({**json.loads(text), "clips": 11}),
        lambda text: text.replace('"video.npy"', '"../video.npy"'),
    ],
)
def test_corrupt_index_names_the_file(written: Path, edit) -> None:
    index = written / "index.json"
    index.write_text(edit(index.read_text()))
    with pytest.raises(ValueError, match="index.json is corrupt"):
        ShardDataModule(str(written)).setup("fit")


def test_write_is_atomic_on_failure(fake_world, tmp_path: Path, monkeypatch) -> None:
    class Failing(fake_world):
        def generate(self, seeds):
            if self.calls == 2:
                raise RuntimeError("simulated crash")
            return super().generate(seeds)

    monkeypatch.setattr(shards, "create_world", lambda name, **params: Failing(**params))
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_shards("fake", tmp_path / "ds", clips=10, shard_size=4, chunk_size=2)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(written: Path) -> None:
    with pytest.raises(FileExistsError, match="overwrite"):
        write_shards("fake", written, clips=2)
    write_shards("fake", written, clips=2, overwrite=True)
    assert read_index(written)["clips"] == 2
    assert sorted(p.name for p in written.parent.iterdir()) == ["ds"]


def test_write_parameter_errors(fake_world, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="clips"):
        write_shards("fake", tmp_path / "a", clips=0)
    with pytest.raises(ValueError, match="shard_size"):
        write_shards("fake", tmp_path / "a", clips=1, shard_size=0)
    with pytest.raises(ValueError, match="unknown world"):
        write_shards("no-such-world", tmp_path / "a", clips=1)
    assert not (tmp_path / "a").exists()


def test_real_physics2d_shards(tmp_path: Path) -> None:
    write_shards("physics2d", tmp_path / "p", clips=3, world_params={"frames": 2, "size": 32})
    dm = ShardDataModule(str(tmp_path / "p"), batch_size=2, val_fraction=0.0)
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (2, 2, 3, 32, 32)
    assert batch["state"]["position"].dtype == torch.float32


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_shards_get_the_umask_modes(fake_world, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "ds"
        write_shards("fake", out, clips=5, world_params={"frames": 3}, shard_size=4)
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    assert modes[Path("ds")] == 0o755 and modes[Path("ds/shard-000000")] == 0o755
    assert modes[Path("ds/index.json")] == modes[Path("ds/shard-000001/video.npy")] == 0o644
    assert set(modes.values()) == {0o755, 0o644}

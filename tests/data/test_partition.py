from __future__ import annotations

import pytest

from jepa_world.data.partition import (
    EpochBatches,
    PositionedLoader,
    distributed_context,
    rank_slice,
    worker_share,
)


def test_rank_slices_are_equal_disjoint_and_drop_the_tail() -> None:
    parts = [rank_slice(10, r, 3) for r in range(3)]
    assert parts == [(0, 3), (3, 6), (6, 9)]
    with pytest.raises(ValueError, match="rank=3"):
        rank_slice(10, 3, 3)


def test_worker_share_round_robin() -> None:
    assert [worker_share(range(7), w, 3) for w in range(3)] == [[0, 3, 6], [1, 4], [2, 5]]
    with pytest.raises(ValueError, match="worker=-1"):
        worker_share(range(7), -1, 3)


class _Numbers(EpochBatches):
    def plan(self, epoch, rank, world_size):
        return [(epoch, rank, i) for i in range(3)]

    def load(self, spec):
        return {"spec": spec}


def test_loader_sets_epoch_before_each_iteration() -> None:
    data = _Numbers()
    data.set_distributed(1, 2)
    loader = PositionedLoader(data, lambda done: 10 + done, batch_size=None)
    assert [list(b["spec"]) for b in loader] == [[10, 1, 0], [10, 1, 1], [10, 1, 2]]
    assert [b["spec"][0] for b in loader] == [11, 11, 11]
    assert len(loader) == 3


def test_persistent_workers_are_refused_and_no_trainer_means_one_rank() -> None:
    with pytest.raises(ValueError, match="persistent_workers"):
        PositionedLoader(_Numbers(), None, batch_size=None, num_workers=1, persistent_workers=True)
    assert distributed_context(None) == (0, 1)

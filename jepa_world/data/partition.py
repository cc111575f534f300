"""Who reads what: rank / dataloader-worker discovery and finite per-epoch batch plans.

Data modules here split their data themselves instead of relying on a sampler, so that each
split is a pure function of ``(epoch, rank, world_size, worker_id, num_workers)`` that tests can
call with explicit values. The rule for finite datasets (shards, video folders):

1. ``plan(epoch, rank, world_size)`` lists the batches of one rank for one epoch. Every rank
   computes it from the same seed, takes its own contiguous equal part of the epoch's clip order
   (the remainder is dropped so that all ranks run the same number of steps: DDP would hang
   otherwise), and cuts it into full batches.
2. Dataloader worker ``w`` of ``W`` yields batches ``w, w + W, w + 2W, ...`` of that plan.

The epoch is set on the dataset by :class:`PositionedLoader` in the main process right before
each iteration starts (the trainer's ``current_epoch``, so a resumed run reshuffles where it left
off; without a trainer, the number of earlier iterations of the loader).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info


def distributed_context(trainer: Any = None) -> tuple[int, int]:
    """Return ``(rank, world_size)``: torch.distributed if initialised, else the trainer's."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    if trainer is not None:
        return int(trainer.global_rank), int(trainer.world_size)
    return 0, 1


def worker_context() -> tuple[int, int]:
    """Return ``(worker_id, num_workers)`` of the current dataloader worker (``(0, 1)`` if none)."""
    info = get_worker_info()
    return (0, 1) if info is None else (info.id, info.num_workers)


def check_part(name: str, index: int, count: int) -> None:
    """Check that ``0 <= index < count`` for a rank or worker id, naming the parameter."""
    if count < 1:
        raise ValueError(f"number of {name}s must be >= 1, got {count}")
    if not 0 <= index < count:
        raise ValueError(f"{name}={index} is out of range: allowed [0, {count - 1}]")


def rank_slice(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """Contiguous equal share ``[start, stop)`` of ``n`` items for ``rank``; the tail is dropped."""
    check_part("rank", rank, world_size)
    per_rank = n // world_size
    return rank * per_rank, (rank + 1) * per_rank


def worker_share(items: Sequence[Any], worker_id: int, num_workers: int) -> list[Any]:
    """Items ``worker_id, worker_id + num_workers, ...``: a worker's round-robin share."""
    check_part("worker", worker_id, num_workers)
    return list(items[worker_id::num_workers])


class PositionedLoader(DataLoader):
    """A DataLoader that tells its dataset where to start each time it is iterated.

    ``position(iterations)`` gets the number of earlier iterations of this loader and returns the
    value to store as ``dataset.<attribute>`` (an epoch or a stream step). It runs in the main
    process before the workers start, so workers must not be persistent: they would keep their
    old copy of the dataset.
    """

    def __init__(
        self,
        dataset: Any,
        position: Callable[[int], int] | None = None,
        attribute: str = "first_epoch",
        **kwargs: Any,
    ) -> None:
        if kwargs.get("persistent_workers"):
            raise ValueError("persistent_workers=True would keep stale dataset copies: use False")
        super().__init__(dataset, **kwargs)
        self.position, self.attribute = position, attribute
        self.iterations = 0

    def __iter__(self) -> Any:
        if self.position is not None:
            setattr(self.dataset, self.attribute, int(self.position(self.iterations)))
        self.iterations += 1
        return super().__iter__()


class EpochBatches(IterableDataset):
    """A finite dataset that yields whole batches, split by rank and worker (module docstring).

    Subclasses implement ``plan`` (a pure function listing one rank's batch specs for an epoch)
    and ``load`` (turn one spec into a batch dict). ``first_epoch`` is the epoch the next
    iteration plays; :class:`PositionedLoader` keeps it current.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rank, self.world_size, self.first_epoch = 0, 1, 0

    def set_distributed(self, rank: int, world_size: int) -> None:
        """Fix which rank this copy of the dataset serves."""
        check_part("rank", rank, world_size)
        self.rank, self.world_size = rank, world_size

    def plan(self, epoch: int, rank: int, world_size: int) -> list[Any]:
        raise NotImplementedError

    def load(self, spec: Any) -> dict[str, Any]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.plan(self.first_epoch, self.rank, self.world_size))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        worker_id, num_workers = worker_context()
        plan = self.plan(self.first_epoch, self.rank, self.world_size)
        return (self.load(spec) for spec in worker_share(plan, worker_id, num_workers))


def trainer_epoch(trainer: Any, iterations: int) -> int:
    """The epoch a finite train loader should play: the trainer's, else its iteration count."""
    return iterations if trainer is None else int(trainer.current_epoch)

"""What every procedural world shares: the batch contract and seed normalisation.

A world is any object with ``generate(seeds) -> batch``. Clip ``i`` of the batch is a pure
function of ``seeds[i]`` (never of the other seeds in the call), so the same seed gives the same
bytes whatever batch it is generated in, and data pipelines can split seed ranges freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

Batch = dict[str, Any]
"""``{"video": uint8 (B, T, C, H, W), "actions"?: float32 (B, T, A), "state": {name: float32}}``"""


@runtime_checkable
class World(Protocol):
    """A seeded source of clips; see the module docstring for the contract."""

    frames: int
    size: int
    channels: int

    def generate(self, seeds: Sequence[int]) -> Batch: ...


def as_seeds(seeds: Sequence[int] | np.ndarray | int) -> np.ndarray:
    """Normalise seeds to a 1-D int64 array and reject negatives."""
    arr = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    if arr.ndim != 1:
        raise ValueError(f"seeds must be a 1-D sequence of ints, got shape {arr.shape}")
    if (arr < 0).any():
        raise ValueError("seeds must be non-negative integers")
    return arr

"""A tiny deterministic world for data-module tests, registered under the name ``fake``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from jepa_world.data import shards, stream
from jepa_world.worlds import create_world
from jepa_world.worlds.base import Batch, as_seeds


class FakeWorld:
    """Clip i is random noise drawn from ``default_rng(seeds[i])``; ``calls`` counts generates."""

    def __init__(self, frames: int = 4, size: int = 8, channels: int = 3, actions: bool = True):
        self.frames, self.size, self.channels, self.actions = frames, size, channels, actions
        self.calls = 0

    def generate(self, seeds: Sequence[int]) -> Batch:
        self.calls += 1
        seeds = as_seeds(seeds)
        t, c, s = self.frames, self.channels, self.size
        rngs = [np.random.default_rng(int(seed)) for seed in seeds]
        video = np.stack([r.integers(0, 256, (t, c, s, s), dtype=np.uint8) for r in rngs])
        position = np.stack([r.uniform(0, s, (t, 2)) for r in rngs]).astype(np.float32)
        batch: Batch = {"video": video, "state": {"position": position}}
        if self.actions:
            actions = np.stack([r.uniform(-1, 1, (t, 2)) for r in rngs]).astype(np.float32)
            actions[:, -1] = 0.0
            batch["actions"] = actions
        return batch


def _create(name: str, **params) -> object:
    return FakeWorld(**params) if name == "fake" else create_world(name, **params)


@pytest.fixture
def fake_world(monkeypatch: pytest.MonkeyPatch) -> type[FakeWorld]:
    """Make ``create_world("fake", ...)`` build a :class:`FakeWorld` inside the data modules."""
    monkeypatch.setattr(stream, "create_world", _create)
    monkeypatch.setattr(shards, "create_world", _create)
    return FakeWorld

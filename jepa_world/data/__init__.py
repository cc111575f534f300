"""LightningDataModules: procedural world streams, cached shards on disk, folders of videos.

All three yield batches as dicts of tensors with ``video`` uint8 (B, T, C, H, W), the one data
contract every model and probe reads. Seed ranges for train / val / test / probes live in
:mod:`jepa_world.data.seeds`. PyAV is imported only when a video folder is read.
"""

from __future__ import annotations

import importlib
from typing import Any

from jepa_world.data.seeds import PROBE_SEED_START, SEED_RANGES

_LAZY = {  # Lightning-backed modules load on first use, so `jepa_world.data.seeds` stays cheap
    "ShardDataModule": "jepa_world.data.shards",
    "read_index": "jepa_world.data.shards",
    "write_shards": "jepa_world.data.shards",
    "WorldDataModule": "jepa_world.data.stream",
    "VideoFolderDataModule": "jepa_world.data.video_folder",
}

__all__ = [
    "PROBE_SEED_START",
    "SEED_RANGES",
    "ShardDataModule",
    "VideoFolderDataModule",
    "WorldDataModule",
    "read_index",
    "write_shards",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'jepa_world.data' has no attribute {name!r}")

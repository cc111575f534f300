"""LightningDataModules: procedural world streams, cached shards on disk, folders of videos.

All three yield batches as dicts of tensors with ``video`` uint8 (B, T, C, H, W) (see
DESIGN.md "Data contract"). Seed ranges for train / val / test / probes live in
:mod:`jepa_world.data.seeds`. PyAV is imported only when a video folder is read.
"""

from __future__ import annotations

from jepa_world.data.seeds import PROBE_SEED_START, SEED_RANGES
from jepa_world.data.shards import ShardDataModule, read_index, write_shards
from jepa_world.data.stream import WorldDataModule
from jepa_world.data.video_folder import VideoFolderDataModule

__all__ = [
    "PROBE_SEED_START",
    "SEED_RANGES",
    "ShardDataModule",
    "VideoFolderDataModule",
    "WorldDataModule",
    "read_index",
    "write_shards",
]

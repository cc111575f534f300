"""Clips from a folder of video files, decoded with PyAV (``pip install "jepa-world[video]"``).

- Files: every file under ``root`` (recursively) whose suffix, case-insensitive, is one of
  ``extensions``, in sorted path order.
- Index: at setup each file is demuxed once, without decoding, to list its frames' presentation
  timestamps; clips are then read by seeking to the nearest keyframe before the first frame. A file
  PyAV cannot open, or one without a video stream, is an error naming the file; a file shorter than
  one clip is skipped with a warning.
- A clip is ``frames`` frames taken ``frame_stride`` apart, so it spans
  ``(frames - 1) * frame_stride + 1`` source frames.
- Resize: the shorter side is scaled to ``size`` (area interpolation, aspect ratio kept), then the
  centre ``size`` x ``size`` square is cropped.
- Split by video: a seeded ``val_fraction`` of the files is validation, so clips of one video are
  never on both sides.
- Train: each epoch every train video gives ``max(1, n_frames // span)`` clips at uniformly random
  starts drawn from ``default_rng([seed, epoch])``, shuffled, shared out to ranks and workers as in
  :mod:`jepa_world.data.partition` (full batches). Val: non-overlapping clips at starts
  ``0, span, 2 * span, ...`` of every val video, in order: the same for every run.

Batches: ``video`` uint8 (B, frames, 3, size, size), ``video_id`` int64 (B,) (position in
``VideoFolderDataModule.videos``) and ``start`` int64 (B,) (source index of the first frame).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from jepa_world.checks import check_int
from jepa_world.data.partition import (
    EpochBatches,
    PositionedLoader,
    distributed_context,
    rank_slice,
    trainer_epoch,
)


def import_av() -> Any:
    """Import PyAV lazily: it is an optional dependency."""
    try:
        import av
    except ImportError as err:
        raise ImportError(
            'reading video files needs PyAV: pip install "jepa-world[video]"'
        ) from err
    return av


@dataclass(frozen=True)
class VideoInfo:
    """One indexed video: its path and the sorted presentation timestamps of its frames."""

    path: Path
    pts: np.ndarray  # (n_frames,) int64, in the stream's time base

    @property
    def num_frames(self) -> int:
        return len(self.pts)


def find_videos(root: str | Path, extensions: Sequence[str]) -> list[Path]:
    """Video files under ``root`` (recursive, sorted); errors name the empty or missing folder."""
    folder = Path(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"video folder {folder} does not exist")
    suffixes = {ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise FileNotFoundError(f"no video files with extensions {sorted(suffixes)} in {folder}")
    return files


def index_video(path: Path) -> VideoInfo:
    """Demux ``path`` once to list its frame timestamps (decoding only if packets lack them)."""
    av = import_av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"video file {path} has no video stream")
            stream = container.streams.video[0]
            pts = [packet.pts for packet in container.demux(stream) if packet.size > 0]
            if any(p is None for p in pts):
                container.seek(0)
                pts = [frame.pts for frame in container.decode(stream)]
    except (av.FFmpegError, OSError) as err:
        raise ValueError(f"cannot read video file {path}: {err}") from err
    if any(p is None for p in pts):
        raise ValueError(f"video file {path} has frames without timestamps: re-mux it")
    return VideoInfo(path, np.unique(np.asarray(pts, dtype=np.int64)))


def clip_span(frames: int, frame_stride: int) -> int:
    """Source frames one clip covers."""
    return (frames - 1) * frame_stride + 1


def decode_clip(
    video: VideoInfo, start: int, frames: int, frame_stride: int, size: int
) -> np.ndarray:
    """Decode frames ``start + k * frame_stride`` of ``video`` as uint8 (frames, 3, size, size)."""
    av = import_av()
    wanted = {int(video.pts[start + k * frame_stride]): k for k in range(frames)}
    out = np.empty((frames, 3, size, size), dtype=np.uint8)
    first, last = min(wanted), max(wanted)
    try:
        with av.open(str(video.path)) as container:
            stream = container.streams.video[0]
            container.seek(first, stream=stream, backward=True, any_frame=False)
            found = _collect(container.decode(stream), wanted, last, size, out)
            if found < frames:  # an imprecise seek index: decode from the start instead
                container.seek(int(video.pts[0]), stream=stream, backward=True, any_frame=False)
                found = _collect(container.decode(stream), wanted, last, size, out)
    except (av.FFmpegError, OSError) as err:
        raise ValueError(f"cannot decode video file {video.path}: {err}") from err
    if found < frames:
        raise ValueError(f"video file {video.path}: only {found} of the {frames} frames decoded")
    return out


def _collect(frames: Any, wanted: dict[int, int], last: int, size: int, out: np.ndarray) -> int:
    found = set()
    for frame in frames:
        slot = wanted.get(frame.pts)
        if slot is not None:
            out[slot] = resize_crop(frame, size)
            found.add(slot)
        if frame.pts is not None and frame.pts >= last:
            break
    return len(found)


def resize_crop(frame: Any, size: int) -> np.ndarray:
    """Scale the shorter side to ``size``, crop the centre square: uint8 (3, size, size)."""
    scale = size / min(frame.width, frame.height)
    width = max(size, round(frame.width * scale))
    height = max(size, round(frame.height * scale))
    image = frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA")
    top, left = (height - size) // 2, (width - size) // 2
    return image[top : top + size, left : left + size].transpose(2, 0, 1)


def train_clip_plan(
    num_frames: Sequence[int],
    span: int,
    batch_size: int,
    epoch: int,
    rank: int,
    world_size: int,
    seed: int = 0,
) -> list[np.ndarray]:
    """Train batches of ``rank`` in ``epoch``: each an int64 array of ``(video, start)`` rows.

    Pure function of its arguments (see the module docstring for the sampling rule).
    """
    counts = np.asarray(num_frames, dtype=np.int64)
    rng = np.random.default_rng([seed, epoch])
    video = np.repeat(np.arange(len(counts)), np.maximum(1, counts // span))
    start = rng.integers(0, counts[video] - span + 1) if len(video) else video
    clips = np.stack([video, start], axis=1)[rng.permutation(len(video))]
    first, stop = rank_slice(len(clips), rank, world_size)
    mine = clips[first:stop]
    return [mine[i * batch_size : (i + 1) * batch_size] for i in range(len(mine) // batch_size)]


class VideoTrainBatches(EpochBatches):
    """Random train clips of ``videos[ids]``, whole batches per item (:func:`train_clip_plan`)."""

    def __init__(
        self,
        videos: Sequence[VideoInfo],
        ids: Sequence[int],
        frames: int,
        frame_stride: int,
        size: int,
        batch_size: int,
        seed: int,
    ) -> None:
        super().__init__()
        self.videos, self.frames, self.frame_stride = list(videos), frames, frame_stride
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size, self.batch_size, self.seed = size, batch_size, seed

    def plan(self, epoch: int, rank: int, world_size: int) -> list[np.ndarray]:
        batches = train_clip_plan(
            [self.videos[i].num_frames for i in self.ids],
            clip_span(self.frames, self.frame_stride),
            self.batch_size,
            epoch,
            rank,
            world_size,
            self.seed,
        )
        for batch in batches:
            batch[:, 0] = self.ids[batch[:, 0]]
        return batches

    def load(self, spec: np.ndarray) -> dict[str, Any]:
        video = np.stack(
            [
                decode_clip(self.videos[v], s, self.frames, self.frame_stride, self.size)
                for v, s in spec
            ]
        )
        return {
            "video": torch.from_numpy(video),
            "video_id": torch.as_tensor(spec[:, 0], dtype=torch.int64),
            "start": torch.as_tensor(spec[:, 1], dtype=torch.int64),
        }


class VideoClips(Dataset):
    """Fixed clips ``(video, start)``; item ``i`` is one clip (batched by the DataLoader)."""

    def __init__(
        self,
        videos: Sequence[VideoInfo],
        clips: Sequence[tuple[int, int]],
        frames: int,
        frame_stride: int,
        size: int,
    ) -> None:
        self.videos, self.clips = list(videos), list(clips)
        self.frames, self.frame_stride, self.size = frames, frame_stride, size

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Any]:
        v, start = self.clips[index]
        clip = decode_clip(self.videos[v], start, self.frames, self.frame_stride, self.size)
        return {
            "video": torch.from_numpy(clip),
            "video_id": torch.tensor(v, dtype=torch.int64),
            "start": torch.tensor(start, dtype=torch.int64),
        }


def val_clip_starts(num_frames: int, span: int) -> list[int]:
    """Non-overlapping clip starts ``0, span, 2 * span, ...`` that fit in the video."""
    return list(range(0, num_frames - span + 1, span))


class VideoFolderDataModule(pl.LightningDataModule):
    """Clips from a folder of videos (module docstring has the sampling and resize rules)."""

    def __init__(
        self,
        root: str,
        frames: int = 16,
        frame_stride: int = 1,
        size: int = 64,
        batch_size: int = 8,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        extensions: tuple[str, ...] = (".mp4", ".avi", ".mkv", ".webm"),
        seed: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("frames", frames),
            ("frame_stride", frame_stride),
            ("size", size),
            ("batch_size", batch_size),
        ):
            check_int(name, value, 1)
        check_int("num_workers", num_workers, 0)
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction={val_fraction} is out of range: allowed [0, 1)")
        self.save_hyperparameters()
        self.root, self.frames, self.frame_stride, self.size = (
            Path(root),
            frames,
            frame_stride,
            size,
        )
        self.channels = 3
        self.batch_size, self.num_workers, self.val_fraction = batch_size, num_workers, val_fraction
        self.extensions, self.seed = tuple(extensions), seed
        self.videos: list[VideoInfo] | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.videos is not None:
            return
        span = clip_span(self.frames, self.frame_stride)
        usable = []
        for path in find_videos(self.root, self.extensions):
            info = index_video(path)
            if info.num_frames < span:
                warnings.warn(
                    f"skipping {path}: {info.num_frames} frames, a clip of frames={self.frames} "
                    f"with frame_stride={self.frame_stride} needs {span}",
                    stacklevel=2,
                )
                continue
            usable.append(info)
        if not usable:
            raise ValueError(f"no video in {self.root} is long enough for one clip ({span} frames)")
        n_val = 0
        if self.val_fraction > 0:
            if len(usable) < 2:
                raise ValueError(
                    f"val_fraction={self.val_fraction} splits by video and {self.root} has "
                    f"{len(usable)} usable video: add videos or set val_fraction=0"
                )
            n_val = min(len(usable) - 1, max(1, round(self.val_fraction * len(usable))))
        is_val = np.zeros(len(usable), dtype=bool)
        is_val[np.random.default_rng(self.seed).permutation(len(usable))[:n_val]] = True
        self.videos = usable
        self.train_ids = np.flatnonzero(~is_val).tolist()
        self.val_ids = np.flatnonzero(is_val).tolist()

    def train_dataloader(self) -> DataLoader:
        self.setup()
        rank, world_size = distributed_context(self.trainer)
        batches = VideoTrainBatches(
            self.videos,
            self.train_ids,
            self.frames,
            self.frame_stride,
            self.size,
            self.batch_size,
            self.seed,
        )
        batches.set_distributed(rank, world_size)
        if len(batches) == 0:
            raise ValueError(
                f"{self.root}: the train videos give fewer clips than batch_size={self.batch_size} "
                f"per rank ({world_size} rank(s))"
            )
        return PositionedLoader(
            batches,
            lambda done: trainer_epoch(self.trainer, done),
            "first_epoch",
            batch_size=None,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        self.setup()
        span = clip_span(self.frames, self.frame_stride)
        clips = [
            (v, s) for v in self.val_ids for s in val_clip_starts(self.videos[v].num_frames, span)
        ]
        dataset = VideoClips(self.videos, clips, self.frames, self.frame_stride, self.size)
        return DataLoader(
            dataset, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers
        )

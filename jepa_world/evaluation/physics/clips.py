"""Ground-truth clips for the state and roll-out probes, and their per-time-step labels.

The clips come from ``physics2d`` with exactly one ball, so position and velocity are defined
without slot ambiguity. A model sees time in tubelets (``tubelet`` frames per token), so labels are
taken per time step: position and visibility are means over the tubelet's frames; velocity is the
motion the tubelet can see, the mean velocity of its frames 1.. (the step into frame ``f`` moves
the ball by ``velocity[f]``, so a 2-frame tubelet shows ``velocity`` of its second frame). With
``tubelet = 1`` it is the velocity into frame ``t`` (seen by the pair ``t - 1, t``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BallClips", "make_ball_clips", "step_labels"]


@dataclass
class BallClips:
    """One-ball clips: video uint8 (B, T, C, H, W); position, velocity (B, T, 2); visible (B, T)."""

    video: np.ndarray
    position: np.ndarray
    velocity: np.ndarray
    visible: np.ndarray
    seeds: np.ndarray

    def __len__(self) -> int:
        return len(self.video)


def make_ball_clips(
    world_params: dict[str, Any], frames: int, size: int, seeds: list[int] | np.ndarray
) -> BallClips:
    """Generate one-ball ``physics2d`` clips of ``frames`` frames at ``size`` px."""
    from jepa_world.worlds import create_world

    params = {**world_params, "frames": int(frames), "size": int(size), "num_balls": (1, 1)}
    world = create_world("physics2d", **params)
    batch = world.generate(np.asarray(seeds, dtype=np.int64))
    state = batch["state"]
    return BallClips(
        video=batch["video"],
        position=state["position"][:, :, 0].astype(np.float64),
        velocity=state["velocity"][:, :, 0].astype(np.float64),
        visible=state["visible"][:, :, 0].astype(np.float64),
        seeds=np.asarray(seeds, dtype=np.int64),
    )


def step_labels(clips: BallClips, tubelet: int) -> dict[str, np.ndarray]:
    """Per-time-step labels: ``position``, ``velocity`` (B, T', 2) and ``visible`` (B, T')."""
    if tubelet < 1:
        raise ValueError(f"tubelet={tubelet} must be >= 1")
    b, t = clips.position.shape[:2]
    steps = t // tubelet
    if steps < 1:
        raise ValueError(f"clips of {t} frames are shorter than one tubelet of {tubelet}")
    frames = steps * tubelet

    def per_step(x: np.ndarray) -> np.ndarray:
        return x[:, :frames].reshape(b, steps, tubelet, *x.shape[2:])

    velocity = per_step(clips.velocity)
    velocity = velocity[:, :, 1:].mean(2) if tubelet > 1 else velocity[:, :, 0]
    return {
        "position": per_step(clips.position).mean(2),
        "velocity": velocity,
        "visible": per_step(clips.visible).mean(2),
    }

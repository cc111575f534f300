"""Identity-switch rate: how often an object-level unit (keypoint, slot) changes the ball it is on.

A world model whose units jump between objects from frame to frame makes its predictor forecast
the jumps rather than the motion, so the rate is reported beside the physics probes for every
model that exposes units. Ground truth comes from ``physics2d`` state (``position`` and ``radius``
per ball, ``present``, and ``visible``: the share of the ball's disc in view).

Assignment per frame (ball index, or -1 for "on nothing"):

- keypoints (:func:`assign_keypoints`): the present ball whose centre is nearest the keypoint,
  if the keypoint lies within that ball's radius + ``margin`` (2 px) of its centre;
- slots (:func:`assign_masks`): the ball whose disc (pixels whose centre lies within the radius)
  holds the largest share of the slot's attention mask, if that share is larger than the share
  held by pixels of no ball (the background competes as "nothing"; where discs overlap a pixel
  counts for each of them).

Counting (:func:`switch_counts`): for every unit and every pair of consecutive frames (t, t+1),
the pair counts when the unit is on a ball b at t and b is visible (``visible`` >= ``min_visible``,
0.5) in both frames; it is a switch when the unit's assignment at t+1 is not b (another ball or
nothing). A unit on nothing at t contributes no pair. The rate is switches / counted pairs, pooled
over units and clips (so units that stay on balls longer weigh more); NaN when no pair counts.

Localisation noise of keypoints (:func:`extrapolation_errors`): a keypoint that stays on one
ball does not switch, yet may still wander over the ball from frame to frame, and that noise is
as unforecastable as a switch. Over every triplet of consecutive frames in which a keypoint stays
on the same ball and the ball is visible in all three, ``unit_const_vel_px`` is the mean distance
between the keypoint at t+1 and its constant-velocity extrapolation ``2 p(t) - p(t-1)``, and
``ball_const_vel_px`` the same for the ball's true centre over the same triplets: a keypoint that
follows its ball's centre (up to a fixed offset) scores what the ball scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "IDENTITY_PROTOCOL",
    "IDENTITY_SEEDS",
    "IDENTITY_WORLD",
    "assign_keypoints",
    "assign_masks",
    "extrapolation_errors",
    "identity_metrics",
    "measure_identity",
    "switch_counts",
    "switch_rate",
    "unit_reader",
]

#: Probe clips for the rate: multi-ball physics2d clips (physics2d's defaults otherwise: gravity,
#: 0-2 platforms, 0-2 occluders) from a seed range of their own, disjoint from training
#: (< 3e9) and from the suite's other probe ranges.
IDENTITY_WORLD: dict[str, Any] = {"num_balls": (2, 4)}
IDENTITY_SEEDS = range(3_030_000_000, 3_030_000_000 + 64)
#: What a report states about the rate.
IDENTITY_PROTOCOL: dict[str, Any] = {
    "world": "physics2d",
    "world_params": {"num_balls": [2, 4], "frames": "the model's training clip length"},
    "seeds": [IDENTITY_SEEDS.start, IDENTITY_SEEDS.stop],
    "encoder": "the exported (target) encoder's units",
    "assignment": "keypoint: nearest ball centre within radius + 2 px; slot: ball whose disc "
    "holds the largest share of its mask, more than the background's; else nothing",
    "rate": "switches / pairs of consecutive frames that start on a ball visible (>= 0.5) in "
    "both frames, pooled over units and clips",
}


def _check(name: str, array: np.ndarray, ndim: int) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dims, got shape {array.shape}")
    return array


def assign_keypoints(
    positions: np.ndarray,
    centres: np.ndarray,
    radius: np.ndarray,
    present: np.ndarray,
    margin: float = 2.0,
) -> np.ndarray:
    """Ball under each keypoint ``(B, T, K)`` (-1: on nothing).

    ``positions`` (B, T, K, 2) and ``centres`` (B, T, M, 2) in pixels; ``radius`` and
    ``present`` (B, T, M).
    """
    positions = _check("positions", positions, 4).astype(np.float64)
    centres = _check("centres", centres, 4).astype(np.float64)
    radius = _check("radius", radius, 3).astype(np.float64)
    present = _check("present", present, 3).astype(bool)
    dist = np.linalg.norm(positions[:, :, :, None] - centres[:, :, None], axis=-1)  # (B,T,K,M)
    dist = np.where(present[:, :, None], dist, np.inf)
    nearest = dist.argmin(-1)
    best = np.take_along_axis(dist, nearest[..., None], -1)[..., 0]
    reach = np.take_along_axis(
        np.broadcast_to(radius[:, :, None], dist.shape), nearest[..., None], -1
    )[..., 0]
    return np.where(best <= reach + margin, nearest, -1)


def assign_masks(
    masks: np.ndarray, centres: np.ndarray, radius: np.ndarray, present: np.ndarray
) -> np.ndarray:
    """Ball holding the largest share of each slot's mask ``(B, T, K)`` (-1: on nothing).

    ``masks`` (B, T, K, H, W) non-negative attention masks (any scale: shares are taken per
    slot); pixel (i, j) has its centre at (j + 0.5, i + 0.5) in the world's pixel coordinates.
    """
    masks = _check("masks", masks, 5).astype(np.float64)
    centres = _check("centres", centres, 4).astype(np.float64)
    radius = _check("radius", radius, 3).astype(np.float64)
    present = _check("present", present, 3).astype(bool)
    h, w = masks.shape[-2:]
    ys = np.arange(h) + 0.5
    xs = np.arange(w) + 0.5
    dx2 = (xs[None, None, None, None, :] - centres[..., 0, None, None]) ** 2
    dy2 = (ys[None, None, None, :, None] - centres[..., 1, None, None]) ** 2
    disc = (dx2 + dy2 <= radius[..., None, None] ** 2) & present[..., None, None]  # (B,T,M,H,W)
    total = masks.sum((-2, -1))  # (B, T, K)
    share = np.einsum("btkhw,btmhw->btkm", masks, disc.astype(np.float64))
    nothing = np.einsum("btkhw,bthw->btk", masks, (~disc.any(2)).astype(np.float64))
    share = np.where(present[:, :, None], share, -np.inf)
    best = share.argmax(-1)
    top = np.take_along_axis(share, best[..., None], -1)[..., 0]
    return np.where((top > nothing) & (total > 0), best, -1)


def switch_counts(
    assignment: np.ndarray, visible: np.ndarray, min_visible: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """(switches, counted pairs), each ``(B, K)``, as the module docstring defines them.

    ``assignment`` (B, T, K) ball index or -1; ``visible`` (B, T, M) share of each ball in view.
    """
    assignment = _check("assignment", assignment, 3).astype(np.int64)
    visible = _check("visible", visible, 3).astype(np.float64)
    if assignment.shape[:2] != visible.shape[:2]:
        raise ValueError(
            f"assignment {assignment.shape} and visible {visible.shape} differ in (B, T)"
        )
    before, after = assignment[:, :-1], assignment[:, 1:]  # (B, T-1, K)
    on = before >= 0
    ball = np.where(on, before, 0)
    seen = visible >= min_visible  # (B, T, M)
    seen_before = np.take_along_axis(seen[:, :-1], ball, -1)
    seen_after = np.take_along_axis(seen[:, 1:], ball, -1)
    counted = on & seen_before & seen_after
    switched = counted & (after != before)
    return switched.sum(1), counted.sum(1)


def switch_rate(assignment: np.ndarray, visible: np.ndarray, min_visible: float = 0.5) -> float:
    """Pooled identity-switch rate (NaN when no pair counts)."""
    switches, pairs = switch_counts(assignment, visible, min_visible)
    total = int(pairs.sum())
    return float(switches.sum() / total) if total else float("nan")


def extrapolation_errors(
    positions: np.ndarray,
    assignment: np.ndarray,
    centres: np.ndarray,
    visible: np.ndarray,
    min_visible: float = 0.5,
) -> dict[str, float]:
    """``unit_const_vel_px``, ``ball_const_vel_px`` and the counted ``triplets`` (see the module
    docstring); NaN errors when no triplet counts.

    ``positions`` (B, T, K, 2) and ``centres`` (B, T, M, 2) in pixels; ``assignment`` (B, T, K);
    ``visible`` (B, T, M).
    """
    positions = _check("positions", positions, 4).astype(np.float64)
    centres = _check("centres", centres, 4).astype(np.float64)
    assignment = _check("assignment", assignment, 3).astype(np.int64)
    visible = _check("visible", visible, 3).astype(np.float64)
    a0, a1, a2 = assignment[:, :-2], assignment[:, 1:-1], assignment[:, 2:]
    ball = np.where(a1 >= 0, a1, 0)  # (B, T-2, K)
    seen = visible >= min_visible
    in_view = np.ones_like(a1, dtype=bool)
    for offset in range(3):
        frames = seen[:, offset : offset + ball.shape[1]]
        in_view &= np.take_along_axis(frames, ball, -1)
    counted = (a1 >= 0) & (a0 == a1) & (a2 == a1) & in_view
    unit = positions[:, 2:] - 2 * positions[:, 1:-1] + positions[:, :-2]
    truth = centres[:, 2:] - 2 * centres[:, 1:-1] + centres[:, :-2]  # (B, T-2, M, 2)
    truth = np.take_along_axis(truth, ball[..., None], 2)  # (B, T-2, K, 2): the unit's ball
    n = int(counted.sum())
    if not n:
        return {
            "unit_const_vel_px": float("nan"),
            "ball_const_vel_px": float("nan"),
            "triplets": 0.0,
        }
    return {
        "unit_const_vel_px": float(np.linalg.norm(unit, axis=-1)[counted].mean()),
        "ball_const_vel_px": float(np.linalg.norm(truth, axis=-1)[counted].mean()),
        "triplets": float(n),
    }


def unit_reader(encoder: nn.Module) -> Callable[[torch.Tensor], np.ndarray] | None:
    """``video -> positions or masks`` for an encoder that exposes its units, else None.

    An encoder exposes keypoints with ``unit_positions(video) -> (B, T, K, 2)`` pixels, or slots
    with ``unit_masks(video) -> (B, T, K, H, W)`` at the frame size.
    """
    for name in ("unit_positions", "unit_masks"):
        method = getattr(encoder, name, None)
        if callable(method):
            return method
    return None


def identity_metrics(
    assignment: np.ndarray, visible: np.ndarray, min_visible: float = 0.5
) -> dict[str, float]:
    """``switch_rate``, counted ``pairs`` and ``on_ball`` (share of unit-frames on a ball)."""
    switches, pairs = switch_counts(assignment, visible, min_visible)
    total = int(pairs.sum())
    return {
        "switch_rate": float(switches.sum() / total) if total else float("nan"),
        "pairs": float(total),
        "on_ball": float((np.asarray(assignment) >= 0).mean()),
    }


def measure_identity(
    encoder: nn.Module,
    *,
    size: int,
    frames: int,
    seeds: Sequence[int] = IDENTITY_SEEDS,
    world_params: dict[str, Any] | None = None,
    batch_size: int = 16,
) -> dict[str, float] | None:
    """Identity metrics of ``encoder``'s units on multi-ball physics2d clips (None when the
    encoder exposes no units; see :func:`unit_reader`)."""
    from jepa_world.worlds import create_world

    read = unit_reader(encoder)
    if read is None:
        return None
    params = {**IDENTITY_WORLD, **(world_params or {}), "size": int(size), "frames": int(frames)}
    batch = create_world("physics2d", **params).generate(np.asarray(list(seeds), dtype=np.int64))
    state = batch["state"]
    video = batch["video"]
    units = []
    with torch.no_grad():
        for start in range(0, len(video), batch_size):
            clip = torch.from_numpy(video[start : start + batch_size]).float() / 255.0
            units.append(np.asarray(read(clip), dtype=np.float64))
    found = np.concatenate(units)
    centres, radius, present = state["position"], state["radius"], state["present"] > 0
    if found.ndim == 4:
        assignment = assign_keypoints(found, centres, radius, present)
        metrics = identity_metrics(assignment, state["visible"])
        return {**metrics, **extrapolation_errors(found, assignment, centres, state["visible"])}
    assignment = assign_masks(found, centres, radius, present)
    return identity_metrics(assignment, state["visible"])

"""Balls in a box: gravity, elastic collisions, platforms and occluders, rendered as RGB frames.

The world behind the physics probes and the intuitive-physics tests. It is pure numpy and
vectorised over a batch of worlds, so it is fast enough to be the default training data on a
laptop CPU, and it returns the ground truth a probe needs (position, velocity, visibility ...).

Conventions: positions are in pixels as ``(x, y)`` with ``y`` growing downward; pixel ``(i, j)``
covers ``[j, j + 1) x [i, i + 1)`` so its centre is ``(j + 0.5, i + 0.5)``; the arena walls are the
frame borders ``0`` and ``size``. Ball identity is its colour, drawn from :data:`PALETTE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jepa_world.checks import check_int, check_pair, check_range
from jepa_world.worlds.base import Batch, as_seeds

__all__ = [
    "BACKGROUND",
    "Contacts",
    "OCCLUDER_COLOUR",
    "PALETTE",
    "PLATFORM_COLOUR",
    "Physics2D",
    "Scene",
    "palette_index",
    "render",
    "simulate",
]

PALETTE = np.array(
    [
        (235, 35, 35),  # red
        (40, 200, 40),  # green
        (40, 90, 255),  # blue
        (245, 235, 40),  # yellow
        (230, 40, 230),  # magenta
        (30, 215, 225),  # cyan
        (255, 125, 0),  # orange
        (125, 40, 255),  # violet
        (255, 155, 200),  # pink
        (150, 255, 160),  # mint
    ],
    dtype=np.uint8,
)
"""Ball colours; any two differ by >= 98 in RGB distance, so identity survives blending."""
PALETTE.setflags(write=False)

BACKGROUND: tuple[int, int, int] = (40, 40, 40)
"""RGB of the empty scene."""
PLATFORM_COLOUR: tuple[int, int, int] = (105, 105, 105)
"""RGB of platforms (solid: balls bounce off them)."""
OCCLUDER_COLOUR: tuple[int, int, int] = (175, 175, 175)
"""RGB of occluders (drawn over balls, no physics)."""

MAX_BALLS = 4
MAX_RECTS = 8  # platforms or occluders per clip
PLACEMENT_GAP = 0.5  # px of free space between initial balls (and between balls and platforms)
_TRIES = 32  # candidate spots per ball and per platform when placing them at random
_DIRECTION_TRIES = 16  # candidate points per ball for a direction (all miss: p = 2e-11)
_CONTACT_PASSES = 4  # a ball pressed into a wall by another needs a few rounds to settle
_FIXED_BITS = 16  # resolution of the exact visibility sums
_FRAMES_PER_RENDER_CHUNK = 512  # bounds render memory: about 20 MB per chunk at 64x64


@dataclass
class Scene:
    """Initial conditions of B worlds, padded to K balls, P platforms, O occluders (float64).

    Absent balls neither move, collide nor render; absent platforms and occluders do nothing.
    Platforms are solid, static and drawn under the balls; occluders have no physics and are drawn
    in front of everything. Rectangles are ``(x0, y0, x1, y1)`` in px.
    """

    position: np.ndarray  # (B, K, 2) px, (x, y), y grows downward
    velocity: np.ndarray  # (B, K, 2) px/frame
    radius: np.ndarray  # (B, K)
    mass: np.ndarray  # (B, K)
    colour: np.ndarray  # (B, K, 3) uint8
    present: np.ndarray  # (B, K) bool
    gravity: np.ndarray  # (B,) px/frame^2 along +y (0 = off)
    platforms: np.ndarray  # (B, P, 4)
    platform_present: np.ndarray  # (B, P) bool
    occluders: np.ndarray  # (B, O, 4)
    occluder_present: np.ndarray  # (B, O) bool
    size: int  # frame side in px

    @property
    def batch_size(self) -> int:
        return int(self.position.shape[0])

    @property
    def max_balls(self) -> int:
        return int(self.position.shape[1])

    def check(self) -> None:
        """Raise ValueError when the arrays disagree in shape or hold impossible values."""
        b, k = self.position.shape[:2] if self.position.ndim == 3 else (-1, -1)
        expected = {
            "position": (b, k, 2),
            "velocity": (b, k, 2),
            "radius": (b, k),
            "mass": (b, k),
            "colour": (b, k, 3),
            "present": (b, k),
            "gravity": (b,),
        }
        for name, shape in expected.items():
            got = np.shape(getattr(self, name))
            if got != shape or b < 0:
                raise ValueError(
                    f"Scene.{name} must have shape {shape} (B, K = {b}, {k}), got {got}"
                )
        for rects, flags in (("platforms", "platform_present"), ("occluders", "occluder_present")):
            r, f = np.shape(getattr(self, rects)), np.shape(getattr(self, flags))
            if len(r) != 3 or r[0] != b or r[2] != 4 or f != r[:2]:
                raise ValueError(
                    f"Scene.{rects} must be (B, N, 4) and Scene.{flags} (B, N) with B = {b}, "
                    f"got {r} and {f}"
                )
        if int(self.size) < 1:
            raise ValueError(f"Scene.size={self.size!r} must be a positive number of pixels")
        present = np.asarray(self.present, dtype=bool)
        radius, mass = np.asarray(self.radius), np.asarray(self.mass)
        if not (radius[present] > 0).all() or not (2 * radius[present] < self.size).all():
            raise ValueError(
                f"Scene.radius of present balls must be in (0, size/2={self.size / 2})"
            )
        if not (mass[present] > 0).all():
            raise ValueError("Scene.mass of present balls must be > 0")
        for name in ("position", "velocity", "gravity", "platforms", "occluders"):
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"Scene.{name} must be finite (no NaN or inf)")


def palette_index(colour: np.ndarray) -> np.ndarray:
    """Palette index of each ``(..., 3)`` uint8 colour, -1 where the colour is not in PALETTE."""
    colour = np.asarray(colour)
    match = (colour[..., None, :] == PALETTE).all(axis=-1)  # (..., P)
    return np.where(match.any(axis=-1), match.argmax(axis=-1), -1)


# ----------------------------------------------------------------------------------------------
# Physics


def simulate(scene: Scene, frames: int, substeps: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities (B, T, K, 2) float64; frame 0 is the initial state.

    Each frame is ``substeps`` sub-steps: an exact ballistic move under gravity, then contacts.
    ``velocity[:, t]`` is the velocity after the last sub-step that produced frame ``t`` (the
    scene's initial velocity at ``t = 0``), so it already includes any bounce inside that frame.

    Collisions are elastic and conserve energy: ball-ball impulses along the contact normal keep
    momentum and kinetic energy exactly, and the overlap is removed by moving both balls apart
    about their centre of mass (no change in potential energy). Walls and platforms reflect the
    normal velocity component (platform corners through the rectangle's nearest point); the ball
    is mirrored out of the surface and its normal speed set so kinetic plus potential energy is
    unchanged, so a ball resting on a floor or platform stays at rest instead of jittering.
    Contacts are re-solved (up to ``_CONTACT_PASSES`` rounds of walls, platforms, then balls)
    while balls still overlap, so a ball pressed against a wall by another settles.
    """
    if not isinstance(frames, int | np.integer) or frames < 1:
        raise ValueError(f"frames={frames!r} must be an int >= 1")
    if not isinstance(substeps, int | np.integer) or not 1 <= substeps <= 1024:
        raise ValueError(f"substeps={substeps!r} must be an int in [1, 1024]")
    scene.check()
    present = np.asarray(scene.present, dtype=bool)
    pos = np.array(scene.position, dtype=np.float64)
    vel = np.array(scene.velocity, dtype=np.float64) * present[..., None]
    radius = np.where(present, np.asarray(scene.radius, dtype=np.float64), 0.0)
    inv_mass = np.where(present, 1.0 / np.where(present, scene.mass, 1.0), 0.0)
    gravity = np.asarray(scene.gravity, dtype=np.float64)
    dt = 1.0 / substeps
    fall_speed = gravity[:, None] * present * dt  # velocity gained per sub-step
    fall_drop = 0.5 * fall_speed * dt  # extra drop per sub-step from the acceleration
    contacts = Contacts(
        radius, inv_mass, gravity, present, float(scene.size), scene.platforms,
        scene.platform_present,
    )  # fmt: skip

    positions = np.empty((pos.shape[0], frames, *pos.shape[1:]), dtype=np.float64)
    velocities = np.empty_like(positions)
    positions[:, 0], velocities[:, 0] = pos, vel
    for t in range(1, frames):
        for _ in range(substeps):
            pos += vel * dt
            pos[..., 1] += fall_drop
            vel[..., 1] += fall_speed
            contacts.resolve(pos, vel)
        positions[:, t], velocities[:, t] = pos, vel
    return positions, velocities


class Contacts:
    """The contact solver of one batch of worlds: walls, platforms and ball pairs, in place.

    Built once per simulation (the pair list and the masks do not change), then
    :meth:`resolve` runs after every sub-step's move. Other worlds reuse it: a ball with
    ``inv_mass`` 0 is immovable in pair contacts (a kinematic body, like the push world's agent),
    and ``wall_on`` (default: ``present``) says which balls bounce off the frame borders.
    """

    def __init__(
        self,
        radius: np.ndarray,
        inv_mass: np.ndarray,
        gravity: np.ndarray,
        present: np.ndarray,
        size: float,
        platforms: np.ndarray,
        platform_present: np.ndarray,
        wall_on: np.ndarray | None = None,
    ) -> None:
        self.radius, self.inv_mass, self.gravity = radius, inv_mass, gravity
        self.present = present if wall_on is None else np.asarray(wall_on, dtype=bool)
        self.size = size
        self.rects = np.asarray(platforms, dtype=np.float64)[:, :, None, :]  # (B, P, 1, 4)
        rect_on = np.asarray(platform_present, dtype=bool)
        self.rect_on = rect_on[:, :, None] & present[:, None, :]  # (B, P, K)
        self.first, self.second = np.triu_indices(radius.shape[1], 1)  # all ball pairs
        self.pair_on = present[:, self.first] & present[:, self.second]
        self.reach2 = (radius[:, self.first] + radius[:, self.second]) ** 2

    def resolve(self, pos: np.ndarray, vel: np.ndarray) -> None:
        """Re-solve contacts (up to ``_CONTACT_PASSES`` rounds of platforms, walls, then ball
        pairs) until no two balls overlap; ``pos`` and ``vel`` (B, K, 2) change in place."""
        radius, gravity, first, second = self.radius, self.gravity, self.first, self.second
        for _ in range(_CONTACT_PASSES):  # until no two balls overlap after the walls
            if self.rects.shape[1]:
                _collide_rects(pos, vel, radius, gravity, self.rects, self.rect_on)
            _collide_walls(pos, vel, radius, gravity, self.present, self.size)
            gap = pos[:, second] - pos[:, first]
            touching = self.pair_on & ((gap**2).sum(axis=-1) < self.reach2)  # (B, pairs)
            if not touching.any():
                break
            for pair in np.flatnonzero(touching.any(axis=0)):  # in order: each sees the last
                i, j = first[pair], second[pair]
                _collide_pair(pos, vel, i, j, radius, self.inv_mass, self.pair_on[:, pair])


def _collide_pair(
    pos: np.ndarray,
    vel: np.ndarray,
    i: int,
    j: int,
    radius: np.ndarray,
    inv_mass: np.ndarray,
    on: np.ndarray,
) -> None:
    """Elastic impulse and separation for balls i and j where they overlap, in place.

    The separation is mass-weighted so the pair's centre of mass (and potential energy) stays.
    """
    delta = pos[:, j] - pos[:, i]
    reach = radius[:, i] + radius[:, j]
    hit = on & (delta[:, 0] ** 2 + delta[:, 1] ** 2 < reach**2)
    if not hit.any():
        return
    b = np.flatnonzero(hit)
    d = delta[b]
    dist = np.sqrt((d**2).sum(axis=1))
    safe = dist > 1e-12
    normal = np.where(safe[:, None], d / np.where(safe, dist, 1.0)[:, None], [1.0, 0.0])
    wi, wj = inv_mass[b, i], inv_mass[b, j]
    approach = ((vel[b, j] - vel[b, i]) * normal).sum(axis=1)
    impulse = np.where(approach < 0, -2.0 * approach / (wi + wj), 0.0)[:, None] * normal
    vel[b, i] -= impulse * wi[:, None]
    vel[b, j] += impulse * wj[:, None]
    push = ((reach[b] - dist) / (wi + wj))[:, None] * normal
    pos[b, i] -= push * wi[:, None]
    pos[b, j] += push * wj[:, None]


def _leave_surface(
    normal_speed: np.ndarray, depth: np.ndarray, gravity_along: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shift along the outward normal and the new normal speed for balls ``depth`` px inside.

    A ball moving in is mirrored out (shift ``2 depth``, as an exact bounce would place it); one
    already moving out, or too slow to climb the mirror against gravity, is placed at contact.
    The new normal speed makes kinetic plus potential energy equal to before the shift
    (``gravity_along`` is gravity's component along the outward normal, per unit mass).
    """
    mirror = (normal_speed < 0) & (normal_speed**2 + 4.0 * depth * gravity_along >= 0)
    shift = np.where(mirror, 2.0 * depth, depth)
    new_speed = np.sqrt(np.maximum(normal_speed**2 + 2.0 * shift * gravity_along, 0.0))
    return shift, new_speed


def _collide_walls(
    pos: np.ndarray,
    vel: np.ndarray,
    radius: np.ndarray,
    gravity: np.ndarray,
    present: np.ndarray,
    size: float,
) -> None:
    """Bounce balls (B, K) off the frame borders, in place (see :func:`_leave_surface`)."""
    low = radius[..., None]
    high = size - low
    if not ((np.abs(pos - size / 2) > high - size / 2) & present[..., None]).any():
        return  # the common case, in one test
    below = (pos < low) & present[..., None]
    above = (pos > high) & present[..., None]
    outward = np.where(below, 1.0, -1.0)  # +1 off the left wall / ceiling, -1 off right / floor
    depth = np.where(below, low - pos, pos - high)
    along = np.zeros_like(pos)
    along[..., 1] = gravity[:, None]
    shift, speed = _leave_surface(vel * outward, depth, along * outward)
    hit = below | above
    pos[...] = np.where(hit, np.clip(pos + outward * shift, low, np.maximum(low, high)), pos)
    vel[...] = np.where(hit, outward * speed, vel)


def _collide_rects(
    pos: np.ndarray,
    vel: np.ndarray,
    radius: np.ndarray,
    gravity: np.ndarray,
    rects: np.ndarray,
    on: np.ndarray,
) -> None:
    """Bounce balls (B, K) off static rectangles (B, P, 1, 4), one rectangle at a time."""
    nearest = np.clip(pos[:, None], rects[..., :2], rects[..., 2:])  # (B, P, K, 2)
    hit = on & (((pos[:, None] - nearest) ** 2).sum(axis=-1) < radius[:, None] ** 2)
    if not hit.any():
        return
    for p in np.flatnonzero(hit.any(axis=(0, 2))):
        _collide_rect(pos, vel, radius, gravity, rects[:, p, 0], on[:, p])


def _collide_rect(
    pos: np.ndarray,
    vel: np.ndarray,
    radius: np.ndarray,
    gravity: np.ndarray,
    rect: np.ndarray,
    on: np.ndarray,
) -> None:
    """Bounce balls (B, K) off one static rectangle per world (B, 4), in place.

    The contact normal points from the rectangle's nearest point to the ball centre, which
    handles faces and corners alike; a centre inside the rectangle leaves by the nearest face.
    """
    lo, hi = rect[:, None, :2], rect[:, None, 2:]
    nearest = np.clip(pos, lo, hi)
    delta = pos - nearest
    dist2 = (delta**2).sum(axis=-1)
    hit = on & (dist2 < radius**2)
    if not hit.any():
        return
    b, k = np.nonzero(hit)
    d, r = delta[b, k], radius[b, k]
    dist = np.sqrt(dist2[b, k])
    outside = dist > 1e-12
    normal = d / np.where(outside, dist, 1.0)[:, None]
    depth = r - dist
    if not outside.all():  # centre inside: leave through the closest face
        p, lo_b, hi_b = pos[b, k], rect[b, :2], rect[b, 2:]
        faces = np.stack([p - lo_b, hi_b - p], axis=1).reshape(-1, 4)  # -x, -y, +x, +y
        face = faces.argmin(axis=1)
        face_normal = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 0.0], [0.0, 1.0]])[face]
        normal = np.where(outside[:, None], normal, face_normal)
        depth = np.where(outside, depth, r + faces[np.arange(len(face)), face])
    v = vel[b, k]
    vn = (v * normal).sum(axis=1)
    shift, speed = _leave_surface(vn, depth, gravity[b] * normal[:, 1])
    vel[b, k] = v + (speed - vn)[:, None] * normal
    pos[b, k] += shift[:, None] * normal


# ----------------------------------------------------------------------------------------------
# Rendering


def render(scene: Scene, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Video uint8 (B, T, 3, H, W) and visible fraction float32 (B, T, K) for given positions.

    Balls are anti-aliased discs (pixel coverage ``clip(r + 0.5 - distance, 0, 1)``) drawn in slot
    order over the platforms; occluders are drawn over everything. ``visible`` is the share of a
    ball's coverage not hidden by occluders, by balls drawn after it, or by the frame border
    (0 for absent balls). ``positions`` may be any (B, T, K, 2) array, e.g. edited trajectories.
    """
    scene.check()
    positions = np.asarray(positions, dtype=np.float64)
    b, k = scene.batch_size, scene.max_balls
    if positions.ndim != 4 or positions.shape[0] != b or positions.shape[2:] != (k, 2):
        raise ValueError(f"positions must have shape (B={b}, T, K={k}, 2), got {positions.shape}")
    if not np.isfinite(positions).all():
        raise ValueError("positions must be finite (no NaN or inf)")
    size, frames = int(scene.size), positions.shape[1]
    video = np.empty((b, frames, 3, size, size), dtype=np.uint8)
    visible = np.empty((b, frames, k), dtype=np.float32)
    present = np.asarray(scene.present, dtype=bool)
    half = math.ceil(float(np.max(scene.radius, where=present, initial=0.0)))
    clips_per_chunk = max(1, _FRAMES_PER_RENDER_CHUNK // frames)
    for start in range(0, b, clips_per_chunk):
        sl = slice(start, min(b, start + clips_per_chunk))
        _render_chunk(scene, sl, positions[sl], half, video[sl], visible[sl])
    return video, visible


def _rect_coverage(rects: np.ndarray, on: np.ndarray, size: int) -> np.ndarray:
    """Opacity (B, H, W) float32 of the union of axis-aligned rectangles, exact pixel areas."""
    grid = np.arange(size, dtype=np.float32)
    rects = np.asarray(rects, dtype=np.float32)
    clear = np.ones((rects.shape[0], size, size), dtype=np.float32)  # light let through
    for i in range(rects.shape[1]):
        x0, y0, x1, y1 = (rects[:, i, c, None] for c in range(4))  # (B, 1)
        cover_x = np.clip(np.minimum(x1, grid + 1) - np.maximum(x0, grid), 0.0, 1.0)
        cover_y = np.clip(np.minimum(y1, grid + 1) - np.maximum(y0, grid), 0.0, 1.0)
        cover_y *= np.asarray(on[:, i], dtype=np.float32)[:, None]
        clear *= 1.0 - cover_y[:, :, None] * cover_x[:, None, :]
    return 1.0 - clear


def _disc_coverage(coords: np.ndarray, centre: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Coverage (..., S, S) of discs on a window whose pixel centres are coords (..., 2, S)."""
    offset = (coords - centre[..., None]).astype(np.float32) ** 2  # (..., 2, S): dx^2, dy^2
    dist = np.sqrt(offset[..., 1, :, None] + offset[..., 0, None, :])
    return np.clip(radius[..., None, None].astype(np.float32) + 0.5 - dist, 0.0, 1.0)


def _fixed(value: np.ndarray) -> np.ndarray:
    """Fractions in [0, 1] as int64 multiples of 2**-_FIXED_BITS (products stay below 2**32)."""
    return np.rint(value * (1 << _FIXED_BITS)).astype(np.int64)


def _rgba(colour: tuple[int, int, int]) -> np.uint32:
    """An opaque RGB colour packed as the uint32 of its RGBA bytes (alpha byte unused, 0)."""
    return np.array([*colour, 0], dtype=np.uint8).view(np.uint32)[0]


def _colour(colour: tuple[int, int, int]) -> np.ndarray:
    return np.asarray(colour, dtype=np.float32)


def _blend(canvas: np.ndarray, index: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Paint ``colour`` (3,) with opacity ``alpha`` over the RGBA pixels ``canvas[index]``.

    The canvas holds each RGBA pixel as one uint32, so a window is one cheap gather and scatter.
    ``colour`` may also be per pixel, with the shape of ``index`` plus (3,).
    """
    under = canvas.take(index).view(np.uint8).reshape(*index.shape, 4)[..., :3]
    under = under.astype(np.float32)
    out = np.zeros((*index.shape, 4), dtype=np.uint8)
    out[..., :3] = under + alpha[..., None] * (colour - under) + 0.5  # round half up
    canvas[index] = out.view(np.uint32)[..., 0]


def _render_chunk(
    scene: Scene,
    sl: slice,
    positions: np.ndarray,
    half: int,
    video: np.ndarray,
    visible: np.ndarray,
) -> None:
    """Render clips ``sl`` into ``video`` and ``visible`` (views of the outputs).

    Each ball is computed on a (patch x patch) window around it, shifted inside the canvas; the
    shift never drops a covered in-frame pixel. The canvas is the frame, enlarged only when a
    ball's window is wider than the frame.
    """
    size = int(scene.size)
    n_clips, frames, k = positions.shape[:3]
    n = n_clips * frames
    patch = 2 * half + 1
    side = max(size, patch)
    present = np.repeat(np.asarray(scene.present[sl], dtype=bool), frames, axis=0)  # (N, K)
    radius = np.repeat(np.asarray(scene.radius[sl], dtype=np.float64), frames, axis=0)
    centre = positions.reshape(n, k, 2)

    # Static layers per clip: background and platforms under the balls, occluders over them.
    plat = _rect_coverage(scene.platforms[sl], scene.platform_present[sl], size)
    occ = _rect_coverage(scene.occluders[sl], scene.occluder_present[sl], size)
    base = np.full((n_clips, side, side), _rgba(BACKGROUND), dtype=np.uint32)
    clip, row, col = np.nonzero(plat)
    base_index = (clip * side + row) * side + col
    _blend(base.reshape(-1), base_index, plat[clip, row, col], _colour(PLATFORM_COLOUR))
    canvas = np.repeat(base[:, None], frames, axis=1).reshape(-1)
    see = np.zeros((n_clips, side, side), dtype=np.float32)  # light not stopped by occluders
    see[:, :size, :size] = 1.0 - occ

    # Ball windows and coverage: (N, K, patch, patch).
    corner = np.clip(np.floor(centre).astype(np.int64) - half, 0, side - patch)  # (N, K, 2)
    offsets = np.arange(patch)
    coords = corner[..., None] + offsets + 0.5  # (N, K, 2, patch) pixel centres
    alpha = _disc_coverage(coords, centre, radius) * present[..., None, None]
    pixel = (corner[..., 1, None, None] + offsets[:, None]) * side + corner[..., 0, None, None]
    pixel = pixel + offsets  # (N, K, patch, patch) pixel index inside a frame
    index = pixel + (np.arange(n) * side * side)[:, None, None, None]

    # Visible share: coverage seen through the occluders and the balls drawn later.
    # Sums are of fixed-point integers, so they are exact: ``visible`` is then bit-identical
    # whatever the window size (set by the batch's largest ball) or the CPU's summation order.
    area = _fixed(alpha).sum(axis=(2, 3))
    outside = present & ((centre < radius[..., None]) | (centre > size - radius[..., None])).any(-1)
    if outside.any():  # discs cut by the frame border: count their full area
        f, s = np.nonzero(outside)
        free = np.floor(centre[f, s])[..., None] - half + offsets + 0.5
        area[f, s] = _fixed(_disc_coverage(free, centre[f, s], radius[f, s])).sum(axis=(1, 2))
    clip_start = (np.repeat(np.arange(n_clips), frames) * side * side)[:, None, None, None]
    through = see.reshape(-1).take(pixel + clip_start)
    for s in range(k):
        for j in range(s + 1, k):
            reach = radius[:, s] + radius[:, j] + 1.0
            gap2 = ((centre[:, s] - centre[:, j]) ** 2).sum(axis=-1)
            f = np.flatnonzero(present[:, s] & present[:, j] & (gap2 < reach**2))
            if len(f):
                cover = _disc_coverage(coords[f, s], centre[f, j], radius[f, j])
                through[f, s] *= 1.0 - cover
    seen = (_fixed(alpha) * _fixed(through)).sum(axis=(2, 3))
    share = seen / np.maximum(area << _FIXED_BITS, 1)
    visible[...] = np.clip(share, 0.0, 1.0).reshape(n_clips, frames, k)

    # Paint balls in slot order, then occluders over everything.
    colours = np.repeat(np.asarray(scene.colour[sl], np.float32), frames, axis=0)  # (N, K, 3)
    for s in range(k):
        cover = alpha[:, s].reshape(-1)
        drawn = np.flatnonzero(cover > 0)  # only the covered pixels of each window
        colour = colours[:, s].take(drawn // (patch * patch), axis=0)
        _blend(canvas, index[:, s].reshape(-1).take(drawn), cover.take(drawn), colour)
    layers = canvas.reshape(n_clips, frames, side, side)[:, :, :size, :size]
    np.copyto(layers, _rgba(OCCLUDER_COLOUR), where=(occ >= 1.0)[:, None])
    clip, row, col = np.nonzero((occ > 0) & (occ < 1.0))  # anti-aliased occluder edges
    if len(clip):
        first = (clip[:, None] * frames + np.arange(frames)) * side * side  # (P, T)
        at = (first + (row * side + col)[:, None]).reshape(-1)
        cover = np.repeat(occ[clip, row, col], frames)
        _blend(canvas, at, cover, _colour(OCCLUDER_COLOUR))

    rgba = canvas.view(np.uint8).reshape(n_clips, frames, side, side, 4)
    video[...] = rgba[:, :, :size, :size, :3].transpose(0, 1, 4, 2, 3)


# ----------------------------------------------------------------------------------------------
# The world


def _grid_cells(size: int, diameter: float) -> int:
    """Cells per side of a grid whose cells each hold one ball of this diameter plus the gap."""
    return int(size // (diameter + PLACEMENT_GAP))


def _lerp(interval: tuple[float, float], u: np.ndarray) -> np.ndarray:
    """Map uniforms in [0, 1) onto the (min, max) interval."""
    return interval[0] + u * (interval[1] - interval[0])


def _count(interval: tuple[int, int], u: np.ndarray) -> np.ndarray:
    """Map uniforms in [0, 1) onto the ints of the closed (min, max) interval, equally likely."""
    span = interval[1] - interval[0] + 1
    return interval[0] + np.minimum((u * span).astype(np.int64), span - 1)


def _directions(u: np.ndarray) -> np.ndarray:
    """Uniform unit vectors (..., 2) from (..., tries, 2) uniforms: the first point that falls
    inside the unit disc, normalised. Only +, *, sqrt are used (exactly rounded everywhere,
    unlike sin/cos), so directions are bit-identical on any machine."""
    point = 2.0 * u - 1.0
    norm2 = (point**2).sum(axis=-1)
    ok = (norm2 > 1e-6) & (norm2 <= 1.0)
    first = ok.argmax(axis=-1)  # if all miss, the first point still gives a direction
    pick = np.take_along_axis(point, first[..., None, None], axis=-2)[..., 0, :]
    norm = np.sqrt(np.take_along_axis(norm2, first[..., None], axis=-1))
    return pick / np.maximum(norm, 1e-12)


class _Draws:
    """Hands out consecutive columns of a (B, D) block of uniforms."""

    def __init__(self, block: np.ndarray) -> None:
        self.block, self.used = block, 0

    def take(self, n: int) -> np.ndarray:
        self.used += n
        return self.block[:, self.used - n : self.used]


class Physics2D:
    """Balls of distinct colours bouncing in a box, with gravity, platforms and occluders.

    Per clip (all drawn from ``np.random.default_rng(seed)``): a ball count in ``num_balls``,
    distinct colours from the first ``palette_size`` palette entries, radius, speed and direction
    per ball (mass proportional to area), gravity on with probability ``gravity_prob``, thin
    horizontal platforms and tall occluders. Balls start without overlap; platforms avoid the
    initial balls and leave a ball-wide gap to walls and to each other, so nothing gets trapped
    (a platform that finds no such spot in a few tries is left out).

    ``generate(seeds)`` returns ``video`` uint8 (B, T, 3, H, W) and ``state`` float32 arrays:
    ``position`` and ``velocity`` (B, T, K, 2) (see :func:`simulate` for the velocity timing),
    ``visible``, ``present``, ``radius``, ``colour_id`` (B, T, K), K = ``max_balls``. Absent
    slots are zeros, with ``colour_id`` -1.
    """

    channels: int = 3

    def __init__(
        self,
        size: int = 64,
        frames: int = 16,
        num_balls: tuple[int, int] = (1, 4),
        radius: tuple[float, float] = (3.0, 6.0),
        speed: tuple[float, float] = (0.5, 3.0),
        gravity: float = 0.15,
        gravity_prob: float = 0.5,
        platforms: tuple[int, int] = (0, 2),
        occluders: tuple[int, int] = (0, 2),
        occluder_width: tuple[float, float] = (6.0, 16.0),
        substeps: int = 8,
        palette_size: int | None = None,
        platform_length: tuple[float, float] = (12.0, 30.0),
        platform_thickness: tuple[float, float] = (3.0, 4.0),
        occluder_height: tuple[float, float] = (0.4, 0.8),
    ) -> None:
        check_int("size", size, 16, 512)
        check_int("frames", frames, 1, 100_000)
        check_pair("num_balls", num_balls, 1, MAX_BALLS, ints=True)
        check_pair("radius", radius, 0.5, size / 2 - 1)
        check_pair("speed", speed, 0.0, size / 4)
        check_range("gravity", float(gravity), 0.0, 2.0)
        check_range("gravity_prob", float(gravity_prob), 0.0, 1.0)
        check_pair("platforms", platforms, 0, MAX_RECTS, ints=True)
        check_pair("occluders", occluders, 0, MAX_RECTS, ints=True)
        check_pair("occluder_width", occluder_width, 1.0, float(size))
        check_pair("occluder_height", occluder_height, 0.05, 1.0)
        check_pair("platform_length", platform_length, 1.0, 4096.0)
        check_pair("platform_thickness", platform_thickness, 1.0, size / 4)
        check_int("substeps", substeps, 1, 64)
        if palette_size is None:
            palette_size = len(PALETTE)
        check_int("palette_size", palette_size, num_balls[1], len(PALETTE))

        cells = _grid_cells(size, 2 * radius[1])
        if cells * cells < num_balls[1]:
            raise ValueError(
                f"num_balls={tuple(num_balls)} with radius={tuple(radius)}: more balls than fit "
                f"in a {size}x{size} arena; at most {cells * cells} balls of radius {radius[1]} "
                "fit, lower num_balls[1] or radius[1] or raise size"
            )
        # Fastest a ball can get (initial speed plus a fall across the arena) must move less
        # than the smallest radius per sub-step, so no collision is skipped over.
        top_speed = math.sqrt(speed[1] ** 2 + 2 * gravity * size)
        if top_speed / substeps > radius[0]:
            raise ValueError(
                f"speed={tuple(speed)}, gravity={gravity}: balls can reach {top_speed:.2f} "
                f"px/frame, more than radius[0]={radius[0]} px per sub-step; raise substeps "
                f"(now {substeps}) to >= {math.ceil(top_speed / radius[0])} or lower the speeds"
            )

        self.size, self.frames, self.substeps = int(size), int(frames), int(substeps)
        self.num_balls = (int(num_balls[0]), int(num_balls[1]))
        self.radius = (float(radius[0]), float(radius[1]))
        self.speed = (float(speed[0]), float(speed[1]))
        self.gravity, self.gravity_prob = float(gravity), float(gravity_prob)
        self.platforms = (int(platforms[0]), int(platforms[1]))
        self.occluders = (int(occluders[0]), int(occluders[1]))
        self.occluder_width = (float(occluder_width[0]), float(occluder_width[1]))
        self.occluder_height = (float(occluder_height[0]), float(occluder_height[1]))
        self.platform_length = (float(platform_length[0]), float(platform_length[1]))
        self.platform_thickness = (float(platform_thickness[0]), float(platform_thickness[1]))
        self.palette_size = int(palette_size)
        self.max_balls = self.num_balls[1]

    # -- sampling --------------------------------------------------------------------------

    def sample_scenes(self, seeds: Sequence[int] | np.ndarray) -> Scene:
        """Initial conditions for one clip per seed; clip i depends on seeds[i] only.

        Each clip takes one fixed-size block of uniforms from ``np.random.default_rng(seed)``
        (a rare fallback draws more from the same generator); turning them into a scene is
        vectorised over the batch.
        """
        seeds = as_seeds(seeds)
        b, k = len(seeds), self.max_balls
        rngs = [np.random.default_rng(int(seed)) for seed in seeds]
        block = np.empty((b, self._block_size))
        for row, rng in zip(block, rngs, strict=True):
            rng.random(out=row)
        draws = _Draws(block)

        present = np.arange(k) < _count(self.num_balls, draws.take(1)[:, 0])[:, None]
        colour_id = np.argsort(draws.take(self.palette_size), axis=1)[:, :k]  # distinct
        radius = np.where(present, _lerp(self.radius, draws.take(k)), 0.0)
        speed = _lerp(self.speed, draws.take(k))
        points = draws.take(k * _DIRECTION_TRIES * 2).reshape(b, k, _DIRECTION_TRIES, 2)
        velocity = _directions(points)
        velocity *= speed[..., None]
        gravity = np.where(draws.take(1)[:, 0] < self.gravity_prob, self.gravity, 0.0)
        spots = draws.take(k * _TRIES * 2).reshape(b, k, _TRIES, 2)
        position, placed = self._place_balls(spots, radius, present)
        for i in np.flatnonzero(~placed):  # rejection ran out: jittered grid, same generator
            position[i, present[i]] = self._grid_balls(rngs[i], radius[i, present[i]])

        n_plat = _count(self.platforms, draws.take(1)[:, 0])
        n = self.platforms[1]
        plat_draws = draws.take(n * _TRIES * 4).reshape(b, n, _TRIES, 4)
        platforms, platform_on = self._place_platforms(
            n_plat, plat_draws, position, radius, present
        )

        n_occ = _count(self.occluders, draws.take(1)[:, 0])
        occ = draws.take(self.occluders[1] * 4).reshape(b, self.occluders[1], 4)
        width = _lerp(self.occluder_width, occ[..., 0])
        height = _lerp(self.occluder_height, occ[..., 1]) * self.size
        x0, y0 = occ[..., 2] * (self.size - width), occ[..., 3] * (self.size - height)
        occluder_on = np.arange(self.occluders[1]) < n_occ[:, None]
        occluders = np.stack([x0, y0, x0 + width, y0 + height], axis=-1) * occluder_on[..., None]

        on = present[..., None]
        return Scene(
            position=np.where(on, position, 0.0),
            velocity=np.where(on, velocity, 0.0),
            radius=radius,
            mass=radius**2,
            colour=np.where(on, PALETTE[colour_id], 0).astype(np.uint8),
            present=present,
            gravity=gravity,
            platforms=platforms,
            platform_present=platform_on,
            occluders=occluders,
            occluder_present=occluder_on,
            size=self.size,
        )

    @property
    def _block_size(self) -> int:
        """Uniforms per clip, in the order :meth:`sample_scenes` takes them."""
        k = self.max_balls
        balls = 1 + self.palette_size + 2 * k + k * _DIRECTION_TRIES * 2 + 1 + k * _TRIES * 2
        return balls + 1 + self.platforms[1] * _TRIES * 4 + 1 + self.occluders[1] * 4

    def _place_balls(
        self, spots: np.ndarray, radius: np.ndarray, present: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random sequential placement: each ball takes its first candidate spot clear of the
        balls before it. Returns centres (B, K, 2) and whether every clip found room."""
        b, k = radius.shape
        candidates = radius[..., None, None] + spots * (self.size - 2 * radius)[..., None, None]
        centres = np.zeros((b, k, 2))
        placed = np.ones(b, dtype=bool)
        rows = np.arange(b)
        for i in range(k):
            ok = np.ones((b, _TRIES), dtype=bool)
            for j in range(i):
                offset = candidates[:, i] - centres[:, j, None]
                dist = np.sqrt((offset**2).sum(axis=-1))
                need = radius[:, i] + radius[:, j] + PLACEMENT_GAP
                ok &= ~present[:, j, None] | (dist >= need[:, None])
            centres[:, i] = candidates[rows, i, ok.argmax(axis=1)]
            placed &= ~present[:, i] | ok.any(axis=1)
        return centres, placed

    def _grid_balls(self, rng: np.random.Generator, radius: np.ndarray) -> np.ndarray:
        """Centres for balls of these radii in distinct cells of a grid that always fits them."""
        cell = 2 * self.radius[1] + PLACEMENT_GAP
        per_side = _grid_cells(self.size, 2 * self.radius[1])
        chosen = rng.choice(per_side * per_side, size=len(radius), replace=False)
        corner = np.stack([chosen % per_side, chosen // per_side], axis=1) * cell
        room = (cell - PLACEMENT_GAP - 2 * radius)[:, None]  # free play of each ball in its cell
        jitter = rng.random((len(radius), 2)) * room
        return corner + PLACEMENT_GAP / 2 + radius[:, None] + jitter

    def _place_platforms(
        self,
        count: np.ndarray,
        draws: np.ndarray,
        centres: np.ndarray,
        radius: np.ndarray,
        present: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Thin horizontal bars clear of the initial balls, at least a ball-width (plus 1 px)
        from the walls and from each other, so no ball can get wedged. A bar that finds no such
        spot among its candidates is left out. Returns rectangles (B, P, 4) and flags (B, P)."""
        b, n = draws.shape[:2]
        margin = 2 * self.radius[1] + 1.0
        length = _lerp(self.platform_length, draws[..., 0])  # (B, P, tries)
        thick = _lerp(self.platform_thickness, draws[..., 1])
        room_x = self.size - 2 * margin - length
        room_y = self.size - 2 * margin - thick
        x0, y0 = margin + draws[..., 2] * room_x, margin + draws[..., 3] * room_y
        rects = np.stack([x0, y0, x0 + length, y0 + thick], axis=-1)  # (B, P, tries, 4)
        ok = (room_x >= 0) & (room_y >= 0) & (np.arange(n) < count[:, None])[..., None]
        ball = centres[:, None, None]  # (B, 1, 1, K, 2)
        nearest = np.clip(ball, rects[..., None, :2], rects[..., None, 2:])
        clearance = np.sqrt(((ball - nearest) ** 2).sum(axis=-1))  # (B, P, tries, K)
        clear = (clearance >= (radius + PLACEMENT_GAP)[:, None, None]) | ~present[:, None, None]
        ok &= clear.all(axis=-1)
        chosen = np.zeros((b, n, 4))
        on = np.zeros((b, n), dtype=bool)
        rows = np.arange(b)
        for p in range(n):
            fits = ok[:, p]
            for q in range(p):
                gap_x = np.maximum(
                    chosen[:, q, None, 0] - rects[:, p, :, 2],
                    rects[:, p, :, 0] - chosen[:, q, None, 2],
                )
                gap_y = np.maximum(
                    chosen[:, q, None, 1] - rects[:, p, :, 3],
                    rects[:, p, :, 1] - chosen[:, q, None, 3],
                )
                fits = fits & (~on[:, q, None] | (np.maximum(gap_x, gap_y) >= margin))
            on[:, p] = fits.any(axis=1)
            chosen[:, p] = rects[rows, p, fits.argmax(axis=1)] * on[:, p, None]
        return chosen, on

    # -- clips -----------------------------------------------------------------------------

    def generate(self, seeds: Sequence[int] | np.ndarray) -> Batch:
        """One clip per seed: ``{"video": uint8 (B, T, 3, H, W), "state": {...}}``."""
        scene = self.sample_scenes(seeds)
        positions, velocities = simulate(scene, self.frames, self.substeps)
        video, visible = render(scene, positions)
        present = scene.present[:, None, :].repeat(self.frames, axis=1)  # (B, T, K)
        on = present[..., None]
        colour_id = palette_index(scene.colour)
        state = {
            "position": np.where(on, positions, 0.0).astype(np.float32),
            "velocity": np.where(on, velocities, 0.0).astype(np.float32),
            "visible": np.where(present, visible, 0.0).astype(np.float32),
            "present": present.astype(np.float32),
            "radius": np.where(present, scene.radius[:, None, :], 0.0).astype(np.float32),
            "colour_id": np.where(present, colour_id[:, None, :], -1).astype(np.float32),
        }
        return {"video": video, "state": state}

    def __repr__(self) -> str:
        return (
            f"Physics2D(size={self.size}, frames={self.frames}, num_balls={self.num_balls}, "
            f"radius={self.radius}, speed={self.speed}, gravity={self.gravity})"
        )

"""Two Rooms: a point agent, an inner wall with a door, 2-D displacement actions.

The world of the Two Rooms planning benchmark (its protocol is in ``docs/protocols.md``).

The environment that eb_jepa and PLDM plan in, rebuilt in vectorised numpy so that it serves three
users at once: :class:`TwoRoomsWalks` streams random-walk training windows, ``TwoRoomsEnv`` is
the gymnasium environment a planner acts in (built on first access, since gymnasium is the
optional ``[gym]`` extra), and the pure functions :func:`move`,
:func:`render_frames` and :func:`sample_start_goal` let a planner use the true simulator as a
batched dynamics model.

Geometry (frames 65x65, same pixel convention as ``physics2d``): positions are ``(x, y)`` px with
``y`` growing downward, and pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``. The solid is the
union of the wall pixels' squares; the agent is a point that may touch it but never enters it.

- border walls: the outer 5 pixels, so the agent lives in the box ``[5, 60] x [5, 60]``;
- inner wall: columns ``wall_x - 1 .. wall_x + 1`` (3 px thick: solid where
  ``wall_x - 1 < x < wall_x + 2``);
- door: rows ``door_y - 4 .. door_y + 4`` of the inner wall are open (9 px, ``y`` in
  ``[door_y - 4, door_y + 5]``).

A move is the segment from the position to ``position + action``; it stops at the first point
where it would enter the solid (no sliding), so the agent crosses the inner wall only through the
door and never leaves the arena, however large the action.

Observations have 2 channels: the agent as a Gaussian dot (sigma 1.3 px, peak 255, evaluated at
pixel centres) and the wall mask (255 on wall pixels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from jepa_world.checks import check_int, check_interval, check_range
from jepa_world.worlds.agent_env import env_base, import_gymnasium, lazy_class
from jepa_world.worlds.base import Batch, as_seeds
from jepa_world.worlds.headings import reflect, wrap

__all__ = [
    "ACTION_BOUND",
    "ARENA_HIGH",
    "ARENA_LOW",
    "DOOR_HALF",
    "DOOR_Y_LIMITS",
    "SIGMA",
    "SIZE",
    "WALL_X_LIMITS",
    "TwoRoomsWalks",
    "is_free",
    "move",
    "render_frames",
    "sample_start_goal",
    "wall_mask",
]

SIZE = 65
"""Side of the square observation, in pixels."""
BORDER = 5
ARENA_LOW = float(BORDER)  # the agent's x and y stay in [ARENA_LOW, ARENA_HIGH]
"""Lowest x and y the agent's centre can take (inside the border wall)."""
ARENA_HIGH = float(SIZE - BORDER)
"""Highest x and y the agent's centre can take (inside the border wall)."""
WALL_HALF = 1  # inner wall = columns wall_x - 1 .. wall_x + 1
DOOR_HALF = 4  # door = rows door_y - 4 .. door_y + 4
"""Half height of the door: it spans rows ``door_y - DOOR_HALF .. door_y + DOOR_HALF``."""
SIGMA = 1.3
"""Standard deviation of the agent's Gaussian dot, in pixels."""
ACTION_BOUND = 2.45
"""Bound of each action component, px per step: the env's action space is ``[-bound, bound]^2``."""
WALL_X_LIMITS = (12, 52)  # both rooms keep room for a 2-sigma margin on each side
"""Range of the inner wall's x, leaving both rooms room for a 2-sigma margin."""
DOOR_Y_LIMITS = (BORDER + DOOR_HALF, SIZE - 1 - BORDER - DOOR_HALF)  # door rows inside the arena
"""Range of the door's centre row, so the whole door lies inside the arena."""
START_MARGIN = 1.0  # px between a walk's start and any wall
MOUTH = 4.0  # px from the wall's centre line to the door mouths a routed walk steers through


# --------------------------------------------------------------------------------------------
# Pure geometry, vectorised over any leading shape
# --------------------------------------------------------------------------------------------


def _wall_faces(wall_x: np.ndarray, door_y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Faces of the inner wall's two solid blocks: left, right x; door top, door bottom y."""
    wall_x = np.asarray(wall_x, dtype=np.float64)
    door_y = np.asarray(door_y, dtype=np.float64)
    return wall_x - WALL_HALF, wall_x + WALL_HALF + 1, door_y - DOOR_HALF, door_y + DOOR_HALF + 1


def is_free(position: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """Whether each ``(x, y)`` is a place the agent may be (in the arena, not inside a wall)."""
    p = np.asarray(position, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    left, right, top, bottom = _wall_faces(wall_x, door_y)
    in_arena = (x >= ARENA_LOW) & (x <= ARENA_HIGH) & (y >= ARENA_LOW) & (y <= ARENA_HIGH)
    in_wall = (left < x) & (x < right) & ((y < top) | (y > bottom))
    return in_arena & ~in_wall


def _slab(p: np.ndarray, d: np.ndarray, lo: Any, hi: Any) -> tuple[np.ndarray, np.ndarray]:
    """Times at which ``p + t d`` enters and leaves the open interval ``(lo, hi)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - p) / d
        t2 = (hi - p) / d
    t_in, t_out = np.minimum(t1, t2), np.maximum(t1, t2)
    still = d == 0
    inside = (lo < p) & (p < hi)
    t_in = np.where(still, np.where(inside, -np.inf, np.inf), t_in)
    t_out = np.where(still, np.where(inside, np.inf, -np.inf), t_out)
    return t_in, t_out


def _arena_exit(p: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Time at which ``p + t d`` reaches the arena box along one axis (inf when still)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, (ARENA_HIGH - p) / d, np.where(d < 0, (ARENA_LOW - p) / d, np.inf))


def _move(
    position: np.ndarray, step: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolve already-clipped displacements against the walls.

    Returns the new positions and, per move, whether it was stopped by a vertical face (``hit_x``)
    or a horizontal face (``hit_y``); the random walks reflect their heading on those.
    """
    x, y = position[..., 0], position[..., 1]
    dx, dy = step[..., 0], step[..., 1]
    left, right, top, bottom = _wall_faces(wall_x, door_y)
    x_in, x_out = _slab(x, dx, left, right)
    candidates = [(_arena_exit(x, dx), True, False), (_arena_exit(y, dy), False, True)]
    for y_lo, y_hi in ((-np.inf, top), (bottom, np.inf)):  # the blocks above and below the door
        y_in, y_out = _slab(y, dy, y_lo, y_hi)
        enter, leave = np.maximum(x_in, y_in), np.minimum(x_out, y_out)
        hit = (enter < leave) & (leave > 0) & (enter < 1)
        candidates.append(
            (np.where(hit, np.maximum(enter, 0.0), np.inf), x_in >= y_in, y_in >= x_in)
        )
    t = np.ones(np.broadcast(x, dx, left).shape)
    for tc, _, _ in candidates:
        t = np.minimum(t, tc)
    blocked = t < 1
    hit_x = np.zeros(t.shape, dtype=bool)
    hit_y = np.zeros(t.shape, dtype=bool)
    for tc, fx, fy in candidates:
        limiting = blocked & (tc == t)
        hit_x |= limiting & fx
        hit_y |= limiting & fy
    new_x = np.clip(x + t * dx, ARENA_LOW, ARENA_HIGH)
    new_y = np.clip(y + t * dy, ARENA_LOW, ARENA_HIGH)
    new_x, new_y = _push_out(new_x, new_y, left, right, top, bottom)
    return np.stack([new_x, new_y], axis=-1), hit_x, hit_y


def _push_out(x, y, left, right, top, bottom) -> tuple[np.ndarray, np.ndarray]:
    """Put points that rounding left a hair inside the inner wall back on its nearest face."""
    upper = (left < x) & (x < right) & (y < top)
    lower = (left < x) & (x < right) & (y > bottom)
    inside = upper | lower
    if not inside.any():
        return x, y
    gaps = np.stack([x - left, right - x, np.where(upper, top - y, y - bottom)])
    face = np.argmin(gaps, axis=0)
    x = np.where(inside & (face == 0), left, np.where(inside & (face == 1), right, x))
    y = np.where(inside & (face == 2), np.where(upper, top, bottom), y)
    return x, y


def move(
    position: np.ndarray,
    action: np.ndarray,
    wall_x: np.ndarray,
    door_y: np.ndarray,
    bound: float = ACTION_BOUND,
) -> np.ndarray:
    """True dynamics: where ``action`` (clipped to ``[-bound, bound]`` per axis) takes the agent.

    ``position`` and ``action`` are ``(..., 2)``; ``wall_x`` and ``door_y`` broadcast against
    ``position[..., 0]``. Positions must be free (see :func:`is_free`); the result always is.
    """
    p = np.asarray(position, dtype=np.float64)
    a = np.asarray(action, dtype=np.float64)
    if p.shape[-1:] != (2,) or a.shape[-1:] != (2,):
        raise ValueError(
            f"position and action must end in an (x, y) axis of size 2, got {p.shape}, {a.shape}"
        )
    if not (np.isfinite(p).all() and np.isfinite(a).all()):
        raise ValueError("position and action must be finite (no NaN or inf)")
    new, _, _ = _move(p, np.clip(a, -bound, bound), wall_x, door_y)
    return new


def wall_mask(wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """The wall channel, uint8 ``(B, 65, 65)``: 255 on wall pixels, 0 elsewhere."""
    wall_x = np.atleast_1d(np.asarray(wall_x)).astype(np.int64)
    door_y = np.atleast_1d(np.asarray(door_y)).astype(np.int64)
    idx = np.arange(SIZE)
    border = (idx < BORDER) | (idx >= SIZE - BORDER)
    frame = border[:, None] | border[None, :]
    columns = np.abs(idx[None, :] - wall_x[:, None]) <= WALL_HALF  # (B, W)
    rows = np.abs(idx[None, :] - door_y[:, None]) > DOOR_HALF  # (B, H)
    inner = rows[:, :, None] & columns[:, None, :]
    return ((frame[None] | inner) * np.uint8(255)).astype(np.uint8)


def _dot(positions: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian dots, uint8 ``(N, 65, 65)``, from separable 1-D profiles at pixel centres."""
    centres = np.arange(SIZE, dtype=np.float32) + np.float32(0.5)
    p = positions.astype(np.float32)
    scale = np.float32(-0.5 / sigma**2)
    gx = np.exp(scale * (centres[None, :] - p[:, 0, None]) ** 2)
    gy = np.exp(scale * (centres[None, :] - p[:, 1, None]) ** 2) * np.float32(255.0)
    picture = gy[:, :, None] * gx[:, None, :]
    picture += np.float32(0.5)
    return picture.astype(np.uint8)


def render_frames(
    positions: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray, sigma: float = SIGMA
) -> np.ndarray:
    """Observations uint8 ``(B, T, 2, 65, 65)`` for positions ``(B, T, 2)`` px.

    ``wall_x`` and ``door_y`` are per clip, ``(B,)``. Channel 0 is the agent (Gaussian dot, peak
    255), channel 1 the wall mask.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 2:
        raise ValueError(f"positions must be (B, T, 2), got shape {p.shape}")
    b, t = p.shape[:2]
    wall_x = np.broadcast_to(np.asarray(wall_x), (b,))
    door_y = np.broadcast_to(np.asarray(door_y), (b,))
    out = np.empty((b, t, 2, SIZE, SIZE), dtype=np.uint8)
    out[:, :, 0] = _dot(p.reshape(b * t, 2), sigma).reshape(b, t, SIZE, SIZE)
    out[:, :, 1] = wall_mask(wall_x, door_y)[:, None]
    return out


def _room_bounds(wall_x: np.ndarray, margin: float) -> tuple[np.ndarray, ...]:
    """x ranges of the left and right rooms keeping ``margin`` from every wall face."""
    left, right, _, _ = _wall_faces(wall_x, 0)
    return ARENA_LOW + margin, left - margin, right + margin, ARENA_HIGH - margin


def sample_start_goal(
    rng: np.random.Generator,
    wall_x: np.ndarray | int,
    door_y: np.ndarray | int | None = None,
    margin: float = 2 * SIGMA,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and goal in opposite rooms, ``margin`` px from every wall (the benchmark's "medium"
    difficulty).

    The start is in the left room and the goal in the right one, swapped for half of the
    episodes. ``door_y`` is only checked: the rooms do not depend on the door. Returns two float64
    arrays ``(..., 2)`` shaped like ``wall_x`` plus the (x, y) axis.
    """
    wall = np.asarray(wall_x)
    _check_layout(wall, door_y)
    check_range("margin", margin, 0.0, 5.0)
    shape = wall.shape
    a_lo, a_hi, b_lo, b_hi = _room_bounds(wall, margin)
    u = rng.random((5, *shape))
    left = np.stack([a_lo + u[0] * (a_hi - a_lo), _span(u[1], margin)], axis=-1)
    right = np.stack([b_lo + u[2] * (b_hi - b_lo), _span(u[3], margin)], axis=-1)
    swap = (u[4] < 0.5)[..., None]
    return np.where(swap, right, left), np.where(swap, left, right)


def _span(u: np.ndarray, margin: float) -> np.ndarray:
    """Uniform draws ``u`` mapped onto the arena's y range less ``margin`` on both ends."""
    return ARENA_LOW + margin + u * (ARENA_HIGH - ARENA_LOW - 2 * margin)


def _check_layout(wall_x: Any, door_y: Any = None) -> None:
    """Wall and door positions must be whole pixel indices inside their limits."""
    checks = [("wall_x", wall_x, WALL_X_LIMITS)]
    if door_y is not None:
        checks.append(("door_y", door_y, DOOR_Y_LIMITS))
    for name, value, (low, high) in checks:
        arr = np.asarray(value)
        if not np.issubdtype(arr.dtype, np.number) or (arr != np.round(arr)).any():
            raise ValueError(f"{name} must hold whole pixel indices, got {value!r}")
        if arr.size and (arr.min() < low or arr.max() > high):
            raise ValueError(f"{name}={value!r} is out of range: allowed [{low}, {high}]")


# --------------------------------------------------------------------------------------------
# Random-walk training windows
# --------------------------------------------------------------------------------------------


class TwoRoomsWalks:
    """Random-walk windows in Two Rooms, the planning benchmark's training data.

    No reward and no expert: the walks only show how actions move the agent.

    Each seed draws its own layout (``wall_x`` in ``wall_range``, ``door_y`` in ``door_range``)
    and its own ``walk_length``-frame walk, and returns one ``frames``-frame window of it (offset
    uniform; for a walk routed through the door, uniform among the windows that show its first
    crossing): clip ``i`` depends on ``seeds[i]`` only. A walk starts uniformly in
    the free part of either room with a uniform heading; each step the heading turns by a von
    Mises draw (concentration ``turn_concentration``) and the agent asks for a displacement of
    length ``N(step_mean, step_std)`` clipped to ``step_range``. A fraction ``door_fraction`` of
    the walks is routed through the door: their heading is also pulled (by ``steer_gain`` of the
    angle error per step) toward the door's near mouth, then, once level with the door, toward
    its far mouth; after crossing they wander freely. A move blocked by a wall stops at the wall
    and the heading reflects off it, except in a fraction ``push_fraction`` of the walks, which
    keep their heading (so they keep pushing into the wall until the von Mises turns take them
    away: the sustained contacts a planner's samples are full of, which reflected walks rarely
    show). ``actions[t]`` is the displacement asked at step ``t`` (the wall may shorten the actual
    move); the last row is padding 0.
    """

    channels = 2
    size = SIZE

    def __init__(
        self,
        frames: int = 17,
        walk_length: int = 91,
        door_fraction: float = 0.35,
        step_mean: float = 1.0,
        step_std: float = 0.4,
        step_range: Sequence[float] = (0.2, 1.8),
        turn_concentration: float = 5.0,
        steer_gain: float = 0.5,
        wall_range: Sequence[int] = (20, 44),
        door_range: Sequence[int] = (12, 52),
        sigma: float = SIGMA,
        push_fraction: float = 0.0,
    ) -> None:
        check_int("frames", frames, 2, 10_000)
        check_int("walk_length", walk_length, frames, 100_000)
        check_range("door_fraction", door_fraction, 0.0, 1.0)
        check_range("step_mean", step_mean, 0.0, ACTION_BOUND)
        check_range("step_std", step_std, 0.0, ACTION_BOUND)
        check_interval("step_range", step_range, 0.0, ACTION_BOUND)
        check_range("turn_concentration", turn_concentration, 0.0, 1e6)
        check_range("steer_gain", steer_gain, 0.0, 1.0)
        check_interval("wall_range", wall_range, *WALL_X_LIMITS)
        check_interval("door_range", door_range, *DOOR_Y_LIMITS)
        check_range("sigma", sigma, 0.3, 5.0)
        check_range("push_fraction", push_fraction, 0.0, 1.0)
        for name, pair in (("wall_range", wall_range), ("door_range", door_range)):
            if any(int(v) != v for v in pair):
                raise ValueError(f"{name}={tuple(pair)!r} must hold whole pixel indices")
        self.frames = int(frames)
        self.walk_length = int(walk_length)
        self.door_fraction = float(door_fraction)
        self.step_mean = float(step_mean)
        self.step_std = float(step_std)
        self.step_range = (float(step_range[0]), float(step_range[1]))
        self.turn_concentration = float(turn_concentration)
        self.steer_gain = float(steer_gain)
        self.wall_range = (int(wall_range[0]), int(wall_range[1]))
        self.door_range = (int(door_range[0]), int(door_range[1]))
        self.sigma = float(sigma)
        self.push_fraction = float(push_fraction)

    def _draw(self, seeds: np.ndarray) -> dict[str, np.ndarray]:
        """All random draws of each walk, from ``default_rng(seed)`` of that walk alone."""
        n, moves = len(seeds), self.walk_length - 1
        u = np.empty((n, 7))
        turns = np.empty((n, moves))
        lengths = np.empty((n, moves))
        push = np.empty(n)
        for i, seed in enumerate(seeds):
            rng = np.random.default_rng(int(seed))
            u[i] = rng.random(7)
            turns[i] = rng.vonmises(0.0, self.turn_concentration, moves)
            lengths[i] = rng.normal(self.step_mean, self.step_std, moves)
            push[i] = rng.random()  # drawn last: the other draws do not depend on push_fraction
        w0, w1 = self.wall_range
        d0, d1 = self.door_range
        wall_x = w0 + np.minimum(np.floor(u[:, 0] * (w1 - w0 + 1)), w1 - w0)
        door_y = d0 + np.minimum(np.floor(u[:, 1] * (d1 - d0 + 1)), d1 - d0)
        # start: uniform over both rooms' free area, START_MARGIN px from every wall
        a_lo, a_hi, b_lo, b_hi = _room_bounds(wall_x, START_MARGIN)
        s = u[:, 4] * ((a_hi - a_lo) + (b_hi - b_lo))
        x = np.where(s < a_hi - a_lo, a_lo + s, b_lo + s - (a_hi - a_lo))
        y = ARENA_LOW + START_MARGIN + u[:, 5] * (ARENA_HIGH - ARENA_LOW - 2 * START_MARGIN)
        return {
            "wall_x": wall_x,
            "door_y": door_y,
            "routed": u[:, 2] < self.door_fraction,
            "window": u[:, 3],
            "start": np.stack([x, y], axis=-1),
            "heading": 2 * math.pi * u[:, 6] - math.pi,
            "turns": turns,
            "lengths": np.clip(lengths, *self.step_range),
            "reflect": push >= self.push_fraction,
        }

    def _simulate(self, draws: dict[str, np.ndarray], frames: int) -> tuple[np.ndarray, ...]:
        """Run the first ``frames`` frames of every walk: positions (B, frames, 2), asked steps."""
        wall_x, door_y, routed = draws["wall_x"], draws["door_y"], draws["routed"]
        n = len(wall_x)
        pos = np.empty((n, frames, 2))
        asked = np.zeros((n, frames, 2))
        pos[:, 0] = draws["start"]
        heading = draws["heading"].copy()
        centre_x, door_centre = wall_x + 0.5, door_y + 0.5
        side = np.sign(draws["start"][:, 0] - centre_x)  # -1: starts in the left room
        near_x, far_x = centre_x + side * MOUTH, centre_x - side * MOUTH
        steering = routed.copy()
        for t in range(frames - 1):
            p = pos[:, t]
            if steering.any():
                crossed = side * (p[:, 0] - centre_x) < -(WALL_HALF + 1.0)
                steering &= ~crossed
                level = np.abs(p[:, 1] - door_centre) <= DOOR_HALF - 2.0
                target_x = np.where(level, far_x, near_x)
                want = np.arctan2(door_centre - p[:, 1], target_x - p[:, 0])
                heading += np.where(steering, self.steer_gain * wrap(want - heading), 0.0)
            heading = wrap(heading + draws["turns"][:, t])
            step = draws["lengths"][:, t, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
            asked[:, t] = step
            pos[:, t + 1], hit_x, hit_y = _move(p, step, wall_x, door_y)
            heading = reflect(heading, hit_x & draws["reflect"], hit_y & draws["reflect"])
        return pos, asked

    def walks(self, seeds: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """The whole walks behind ``generate(seeds)`` (float64), for inspection and tests.

        Keys: ``position`` (B, walk_length, 2), ``actions`` (B, walk_length, 2) (last row 0),
        ``wall_x``, ``door_y`` (B,), ``routed`` (B,) bool, ``offset`` (B,) first frame of the
        window that :meth:`generate` returns. A routed walk's window is drawn among those that
        contain its first door crossing, so that ``door_fraction`` of the windows show one.
        """
        draws = self._draw(as_seeds(seeds))
        pos, asked = self._simulate(draws, self.walk_length)
        side = np.sign(pos[:, :, 0] - (draws["wall_x"][:, None] + 0.5))
        changed = side != side[:, :1]
        crossed = changed.any(axis=1)
        first = np.where(crossed, changed.argmax(axis=1), self.walk_length)  # first frame across
        span = self.walk_length - self.frames + 1
        lo = np.maximum(first - self.frames + 1, 0)
        hi = np.minimum(first - 1, span - 1)
        around = lo + np.minimum(np.floor(draws["window"] * (hi - lo + 1)), hi - lo)
        anywhere = np.minimum(np.floor(draws["window"] * span), span - 1)
        offset = np.where(draws["routed"] & crossed, around, anywhere).astype(np.int64)
        keys = ("wall_x", "door_y", "routed")
        return {"position": pos, "actions": asked, "offset": offset, **{k: draws[k] for k in keys}}

    def generate(self, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Windows: ``video`` uint8 (B, T, 2, 65, 65), ``actions`` float32 (B, T, 2), ``state``."""
        walks = self.walks(seeds)
        n, t = len(walks["offset"]), self.frames
        index = walks["offset"][:, None] + np.arange(t)[None, :]
        rows = np.arange(n)[:, None]
        position = walks["position"][rows, index]
        actions = walks["actions"][rows, index].astype(np.float32)
        actions[:, -1] = 0.0
        wall_x, door_y = walks["wall_x"], walks["door_y"]
        return {
            "video": render_frames(position, wall_x, door_y, self.sigma),
            "actions": actions,
            "state": {
                "position": position.astype(np.float32),
                "wall_x": np.repeat(wall_x[:, None], t, axis=1).astype(np.float32),
                "door_y": np.repeat(door_y[:, None], t, axis=1).astype(np.float32),
            },
        }


# --------------------------------------------------------------------------------------------
# gymnasium environment (built on first access so that the walks never need gymnasium)
# --------------------------------------------------------------------------------------------


def _build_env_class() -> type:
    gym = import_gymnasium("TwoRoomsEnv")

    class TwoRoomsEnv(env_base(gym)):
        """Two Rooms as a gymnasium environment (the planning benchmark's env).

        ``reset(seed, options)`` draws a layout (``wall_x`` in ``wall_range``, ``door_y`` in
        ``door_range``) and a start and goal in opposite rooms (:func:`sample_start_goal`).
        ``options`` may fix ``wall_x``, ``door_y``, ``start`` and ``goal`` (``goal=None``: no goal).
        Actions are 2-D displacements in px, clipped to ``[-2.45, 2.45]`` per axis. The reward is
        minus the distance to the goal (0 without a goal); the episode never terminates by itself
        and is truncated after ``max_episode_steps`` steps. ``info`` holds ``position`` (x, y),
        ``wall_x``, ``door_y`` and, with a goal, ``goal`` and ``distance``.
        """

        goal_hint = "(x, y)"

        def __init__(
            self,
            render_mode: str | None = None,
            max_episode_steps: int = 200,
            wall_range: Sequence[int] = (20, 44),
            door_range: Sequence[int] = (12, 52),
            sigma: float = SIGMA,
        ) -> None:
            super().__init__(render_mode, max_episode_steps, ACTION_BOUND, (2, SIZE, SIZE))
            check_interval("wall_range", wall_range, *WALL_X_LIMITS)
            check_interval("door_range", door_range, *DOOR_Y_LIMITS)
            check_range("sigma", sigma, 0.3, 5.0)
            self.wall_range = (int(wall_range[0]), int(wall_range[1]))
            self.door_range = (int(door_range[0]), int(door_range[1]))
            self.sigma = float(sigma)
            self.wall_x = (self.wall_range[0] + self.wall_range[1]) // 2
            self.door_y = (self.door_range[0] + self.door_range[1]) // 2
            self.position = np.array([ARENA_LOW + 2 * sigma] * 2)

        def _point(self, name: str, value: Any) -> np.ndarray:
            point = np.asarray(value, dtype=np.float64)
            if point.shape != (2,) or not np.isfinite(point).all():
                raise ValueError(f"options[{name!r}] must be a finite (x, y) pair, got {value!r}")
            if not is_free(point, self.wall_x, self.door_y):
                raise ValueError(
                    f"options[{name!r}]={value!r} is not a free position: x and y must lie in "
                    f"[{ARENA_LOW}, {ARENA_HIGH}] and outside the inner wall"
                )
            return point

        def reset(
            self, *, seed: int | None = None, options: dict[str, Any] | None = None
        ) -> tuple[np.ndarray, dict[str, Any]]:
            super().reset(seed=seed)
            options = self._options(options, ("wall_x", "door_y", "start", "goal"))
            rng = self.np_random
            wall_x = int(rng.integers(self.wall_range[0], self.wall_range[1] + 1))
            door_y = int(rng.integers(self.door_range[0], self.door_range[1] + 1))
            wall_x = options.get("wall_x", wall_x)
            door_y = options.get("door_y", door_y)
            _check_layout(wall_x, door_y)
            self.wall_x, self.door_y = int(wall_x), int(door_y)
            start, goal = sample_start_goal(rng, self.wall_x, self.door_y)
            self.position = self._point("start", options.get("start", start))
            goal = options.get("goal", goal)
            self.goal = None if goal is None else self._point("goal", goal)
            self.steps = 0
            return self._observe(self.position), self._info()

        def _move(self, action: np.ndarray) -> None:
            self.position = move(self.position, action, self.wall_x, self.door_y)

        def _present(self) -> np.ndarray:
            return self.position

        def _observe(self, position: np.ndarray) -> np.ndarray:
            frames = render_frames(position[None, None], [self.wall_x], [self.door_y], self.sigma)
            return frames[0, 0]

        def _info(self) -> dict[str, Any]:
            info: dict[str, Any] = {
                "position": self.position.copy(),
                "wall_x": self.wall_x,
                "door_y": self.door_y,
            }
            if self.goal is not None:
                info["goal"] = self.goal.copy()
                info["distance"] = float(np.linalg.norm(self.position - self.goal))
            return info

        def render(self) -> np.ndarray | None:
            """``rgb_array``: (65, 65, 3) uint8, walls grey, agent white, goal green."""
            if not self._rendering():
                return None
            obs = self._observe(self.position).astype(np.float32) / 255.0
            agent, walls = obs[0], obs[1]
            picture = np.zeros((SIZE, SIZE, 3), dtype=np.float32)
            picture += 0.45 * walls[..., None]
            if self.goal is not None:
                goal = self._observe(self.goal)[0].astype(np.float32) / 255.0
                picture[..., 1] = np.maximum(picture[..., 1], goal)
            picture = np.maximum(picture, agent[..., None])
            return (picture * 255.0 + 0.5).astype(np.uint8)

    TwoRoomsEnv.__module__ = __name__
    TwoRoomsEnv.__qualname__ = "TwoRoomsEnv"
    return TwoRoomsEnv


__getattr__ = lazy_class(__name__, "TwoRoomsEnv", _build_env_class)

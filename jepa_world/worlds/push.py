"""Push: a controllable disc pushes 1-3 balls around a box, 2-D displacement actions.

The world of the push planning suite and the intervention probe (``docs/planning.md``): the agent
acts on other things, so a world model has to foresee what a push does to what it touches, and
that it does nothing to what it does not touch.

Physics, per frame of ``SUBSTEPS`` sub-steps (positions ``(x, y)`` px, ``y`` down, walls at the
frame borders, the same conventions and contact code as :mod:`~jepa_world.worlds.physics2d`):

- the agent (a disc of radius :data:`AGENT_RADIUS`) is kinematic: each frame it moves by the
  action, clipped to ``[-ACTION_BOUND, ACTION_BOUND]`` per axis, spread evenly over the sub-steps,
  and stops at the walls. In contacts it is a body of infinite mass (inverse mass 0 in
  :class:`~jepa_world.worlds.physics2d.Contacts`), so a ball it hits leaves with the velocity a
  moving wall gives: the normal component of the ball's velocity relative to the agent reverses.
  A ball caught between the agent and a wall (or a ball held by the wall) cannot give way: the
  agent then stops at contact, and the ball loses its velocity toward the agent;
- balls (radius :data:`BALL_RADIUS`, equal masses) collide elastically with each other and bounce
  elastically off the walls (physics2d's solver, no gravity);
- rolling friction: every ball's speed drops by :data:`FRICTION` px/frame per frame (spread over
  the sub-steps, direction kept) until it stops, so a pushed ball at 4 px/frame rolls
  ``4^2 / (2 * 0.25) = 32`` px and stops after 16 frames;
- a ball's speed is capped at :data:`MAX_SPEED` (6 px/frame), above anything a free push gives,
  so a ball squeezed between the agent and a wall cannot gain speed without bound.

Frames are RGB 64x64 rendered by physics2d's renderer: the agent light grey, balls red, green and
blue (slot 0, 1, 2: a ball's name is its colour). Three users share the dynamics: :func:`step`
(vectorised over a batch of worlds, the true simulator a planner can use), :class:`PushWalks`
(random-walk training clips) and ``PushEnv`` (the gymnasium environment, built on first access
since gymnasium is the optional ``[gym]`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from jepa_world.checks import check_int, check_interval, check_range
from jepa_world.worlds.agent_env import env_base, import_gymnasium, lazy_class
from jepa_world.worlds.base import Batch, as_seeds
from jepa_world.worlds.headings import reflect, wrap
from jepa_world.worlds.physics2d import PALETTE, Contacts, Scene, render

__all__ = [
    "ACTION_BOUND",
    "AGENT_COLOUR",
    "AGENT_RADIUS",
    "BALL_NAMES",
    "BALL_RADIUS",
    "FRICTION",
    "MAX_BALLS",
    "MAX_SPEED",
    "SIZE",
    "SUBSTEPS",
    "PushState",
    "PushWalks",
    "place",
    "render_states",
    "simulate",
    "step",
]

SIZE = 64
"""Side of the square RGB observation, in pixels."""
AGENT_RADIUS = 4.0
"""Radius of the agent's disc, px."""
BALL_RADIUS = 4.0
"""Radius of every ball, px (equal masses)."""
MAX_BALLS = 3
"""Ball slots; a clip has 1 to 3 balls."""
ACTION_BOUND = 2.0
"""Bound of each action component, px per frame: the action space is ``[-bound, bound]^2``."""
FRICTION = 0.25
"""Rolling friction: a ball's speed drops by this many px/frame every frame until it stops."""
MAX_SPEED = 6.0
"""Cap on a ball's speed, px/frame: a free push gives at most twice the agent's top speed
(2 x 2.83); only a ball squeezed between the agent and a wall or held balls, which elastic
bodies against an infinite mass would bat ever faster, gets near it."""
SUBSTEPS = 8
"""Sub-steps per frame: the fastest ball (about 4 agent speeds) moves < 1 px per sub-step."""
AGENT_COLOUR = (225, 225, 225)
"""RGB of the agent."""
BALL_NAMES = ("red", "green", "blue")
"""Ball slot ``k`` is drawn in ``BALL_NAMES[k]`` (physics2d's palette entries 0, 1, 2)."""
PLACE_GAP = 2.0  # px of free space between bodies, and between bodies and walls, at placement
PLACE_TRIES = 48
"""Candidate spots per body when placing them at random."""


class PushState(NamedTuple):
    """The full state of B worlds (float64): ``agent`` (B, 2), ball ``position`` and
    ``velocity`` (B, K, 2), ``present`` (B, K) bool. Absent balls sit at (0, 0), at rest."""

    agent: np.ndarray
    position: np.ndarray
    velocity: np.ndarray
    present: np.ndarray

    def copy(self) -> PushState:
        return PushState(*(np.array(a) for a in self))

    def take(self, index: Any) -> PushState:
        """The worlds ``index`` (an int array or a slice) of the batch."""
        return PushState(*(np.asarray(a)[index] for a in self))


def _radii(present: np.ndarray) -> np.ndarray:
    """Body radii (B, 1 + K): the agent in slot 0, then the balls (0 where absent)."""
    balls = np.where(present, BALL_RADIUS, 0.0)
    return np.concatenate([np.full((len(present), 1), AGENT_RADIUS), balls], axis=1)


def step(
    state: PushState,
    actions: np.ndarray,
    friction: float = FRICTION,
    substeps: int = SUBSTEPS,
    bound: float = ACTION_BOUND,
) -> tuple[PushState, np.ndarray]:
    """One frame of the true dynamics for every world: the new state and ``contact`` (B, K)
    bool, whether the agent touched ball k during the frame. ``actions`` (B, 2) px are clipped
    to ``[-bound, bound]`` per axis."""
    a = np.asarray(actions, dtype=np.float64)
    b = len(state.agent)
    if a.shape != (b, 2) or not np.isfinite(a).all():
        raise ValueError(f"actions must be finite (B={b}, 2), got shape {a.shape}")
    present = np.asarray(state.present, dtype=bool)
    k = present.shape[1]
    body = np.concatenate([np.ones((b, 1), dtype=bool), present], axis=1)
    radius = _radii(present)
    inv_mass = np.where(body, 1.0 / np.maximum(radius, 1e-12) ** 2, 0.0)
    inv_mass[:, 0] = 0.0  # the agent: infinite mass
    wall_on = body.copy()
    wall_on[:, 0] = False  # the agent is kept in by clipping, not bounced
    contacts = Contacts(
        radius, inv_mass, np.zeros(b), body, float(SIZE), np.zeros((b, 0, 4)),
        np.zeros((b, 0), dtype=bool), wall_on,
    )  # fmt: skip
    pos = np.concatenate([state.agent[:, None], state.position], axis=1).astype(np.float64)
    vel = np.concatenate([np.zeros((b, 1, 2)), state.velocity], axis=1).astype(np.float64)
    vel[:, 1:] *= present[..., None]
    dt = 1.0 / substeps
    move = np.clip(a, -bound, bound) * dt
    lo, hi = AGENT_RADIUS, SIZE - AGENT_RADIUS
    reach = AGENT_RADIUS + radius[:, 1:]  # (B, K)
    contact = np.zeros((b, k), dtype=bool)
    for _ in range(substeps):
        before = pos[:, 0].copy()
        pos[:, 0] = np.clip(before + move, lo, hi)
        vel[:, 0] = (pos[:, 0] - before) / dt  # what the balls it hits feel
        pos[:, 1:] += vel[:, 1:] * dt
        speed = np.sqrt((vel[:, 1:] ** 2).sum(axis=-1))
        slower = np.maximum(speed - friction * dt, 0.0) / np.where(speed > 0, speed, 1.0)
        vel[:, 1:] *= slower[..., None]
        gap = pos[:, 1:] - pos[:, :1]
        contact |= present & ((gap**2).sum(axis=-1) < reach**2)
        contacts.resolve(pos, vel)
        _unpin(pos, vel, present, reach)
        speed = np.sqrt((vel[:, 1:] ** 2).sum(axis=-1))
        vel[:, 1:] *= (np.minimum(speed, MAX_SPEED) / np.maximum(speed, 1e-12))[..., None]
    new = PushState(pos[:, 0].copy(), pos[:, 1:] * present[..., None], vel[:, 1:], present)
    return new, contact


def _unpin(pos: np.ndarray, vel: np.ndarray, present: np.ndarray, reach: np.ndarray) -> None:
    """A ball the agent presses against a wall cannot give way: back the agent out of any ball
    it still overlaps after the contact passes, and stop the normal motion of balls that touch
    both the agent and a wall (else the two would bat the ball to and fro ever faster)."""
    pos[:, 1:] = np.clip(pos[:, 1:], BALL_RADIUS, SIZE - BALL_RADIUS)  # squeezed past a wall
    gap = pos[:, 1:] - pos[:, :1]  # (B, K, 2) agent -> ball
    dist = np.sqrt((gap**2).sum(axis=-1))
    touching = present & (dist < reach + 1e-6)
    if not touching.any():
        pos[:, 1:] *= present[..., None]
        return
    for kk in range(touching.shape[1]):  # slot order: each sees where the last one left the agent
        rows = np.flatnonzero(touching[:, kk])
        if not len(rows):
            continue
        d = pos[rows, 1 + kk] - pos[rows, 0]
        n = np.sqrt((d**2).sum(axis=-1))
        normal = np.where((n > 1e-12)[:, None], d / np.maximum(n, 1e-12)[:, None], [1.0, 0.0])
        short = np.maximum(reach[rows, kk] - n, 0.0)
        pos[rows, 0] -= short[:, None] * normal
        ball = pos[rows, 1 + kk]
        at_wall = ((ball < BALL_RADIUS + 1e-6) | (ball > SIZE - BALL_RADIUS - 1e-6)).any(axis=-1)
        vn = (vel[rows, 1 + kk] * normal).sum(axis=-1)
        vel[rows, 1 + kk] -= np.where(at_wall | (short > 1e-9), vn, 0.0)[:, None] * normal
    pos[:, 0] = np.clip(pos[:, 0], AGENT_RADIUS, SIZE - AGENT_RADIUS)
    pos[:, 1:] *= present[..., None]


def simulate(
    state: PushState, actions: np.ndarray, friction: float = FRICTION
) -> tuple[dict[str, np.ndarray], PushState]:
    """Run actions (B, T, 2) from ``state``: trajectories with frame 0 the start, ``agent``
    (B, T + 1, 2), ``position`` / ``velocity`` (B, T + 1, K, 2), ``contact`` (B, T + 1, K) (the
    agent touched the ball in the frame that led here), and the final state."""
    a = np.asarray(actions, dtype=np.float64)
    b, t = a.shape[:2]
    k = state.position.shape[1]
    out = {
        "agent": np.empty((b, t + 1, 2)),
        "position": np.empty((b, t + 1, k, 2)),
        "velocity": np.empty((b, t + 1, k, 2)),
        "contact": np.zeros((b, t + 1, k), dtype=bool),
    }
    out["agent"][:, 0], out["position"][:, 0], out["velocity"][:, 0] = state[:3]
    for i in range(t):
        state, touched = step(state, a[:, i], friction)
        out["agent"][:, i + 1], out["position"][:, i + 1] = state.agent, state.position
        out["velocity"][:, i + 1], out["contact"][:, i + 1] = state.velocity, touched
    return out, state


def _scene(present: np.ndarray) -> Scene:
    """A physics2d scene to render with: the agent in slot 0, the balls after it."""
    b, k = present.shape
    body = np.concatenate([np.ones((b, 1), dtype=bool), present], axis=1)
    colour = np.zeros((b, 1 + k, 3), dtype=np.uint8)
    colour[:, 0] = AGENT_COLOUR
    colour[:, 1:] = PALETTE[:k]
    colour *= body[..., None].astype(np.uint8)
    radius = _radii(present)
    zeros = np.zeros((b, 1 + k, 2))
    return Scene(
        position=zeros, velocity=zeros, radius=radius, mass=np.where(body, 1.0, 0.0),
        colour=colour, present=body, gravity=np.zeros(b), platforms=np.zeros((b, 0, 4)),
        platform_present=np.zeros((b, 0), dtype=bool), occluders=np.zeros((b, 0, 4)),
        occluder_present=np.zeros((b, 0), dtype=bool), size=SIZE,
    )  # fmt: skip


def render_states(agent: np.ndarray, position: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Frames uint8 (B, T, 3, 64, 64) for ``agent`` (B, T, 2) and ball ``position``
    (B, T, K, 2) with ``present`` (B, K)."""
    agent, position = np.asarray(agent, np.float64), np.asarray(position, np.float64)
    if agent.ndim != 3 or position.ndim != 4 or position.shape[:2] != agent.shape[:2]:
        raise ValueError(
            f"agent must be (B, T, 2) and position (B, T, K, 2), got {agent.shape}, "
            f"{position.shape}"
        )
    bodies = np.concatenate([agent[:, :, None], position], axis=2)
    video, _ = render(_scene(np.asarray(present, dtype=bool)), bodies)
    return video


def place(u: np.ndarray, count: np.ndarray, k: int = MAX_BALLS) -> tuple[np.ndarray, ...]:
    """Agent (B, 2), balls (B, K, 2) and ``present`` (B, K) from uniforms ``u`` (B, (1 + K) *
    tries * 2): random sequential placement, each body at its first candidate ``PLACE_GAP``
    clear of the walls and of the bodies before it (the last candidate if none is clear, which
    the contact solver then separates; with 4 bodies in 64x64 it does not happen in practice)."""
    b = len(u)
    cand = u.reshape(b, 1 + k, PLACE_TRIES, 2)
    margin = max(AGENT_RADIUS, BALL_RADIUS) + PLACE_GAP
    cand = margin + cand * (SIZE - 2 * margin)
    present = np.arange(k)[None] < np.asarray(count)[:, None]
    body_on = np.concatenate([np.ones((b, 1), dtype=bool), present], axis=1)
    radius = _radii(present)
    centres = np.zeros((b, 1 + k, 2))
    rows = np.arange(b)
    for i in range(1 + k):
        ok = np.ones((b, PLACE_TRIES), dtype=bool)
        for j in range(i):
            dist = np.sqrt(((cand[:, i] - centres[:, j, None]) ** 2).sum(axis=-1))
            need = radius[:, i] + radius[:, j] + PLACE_GAP
            ok &= ~body_on[:, j, None] | (dist >= need[:, None])
        pick = np.where(ok.any(axis=1), ok.argmax(axis=1), PLACE_TRIES - 1)
        centres[:, i] = cand[rows, i, pick] * body_on[:, i, None]
    return centres[:, 0], centres[:, 1:], present


class PushWalks:
    """Random-walk clips in the push world: how actions move the agent and what it pushes.

    No reward, no expert. Per clip (all from ``np.random.default_rng(seed)``): a ball count in
    ``num_balls``, bodies placed without overlap, balls at rest or rolling (speed uniform in
    ``speed``, uniform direction). The agent walks with a heading that turns by a von Mises draw
    (concentration ``turn_concentration``) each step and asks for a displacement of length
    ``N(step_mean, step_std)`` clipped to ``step_range``; it reflects its heading off walls. A
    fraction ``seek_fraction`` of the walks is biased toward the balls: their heading is pulled
    by ``steer_gain`` of the angle error per step toward the nearest ball, so they push balls
    again and again (uniform walks alone touch a ball in few windows). Each step is a pause (zero
    action) with probability ``pause_prob``, so "the agent held still" is in the data.

    ``generate(seeds)``: ``video`` uint8 (B, T, 3, 64, 64); ``actions`` float32 (B, T, 2)
    (``actions[t]`` moves frame t to t + 1; the last row is padding 0); ``state``: ``position``
    and ``velocity`` of the balls (B, T, K, 2), ``agent`` (B, T, 2), ``present`` and ``contact``
    (B, T, K) (the agent touched ball k in the frame that led to frame t), float32.
    """

    channels = 3
    size = SIZE

    def __init__(
        self,
        frames: int = 17,
        num_balls: Sequence[int] = (1, 3),
        speed: Sequence[float] = (0.0, 1.0),
        step_mean: float = 1.4,
        step_std: float = 0.6,
        step_range: Sequence[float] = (0.2, ACTION_BOUND),
        turn_concentration: float = 8.0,
        seek_fraction: float = 0.8,
        steer_gain: float = 0.6,
        pause_prob: float = 0.1,
        friction: float = FRICTION,
    ) -> None:
        check_int("frames", frames, 2, 10_000)
        check_interval("num_balls", num_balls, 1, MAX_BALLS)
        check_interval("speed", speed, 0.0, 4.0)
        check_range("step_mean", step_mean, 0.0, ACTION_BOUND)
        check_range("step_std", step_std, 0.0, ACTION_BOUND)
        check_interval("step_range", step_range, 0.0, ACTION_BOUND)
        check_range("turn_concentration", turn_concentration, 0.0, 1e6)
        check_range("seek_fraction", seek_fraction, 0.0, 1.0)
        check_range("steer_gain", steer_gain, 0.0, 1.0)
        check_range("pause_prob", pause_prob, 0.0, 1.0)
        check_range("friction", friction, 0.0, 2.0)
        if any(int(v) != v for v in num_balls):
            raise ValueError(f"num_balls={tuple(num_balls)!r} must hold whole numbers")
        self.frames = int(frames)
        self.num_balls = (int(num_balls[0]), int(num_balls[1]))
        self.speed = (float(speed[0]), float(speed[1]))
        self.step_mean, self.step_std = float(step_mean), float(step_std)
        self.step_range = (float(step_range[0]), float(step_range[1]))
        self.turn_concentration = float(turn_concentration)
        self.seek_fraction, self.steer_gain = float(seek_fraction), float(steer_gain)
        self.pause_prob, self.friction = float(pause_prob), float(friction)

    def _draw(self, seeds: np.ndarray) -> dict[str, np.ndarray]:
        """Every random draw of each clip, from ``default_rng(seed)`` of that clip alone."""
        n, moves, k = len(seeds), self.frames - 1, MAX_BALLS
        u = np.empty((n, 4 + 2 * k))
        spots = np.empty((n, (1 + k) * PLACE_TRIES * 2))
        turns, lengths, pauses = (np.empty((n, moves)) for _ in range(3))
        for i, seed in enumerate(seeds):
            rng = np.random.default_rng(int(seed))
            u[i] = rng.random(u.shape[1])
            rng.random(out=spots[i])
            turns[i] = rng.vonmises(0.0, self.turn_concentration, moves)
            lengths[i] = rng.normal(self.step_mean, self.step_std, moves)
            pauses[i] = rng.random(moves)
        lo, hi = self.num_balls
        count = lo + np.minimum(np.floor(u[:, 0] * (hi - lo + 1)), hi - lo).astype(np.int64)
        agent, position, present = place(spots, count, k)
        speed = self.speed[0] + u[:, 4 : 4 + k] * (self.speed[1] - self.speed[0])
        angle = 2 * math.pi * u[:, 4 + k : 4 + 2 * k]
        velocity = speed[..., None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        return {
            "state": PushState(agent, position, velocity * present[..., None], present),
            "seek": u[:, 1] < self.seek_fraction,
            "heading": 2 * math.pi * u[:, 2] - math.pi,
            "turns": turns,
            "lengths": np.clip(lengths, *self.step_range) * (pauses >= self.pause_prob),
        }

    def walks(self, seeds: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """The clips behind :meth:`generate` as float64 trajectories (:func:`simulate`'s keys
        plus ``actions`` (B, T, 2), last row 0, and ``present`` (B, K))."""
        draws = self._draw(as_seeds(seeds))
        state: PushState = draws["state"]
        n, t, k = len(state.agent), self.frames, MAX_BALLS
        heading = draws["heading"].copy()
        actions = np.zeros((n, t, 2))
        out = {
            "agent": np.empty((n, t, 2)),
            "position": np.empty((n, t, k, 2)),
            "velocity": np.empty((n, t, k, 2)),
            "contact": np.zeros((n, t, k), dtype=bool),
        }
        out["agent"][:, 0], out["position"][:, 0], out["velocity"][:, 0] = state[:3]
        for i in range(t - 1):
            if draws["seek"].any():
                gap = state.position - state.agent[:, None]
                dist = np.where(state.present, (gap**2).sum(axis=-1), np.inf)
                near = gap[np.arange(n), dist.argmin(axis=1)]
                want = np.arctan2(near[:, 1], near[:, 0])
                pull = np.where(draws["seek"], self.steer_gain * wrap(want - heading), 0.0)
                heading += pull
            heading = wrap(heading + draws["turns"][:, i])
            length = draws["lengths"][:, i, None]
            asked = length * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
            asked = np.clip(asked, -ACTION_BOUND, ACTION_BOUND)
            actions[:, i] = asked
            state, touched = step(state, asked, self.friction)
            lo, hi = AGENT_RADIUS, SIZE - AGENT_RADIUS
            hit = (state.agent <= lo + 1e-9) | (state.agent >= hi - 1e-9)
            heading = reflect(heading, hit[:, 0], hit[:, 1])
            out["agent"][:, i + 1], out["position"][:, i + 1] = state.agent, state.position
            out["velocity"][:, i + 1], out["contact"][:, i + 1] = state.velocity, touched
        return out | {"actions": actions, "present": state.present, "seek": draws["seek"]}

    def generate(self, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Clips (see the class docstring for the layout)."""
        w = self.walks(seeds)
        t = self.frames
        present = np.repeat(w["present"][:, None], t, axis=1)
        return {
            "video": render_states(w["agent"], w["position"], w["present"]),
            "actions": w["actions"].astype(np.float32),
            "state": {
                "position": w["position"].astype(np.float32),
                "velocity": w["velocity"].astype(np.float32),
                "agent": w["agent"].astype(np.float32),
                "present": present.astype(np.float32),
                "contact": w["contact"].astype(np.float32),
            },
        }

    def __repr__(self) -> str:
        return f"PushWalks(frames={self.frames}, num_balls={self.num_balls})"


# --------------------------------------------------------------------------------------------
# gymnasium environment (built on first access so that the walks never need gymnasium)
# --------------------------------------------------------------------------------------------


def _build_env_class() -> type:
    gym = import_gymnasium("PushEnv")

    class PushEnv(env_base(gym)):
        """The push world as a gymnasium environment.

        ``reset(seed, options)`` places the agent and ``num_balls`` balls at rest (a count drawn
        from ``num_balls`` per episode); ``options`` may set ``state`` (a :class:`PushState` of
        one world, batch axis 1) and ``goal`` (a state the episode aims for: ``info`` then holds
        the named ball's distance to its goal position), and ``target`` (the named ball's slot,
        default 0). Actions are 2-D displacements in px, clipped to ``[-2, 2]`` per axis. The
        reward is minus that distance (0 without a goal); the episode never terminates by itself
        and is truncated after ``max_episode_steps`` steps. ``info``: ``agent``, ``position``,
        ``velocity``, ``present``, ``contact`` and, with a goal, ``goal`` and ``distance``.
        Observations are RGB frames (3, 64, 64) uint8.
        """

        goal_hint = "state"

        def __init__(
            self,
            render_mode: str | None = None,
            max_episode_steps: int = 60,
            num_balls: Sequence[int] = (1, 3),
            friction: float = FRICTION,
        ) -> None:
            super().__init__(render_mode, max_episode_steps, ACTION_BOUND, (3, SIZE, SIZE))
            check_interval("num_balls", num_balls, 1, MAX_BALLS)
            check_range("friction", friction, 0.0, 2.0)
            self.num_balls = (int(num_balls[0]), int(num_balls[1]))
            self.friction = float(friction)
            self.state = PushState(
                np.full((1, 2), SIZE / 2), np.zeros((1, MAX_BALLS, 2)),
                np.zeros((1, MAX_BALLS, 2)), np.zeros((1, MAX_BALLS), dtype=bool),
            )  # fmt: skip
            self.target = 0
            self.contact = np.zeros(MAX_BALLS, dtype=bool)

        def reset(
            self, *, seed: int | None = None, options: dict[str, Any] | None = None
        ) -> tuple[np.ndarray, dict[str, Any]]:
            super().reset(seed=seed)
            options = self._options(options, ("state", "goal", "target"))
            rng = self.np_random
            lo, hi = self.num_balls
            count = np.array([rng.integers(lo, hi + 1)])
            agent, position, present = place(
                rng.random((1, (1 + MAX_BALLS) * PLACE_TRIES * 2)), count
            )
            state = PushState(agent, position, np.zeros_like(position), present)
            self.state = self._state("state", options.get("state", state))
            goal = options.get("goal")
            self.goal = None if goal is None else self._state("goal", goal)
            self.target = int(options.get("target", 0))
            if not 0 <= self.target < MAX_BALLS or not self.state.present[0, self.target]:
                raise ValueError(f"options['target']={self.target!r} is not a ball of this episode")
            self.contact = np.zeros(MAX_BALLS, dtype=bool)
            self.steps = 0
            return self.observe(self.state), self._info()

        @staticmethod
        def _state(name: str, value: Any) -> PushState:
            if not isinstance(value, PushState) or np.shape(value.agent) != (1, 2):
                raise ValueError(f"options[{name!r}] must be a PushState of one world (batch 1)")
            if np.shape(value.position) != (1, MAX_BALLS, 2):
                raise ValueError(f"options[{name!r}] must hold {MAX_BALLS} ball slots")
            return value.copy()

        def _move(self, action: np.ndarray) -> None:
            self.state, touched = step(self.state, action[None], self.friction)
            self.contact = touched[0]

        def _present(self) -> PushState:
            return self.state

        @staticmethod
        def observe(state: PushState) -> np.ndarray:
            """The frame (3, 64, 64) uint8 of a one-world state."""
            return render_states(state.agent[:, None], state.position[:, None], state.present)[0, 0]

        def _observe(self, state: PushState) -> np.ndarray:
            return self.observe(state)

        def _info(self) -> dict[str, Any]:
            s = self.state
            info: dict[str, Any] = {
                "agent": s.agent[0].copy(),
                "position": s.position[0].copy(),
                "velocity": s.velocity[0].copy(),
                "present": s.present[0].copy(),
                "contact": self.contact.copy(),
                "target": self.target,
            }
            if self.goal is not None:
                goal = self.goal.position[0, self.target]
                info["goal"] = goal.copy()
                info["distance"] = float(np.linalg.norm(s.position[0, self.target] - goal))
            return info

        def render(self) -> np.ndarray | None:
            """``rgb_array``: (64, 64, 3) uint8, the observation."""
            if not self._rendering():
                return None
            return self.observe(self.state).transpose(1, 2, 0).copy()

    PushEnv.__module__ = __name__
    PushEnv.__qualname__ = "PushEnv"
    return PushEnv


__getattr__ = lazy_class(__name__, "PushEnv", _build_env_class)

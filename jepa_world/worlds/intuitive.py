"""Violation-of-expectation stimuli: matched quadruplets (IntPhys-style) and open-view pairs.

Why matched: in a simple synthetic world a copy-last-frame pixel-novelty score already flags an
open-view teleport or vanish, so such a test says nothing about a model. Each test here is a
quadruplet of two possible clips A, B and two impossible clips C, D cut from the same segments:
every segment appears once among the possible and once among the impossible clips, and every
splice falls on a frame where the joined clips are pixel-identical (the target is fully behind an
occluder and the distractors are the same). Any score that adds up a per-frame function of
consecutive frames (pixel novelty, surprise of a one-step predictor) therefore ties exactly:
``S(C) + S(D) == S(A) + S(B)``. Only a model that expects what is hidden to behave can rank the
impossible pair higher. Each impossible clip equals its possible twin (C ~ A, D ~ B) before the
divergence frame, the first frame after the (first) splice where A and B differ.

Designs (T = ``frames``; the target is the test ball, slot 0; ``s`` a splice frame):

- permanence: A, a ball crosses an occluder and re-emerges; B, no target ball. C = A's start +
  B's end (the ball never re-emerges); D = B's start + A's end (a ball emerges from nowhere).
- continuity: A, a ball crosses two occluders and is seen in the gap; B, no target. C = A1 + B2 +
  A3 (not seen in the gap, yet re-emerges), D = B1 + A2 + B3 (appears in the gap only).
- solidity (a solid platform stops a ball): a platform visible left and right of an occluder that
  hides its middle. A, a ball falls onto it behind the occluder and bounces back up; B, a ball
  rises into its underside and falls back down. C = A1 + B2 (goes in above, comes out below: it
  passed through), D = B1 + A2 (passed through upwards).
- gravity (support), gravity on: a platform visible left and right of an occluder. A, a ball
  rolls (or hops) along the top of the platform behind the occluder and re-emerges on it; B, the
  same ball, unsupported below the platform, falls as it crosses. C = A1 + B2 (a supported ball
  drops through its support), D = B1 + A2 (a falling ball comes out on top of the platform).
- colour: the same trajectory in two colours. C = red in, green out; D = green in, red out.

The geometry is planned so that the target is fully visible at frame 0, hidden for ``occlusion``
frames around each splice, and seen again afterwards (half visible at least); the occluders are
placed after the target is simulated (they have no physics), and each plan is then verified on the
rendered pixels and re-drawn (a new attempt for that seed) if any requirement fails. Possible
clips follow :func:`~jepa_world.worlds.physics2d.simulate` and are typical of
:class:`~jepa_world.worlds.physics2d.Physics2D` training clips: 1-3 distractors (so every clip
holds 1-4 balls), palette colours, radii, speeds, gravity on half the time (always for
``gravity``), tall occluders and thin horizontal platforms, plus decor platforms (0-2 platforms
in all). Distractors and decor are identical in all four clips. Each distractor set is simulated
jointly with the target (plain physics2d) and kept only if the target's track is the same as
when it is alone, i.e. they never touch (their discs also stay >= 1 px apart), so the joint
simulation is what every clip shows and the splice frames stay identical.

Conditioning on feasibility skews the target's geometry (see ``geometry`` in the outputs): a ball
must be seen, hidden for >= ``occlusion[0]`` frames and seen again within T frames, which favours
smaller, faster balls and wider occluders; continuity (two occlusions and a gap) needs
|vx| >~ (6 r + 7) / (T - 10) px/frame, hence the default of 24 frames (at 20 frames it is
impossible with speeds <= 2.5 px/frame, and the constructor says so).

Open-view pairs (the easy subset, no occluder): [possible, impossible], identical before the
divergence frame ``d``; at ``d`` the fully visible target jumps elsewhere (``teleport``, ``d`` in
the second half), changes colour (``colour_flip``, ``d`` in the last 3 frames) or is gone
(``vanish``, last frame). A copy-last score is surprised by a vanish only on the frame it happens
(afterwards the impossible clip is calmer than its moving twin), so late events keep these pairs
the easy subset that an additive pixel score flags; the quadruplets are where a model has to show
more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from jepa_world.worlds.base import Batch, as_seeds, check_interval, check_range
from jepa_world.worlds.physics2d import PALETTE, Scene, palette_index, render, simulate

__all__ = ["OPEN_VIEW_KINDS", "POSSIBLE", "PROPERTIES", "IntuitivePhysics"]

PROPERTIES = ("permanence", "continuity", "solidity", "gravity", "colour")
OPEN_VIEW_KINDS = ("teleport", "vanish", "colour_flip")
POSSIBLE = np.array([True, True, False, False])
"""Which members of a quadruplet (A, B, C, D) are possible."""
POSSIBLE.setflags(write=False)

MAX_DISTRACTORS = 3  # plus the target: physics2d's 4 balls at most
MAX_PLATFORMS = 2  # as physics2d's default (0, 2) platforms
HIDE_MARGIN = 1.1  # px from a ball's edge to an occluder edge so that no covered pixel peeks out
FULL = 0.99  # visible share that counts as fully in view
SEEN = 0.5  # visible share that counts as seen (re-emerged, seen in a gap)
PLATFORM_SHOW = 3.0  # px of a functional platform visible beyond each side of its occluder
MAX_TILT = math.radians(25.0)  # crossings without gravity stay this close to horizontal
_PLAN_TRIES = 64  # scalar draws per attempt before an attempt counts as failed
_CANDIDATES = 6  # distractor sets drawn (and screened) per quadruplet and round
_ROUNDS = 3  # distractor rounds per attempt
_FEASIBLE_TRIES = 64  # plan attempts (of _PLAN_TRIES draws) before parameters count as infeasible
_OPEN_SALT = 100  # seed-stream offset of open-view kinds (quadruplets use their property index)


@dataclass
class _Plan:
    """One quadruplet (variants A, B) or open-view pair before distractors and rendering."""

    seed: int
    attempt: int
    gravity: float
    radius: float
    colours: list[int]  # palette index of the target in variant A and in variant B
    starts: list[tuple[tuple[float, float], tuple[float, float]] | None]  # (pos, vel) or absent
    platforms: list[tuple[float, float, float, float]] = field(default_factory=list)
    windows: list[tuple[int, int]] = field(default_factory=list)  # (first hidden frame, count)
    info: dict[str, float] = field(default_factory=dict)
    occluders: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def splices(self) -> list[int]:
        """The middle frame of each hidden window: where the clips are joined."""
        return [t1 + (h - 1) // 2 for t1, h in self.windows]


@dataclass
class _Built:
    """A verified plan: its two variants (A, B) and how the clips are cut from them."""

    plan: _Plan
    video: np.ndarray  # (2, T, 3, H, W) variants A, B
    joint: dict  # per-variant position/velocity (2, T, K, 2), radius (K,), colour (2, K, 3) ...
    visible: np.ndarray  # (2, T, K)
    sources: np.ndarray  # (M, T): which variant each member's frame comes from
    divergence: int


def _check_pair(name: str, pair: Sequence[float], low: float, high: float, ints: bool) -> None:
    kind = "ints" if ints else "numbers"
    if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
        raise ValueError(f"{name} must be a (min, max) pair of {kind} in [{low}, {high}]")
    for v in pair:
        bad_int = ints and not (isinstance(v, int | np.integer) and not isinstance(v, bool))
        if bad_int or not isinstance(v, int | float | np.integer | np.floating):
            raise ValueError(
                f"{name}={tuple(pair)!r} must be {kind}: a (min, max) in [{low}, {high}]"
            )
    check_interval(name, tuple(pair), low, high)


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be an int in [{low}, {high}]")
    check_range(name, value, low, high)


def _hidden_run(hidden: np.ndarray, s: int) -> tuple[int, int]:
    """(first, last) frame of the run of True in ``hidden`` that contains frame ``s``."""
    lo = hi = s
    while lo > 0 and hidden[lo - 1]:
        lo -= 1
    while hi < len(hidden) - 1 and hidden[hi + 1]:
        hi += 1
    return lo, hi


def _segment_sources(splices: Sequence[int], frames: int) -> np.ndarray:
    """(4, T) variant index (0 = A, 1 = B) each member's frame is taken from.

    Segment k holds frames ``splices[k-1]+1 .. splices[k]``; C takes A's even segments and B's
    odd ones, D the reverse, so each segment is used once by a possible and once by an
    impossible clip.
    """
    segment = np.searchsorted(np.asarray(splices), np.arange(frames), side="left")
    odd = (segment % 2).astype(np.int64)
    return np.stack([np.zeros(frames, np.int64), np.ones(frames, np.int64), odd, 1 - odd])


def _cut(variants: np.ndarray, sources: np.ndarray, out: np.ndarray) -> None:
    """out[m, t] = variants[sources[m, t], t], copied run by run (far faster than a gather)."""
    for m, row in enumerate(sources):
        start = 0
        for stop in [*(np.flatnonzero(np.diff(row)) + 1).tolist(), len(row)]:
            out[m, start:stop] = variants[row[start], start:stop]
            start = stop


class IntuitivePhysics:
    """Matched VoE quadruplets and open-view pairs built on :mod:`physics2d` (see module doc).

    Geometry knobs (validated, so a probe can hold geometries out of the training range):
    ``occluder_width`` (px, horizontal), ``speed`` (target speed, px/frame), ``occlusion``
    (frames the target stays fully hidden around each splice), ``radius``, ``occluder_height``
    (fraction of ``size``; at least what hides the target), ``platform_length`` (gravity's
    platform may reach twice the occluder width) / ``platform_thickness``, ``distractors``
    (count range), ``distractor_speed``; ``gravity``, ``gravity_prob`` and ``substeps`` as in
    physics2d. Parameters under which some kind can never be built raise ValueError at once.
    ``max_attempts`` bounds the re-draws per seed.
    """

    channels: int = 3

    def __init__(
        self,
        size: int = 64,
        frames: int = 24,
        properties: Sequence[str] = PROPERTIES,
        occluder_width: tuple[float, float] = (10.0, 18.0),
        speed: tuple[float, float] = (1.0, 2.5),
        occlusion: tuple[int, int] = (4, 10),
        distractors: tuple[int, int] = (1, 3),
        radius: tuple[float, float] = (3.0, 6.0),
        gravity: float = 0.15,
        gravity_prob: float = 0.5,
        occluder_height: tuple[float, float] = (0.4, 0.8),
        platform_length: tuple[float, float] = (12.0, 30.0),
        platform_thickness: tuple[float, float] = (3.0, 4.0),
        distractor_speed: tuple[float, float] = (0.5, 3.0),
        substeps: int = 8,
        max_attempts: int = 200,
    ) -> None:
        _check_int("size", size, 32, 512)
        _check_int("frames", frames, 16, 1000)
        if isinstance(properties, str) or not isinstance(properties, Sequence) or not properties:
            raise ValueError(f"properties must be a non-empty sequence drawn from {PROPERTIES}")
        unknown = [p for p in properties if p not in PROPERTIES]
        if unknown or len(set(properties)) != len(properties):
            raise ValueError(
                f"properties={tuple(properties)!r}: each must be one of {PROPERTIES}, no repeats"
            )
        _check_pair("radius", radius, 1.0, size / 8, ints=False)
        _check_pair(
            "occluder_width", occluder_width, 2 * radius[0] + 2 * HIDE_MARGIN, size / 2, False
        )
        _check_pair("speed", speed, 0.1, size / 8, ints=False)
        _check_pair("occlusion", occlusion, 1, frames - 4, ints=True)
        _check_pair("distractors", distractors, 0, MAX_DISTRACTORS, ints=True)
        check_range("gravity", float(gravity), 0.0, 2.0)
        check_range("gravity_prob", float(gravity_prob), 0.0, 1.0)
        if "gravity" in properties and float(gravity) <= 0:
            raise ValueError("gravity must be > 0 (up to 2.0) when the 'gravity' property is used")
        _check_pair("occluder_height", occluder_height, 0.1, 1.0, ints=False)
        _check_pair("platform_length", platform_length, 4.0, float(size), ints=False)
        _check_pair("platform_thickness", platform_thickness, 1.0, size / 8, ints=False)
        _check_pair("distractor_speed", distractor_speed, 0.0, size / 8, ints=False)
        _check_int("substeps", substeps, 1, 64)
        _check_int("max_attempts", max_attempts, 1, 100_000)
        top_speed = math.sqrt(max(speed[1], distractor_speed[1]) ** 2 + 2 * float(gravity) * size)
        if top_speed / substeps > radius[0]:
            raise ValueError(
                f"substeps={substeps}: a ball can reach {top_speed:.2f} px/frame, more than "
                f"radius[0]={radius[0]} per sub-step; use substeps >= "
                f"{math.ceil(top_speed / radius[0])} or lower speed / distractor_speed"
            )

        self.size, self.frames = int(size), int(frames)
        self.properties = tuple(properties)
        self.occluder_width = (float(occluder_width[0]), float(occluder_width[1]))
        self.speed = (float(speed[0]), float(speed[1]))
        self.occlusion = (int(occlusion[0]), int(occlusion[1]))
        self.distractors = (int(distractors[0]), int(distractors[1]))
        self.radius = (float(radius[0]), float(radius[1]))
        self.gravity, self.gravity_prob = float(gravity), float(gravity_prob)
        self.occluder_height = (float(occluder_height[0]), float(occluder_height[1]))
        self.platform_length = (float(platform_length[0]), float(platform_length[1]))
        self.platform_thickness = (float(platform_thickness[0]), float(platform_thickness[1]))
        self.distractor_speed = (float(distractor_speed[0]), float(distractor_speed[1]))
        self.substeps, self.max_attempts = int(substeps), int(max_attempts)
        self.max_balls = 1 + self.distractors[1]
        self._check_feasible()

    # -- public API ----------------------------------------------------------------------------

    def quadruplets(self, prop: str, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Matched quadruplets [A, B, C, D] of ``prop``, one per seed.

        Returns ``video`` uint8 (Q, 4, T, 3, H, W); ``possible`` bool (4,) = [T, T, F, F];
        ``divergence`` int (Q, 4), the first frame where a clip differs from its twin (A~C,
        B~D, so both pairs share it); ``splices`` int (Q, S) (S = 2 for continuity, else 1):
        frames where the joined clips are pixel-identical, segment k being frames
        ``splices[k-1]+1 .. splices[k]``; ``state`` as physics2d's, per clip and frame
        (float32): ``position``/``velocity`` (Q, 4, T, K, 2), ``visible``, ``present``,
        ``radius``, ``colour_id`` (Q, 4, T, K), slot 0 being the target; ``scene``, the physics2d
        initial conditions of A and B (``position``/``velocity``/``colour``/``present`` with a
        variant axis, ``radius``, ``gravity``, ``platforms``, ``occluders`` and their flags) to
        re-simulate them; ``geometry``, per-quadruplet float32 (radius, speed, occluder_width,
        occlusion, gravity, distractors, attempts); ``seeds`` and ``property``.
        """
        if prop not in PROPERTIES:
            raise ValueError(f"prop={prop!r} must be one of {PROPERTIES}")
        seeds = as_seeds(seeds)
        built = self._build(prop, seeds)
        out = self._assemble(built, members=4, physical=2)
        out["possible"] = POSSIBLE.copy()
        out["divergence"] = np.repeat(out.pop("diverge")[:, None], 4, axis=1)
        n_splices = 2 if prop == "continuity" else 1
        out["splices"] = np.array([b.plan.splices for b in built], np.int64).reshape(-1, n_splices)
        out["property"] = prop
        return out

    def open_view_pairs(self, kind: str, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Open-view pairs [possible, impossible], one per seed (the easy subset).

        Returns ``video`` uint8 (Q, 2, T, 3, H, W), ``possible`` = [True, False], ``divergence``
        int (Q,) (the clips are byte-identical before it and differ at it), ``state``,
        ``geometry`` and ``scene`` (of the possible clip) as in :meth:`quadruplets`, ``seeds``
        and ``kind``.
        """
        if kind not in OPEN_VIEW_KINDS:
            raise ValueError(f"kind={kind!r} must be one of {OPEN_VIEW_KINDS}")
        seeds = as_seeds(seeds)
        built = self._build(kind, seeds)
        out = self._assemble(built, members=2, physical=1)
        out["possible"] = np.array([True, False])
        out["divergence"] = out.pop("diverge")
        out["kind"] = kind
        return out

    def _assemble(self, built: list[_Built], members: int, physical: int) -> Batch:
        """Cut every member clip from its variants; state as physics2d's, plus the scene."""
        n, t, k = len(built), self.frames, self.max_balls
        video = np.empty((n, members, t, 3, self.size, self.size), np.uint8)
        state = {
            name: np.zeros(
                (n, members, t, k, 2) if name in ("position", "velocity") else (n, members, t, k),
                np.float32,
            )
            for name in ("position", "velocity", "visible", "present", "radius", "colour_id")
        }
        scene = {
            "gravity": np.zeros(n),
            "position": np.zeros((n, physical, k, 2)),
            "velocity": np.zeros((n, physical, k, 2)),
            "radius": np.zeros((n, k)),
            "colour": np.zeros((n, physical, k, 3), np.uint8),
            "present": np.zeros((n, physical, k), bool),
            "platforms": np.zeros((n, MAX_PLATFORMS, 4)),
            "platform_present": np.zeros((n, MAX_PLATFORMS), bool),
            "occluders": np.zeros((n, 2, 4)),
            "occluder_present": np.zeros((n, 2), bool),
        }
        for q, b in enumerate(built):
            src, joint = b.sources, b.joint
            _cut(b.video, src, video[q])
            present = joint["present"][src]  # (M, T, K)
            _cut(joint["position"], src, state["position"][q])
            _cut(joint["velocity"], src, state["velocity"][q])
            _cut(b.visible, src, state["visible"][q])
            state["position"][q] *= present[..., None]
            state["velocity"][q] *= present[..., None]
            state["visible"][q] *= present
            state["present"][q] = present
            state["radius"][q] = joint["radius"] * present
            colour_id = palette_index(joint["colour"])[src]  # (M, T, K)
            state["colour_id"][q] = np.where(present, colour_id, -1)
            scene["gravity"][q] = b.plan.gravity
            scene["position"][q] = joint["position"][:physical, 0]
            scene["velocity"][q] = joint["velocity"][:physical, 0]
            scene["radius"][q] = joint["radius"]
            scene["colour"][q] = joint["colour"][:physical]
            scene["present"][q] = joint["present"][:physical]
            for p, rect in enumerate(b.plan.platforms):
                scene["platforms"][q, p], scene["platform_present"][q, p] = rect, True
            for o, rect in enumerate(b.plan.occluders):
                scene["occluders"][q, o], scene["occluder_present"][q, o] = rect, True
        return {
            "video": video,
            "diverge": np.array([b.divergence for b in built], np.int64),
            "state": state,
            "scene": scene,
            "geometry": self._geometry(built),
            "seeds": np.array([b.plan.seed for b in built], np.int64),
        }

    def generate(self, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Flat clips for the World contract: seed -> one member of one quadruplet.

        ``member = seed % 4`` (A, B, C, D), ``property = self.properties[(seed // 4) % P]`` and
        the quadruplet is number ``seed // (4 P)`` of that property, so seeds ``4 i .. 4 i + 3``
        are one quadruplet. ``state`` holds the per-ball arrays of :meth:`quadruplets`
        (B, T, K, ...) and, as float32 (B, T) constants, ``property`` (index into
        :data:`PROPERTIES`), ``quad_id`` (``seed // 4``, exact below 2**26), ``member``,
        ``possible`` (1 / 0) and ``divergence``.
        """
        seeds = as_seeds(seeds)
        n_props = len(self.properties)
        member = seeds % 4
        which = (seeds // 4) % n_props
        quad_seed = seeds // (4 * n_props)
        b, t = len(seeds), self.frames
        video = np.empty((b, t, 3, self.size, self.size), dtype=np.uint8)
        k = self.max_balls
        state = {
            name: np.zeros(
                (b, t, k, 2) if name in ("position", "velocity") else (b, t, k), np.float32
            )
            for name in ("position", "velocity", "visible", "present", "radius", "colour_id")
        }
        labels = {
            "property": np.zeros(b, np.float32),
            "quad_id": (seeds // 4).astype(np.float32),
            "member": member.astype(np.float32),
            "possible": POSSIBLE[member].astype(np.float32),
            "divergence": np.zeros(b, np.float32),
        }
        for p_index, prop in enumerate(self.properties):
            rows = np.flatnonzero(which == p_index)
            if not len(rows):
                continue
            unique, inverse = np.unique(quad_seed[rows], return_inverse=True)
            quads = self.quadruplets(prop, unique)
            video[rows] = quads["video"][inverse, member[rows]]
            for name, value in quads["state"].items():
                state[name][rows] = value[inverse, member[rows]]
            labels["property"][rows] = PROPERTIES.index(prop)
            labels["divergence"][rows] = quads["divergence"][inverse, member[rows]]
        for name, value in labels.items():
            state[name] = np.repeat(value[:, None], t, axis=1)
        return {"video": video, "state": state}

    def __repr__(self) -> str:
        return (
            f"IntuitivePhysics(size={self.size}, frames={self.frames}, "
            f"properties={self.properties}, occluder_width={self.occluder_width}, "
            f"speed={self.speed}, occlusion={self.occlusion}, distractors={self.distractors})"
        )

    # -- the build loop ------------------------------------------------------------------------

    def _build(self, kind: str, seeds: np.ndarray) -> list[_Built]:
        """Plan, simulate, dress, render and verify every seed; failed seeds try again."""
        salt = self._salt(kind)
        done: list[_Built | None] = [None] * len(seeds)
        attempt = {i: 0 for i in range(len(seeds))}
        while attempt:
            plans: dict[int, _Plan] = {}
            for i in list(attempt):
                plan = None
                while plan is None:
                    if attempt[i] >= self.max_attempts:
                        raise ValueError(self._infeasible_message(kind, int(seeds[i])))
                    rng = np.random.default_rng([int(seeds[i]), salt, attempt[i]])
                    plan = self._plan(kind, rng, int(seeds[i]), attempt[i])
                    if plan is None:
                        attempt[i] += 1
                plans[i] = plan
            for i, result in self._realise(kind, plans).items():
                if result is None:
                    attempt[i] += 1
                else:
                    done[i] = result
                    del attempt[i]
        return [b for b in done if b is not None]

    @staticmethod
    def _salt(kind: str) -> int:
        """Seed-stream tag of a kind, so properties and open-view kinds draw independently."""
        if kind in PROPERTIES:
            return PROPERTIES.index(kind)
        return _OPEN_SALT + OPEN_VIEW_KINDS.index(kind)

    def _plan(self, kind: str, rng: np.random.Generator, seed: int, attempt: int) -> _Plan | None:
        """Draw one plan (scalar draws from this seed's own stream); None if the draw failed."""
        for _ in range(_PLAN_TRIES):
            if kind in ("permanence", "colour"):
                plan = self._plan_crossing(rng, 1, kind)
            elif kind == "continuity":
                plan = self._plan_crossing(rng, 2, kind)
            elif kind == "solidity":
                plan = self._plan_solidity(rng)
            elif kind == "gravity":
                plan = self._plan_gravity(rng)
            else:
                plan = self._plan_open(rng, kind)
            if plan is not None:
                plan.seed, plan.attempt = seed, attempt
                plan.info["salt"] = float(self._salt(kind))
                return plan
        return None

    def _realise(self, kind: str, plans: dict[int, _Plan]) -> dict[int, _Built | None]:
        """Simulate targets, place occluders, add decor and distractors, render, verify."""
        keys = list(plans)
        t = self.frames
        solo = self._new_scene(2 * len(keys), 1)
        for j, i in enumerate(keys):
            for v in range(2):
                self._fill_row(solo, 2 * j + v, plans[i], plans[i].starts[v], v)
        pos, vel = simulate(solo, t, self.substeps)  # (2n, T, 1, 2)
        pos = pos[:, :, 0].reshape(len(keys), 2, t, 2)
        vel = vel[:, :, 0].reshape(len(keys), 2, t, 2)
        if kind == "teleport":
            pos, vel = self._teleport_legs([plans[i] for i in keys], pos, vel)
        out: dict[int, _Built | None] = {i: None for i in keys}
        alive = [j for j, i in enumerate(keys) if self._place(kind, plans[i], pos[j], vel[j])]
        joints = self._dress(
            kind, [plans[keys[j]] for j in alive], [pos[j] for j in alive], [vel[j] for j in alive]
        )
        ready = [(keys[j], jt) for j, jt in zip(alive, joints, strict=True) if jt is not None]
        if not ready:
            return out
        scene, positions = self._render_scene([plans[i] for i, _ in ready], [jt for _, jt in ready])
        video, visible = render(scene, positions)
        n, k = len(ready), self.max_balls
        video = video.reshape(n, 2, t, 3, self.size, self.size)
        visible = visible.reshape(n, 2, t, k)
        for r, (i, jt) in enumerate(ready):
            plan = plans[i]
            if kind in OPEN_VIEW_KINDS:
                d = self._verify_open(plan, video[r], visible[r])
                # the impossible clip is A before d and variant B from d on
                sources = np.stack([np.zeros(t, np.int64), (np.arange(t) >= plan.info["d"]) * 1])
            else:
                d = self._verify_quad(plan, video[r], visible[r])
                sources = _segment_sources(plan.splices, t)
            if d is not None:
                out[i] = _Built(plan, video[r], jt, visible[r], sources, d)
        return out

    def _place(self, kind: str, plan: _Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        """Add the occluders from the simulated target; False if this plan cannot work."""
        if kind in ("permanence", "continuity", "colour"):
            return self._place_crossing(plan, pos)
        if kind == "solidity":
            return self._place_solidity(plan, pos, vel)
        if kind == "gravity":
            return self._place_gravity(plan, pos)
        return True  # open view: no occluders

    # -- planning: crossings (permanence, continuity, colour) ----------------------------------

    def _gravity_draw(self, rng: np.random.Generator) -> float:
        """Gravity on with probability ``gravity_prob``, as in physics2d."""
        return self.gravity if rng.random() < self.gravity_prob else 0.0

    def _horizontal(
        self, rng: np.random.Generator, r: float, n_occ: int, vx_lo: float, vx_hi: float
    ) -> dict | None:
        """Horizontal plan of a ball crossing ``n_occ`` occluders at constant |vx|.

        Hidden count h and a phase u fix each occluder's width W = |vx| (h - 1 + u) + 2 (r +
        margin): centred on the ball at t1 + (h - 1) / 2, it hides the ball at exactly frames
        t1 .. t1 + h - 1 (u in (0.2, 0.8) keeps the neighbours out). |vx| is drawn inside the
        interval where W, the speed, the frame and the time budget (fully visible at frame 0,
        seen in the gap, half out again before the end) all fit.
        """
        s, t = self.size, self.frames
        inner = 2 * (r + HIDE_MARGIN)
        extra_gap = rng.uniform(0.0, r)
        # Frames needed ~ sum(spans) + 2 (n - 1) + fixed / |vx| + 2 (rounding to frames).
        fixed = 3 * r + 3 * HIDE_MARGIN + 1.5
        if n_occ == 2:
            fixed += 3 * r + 2 * HIDE_MARGIN + extra_gap
        # Longest span any feasible plan allows (the others at their shortest): drawing counts
        # below this cap is the same as drawing them all and rejecting the infeasible ones.
        others = (n_occ - 1) * (self.occlusion[0] - 0.8)
        w_in = self.occluder_width[1] - inner
        cap = min(w_in * (t - 2 * n_occ - others) / (fixed + w_in), t - 2 * n_occ - others)
        cap = min(cap, t - 2 * n_occ - others - fixed / max(vx_hi, 1e-9))
        top = min(self.occlusion[1], math.floor(cap + 0.8))
        if top < self.occlusion[0]:
            return None
        counts = [int(c) for c in rng.integers(self.occlusion[0], top + 1, n_occ)]
        spans = [c - 1 + rng.uniform(0.2, 0.8) for c in counts]
        budget = t - 2.0 - sum(spans) - 2 * (n_occ - 1)
        room = s - 2 * r - 1.0 - fixed
        if budget <= 0 or room <= 0:
            return None
        lo = max(vx_lo, fixed / budget, *((self.occluder_width[0] - inner) / a for a in spans))
        hi = min(vx_hi, room / (sum(spans) + n_occ - 1))
        hi = min(hi, *((self.occluder_width[1] - inner) / a for a in spans))
        if hi < lo:
            return None
        vx = rng.uniform(lo, hi)
        widths = [vx * a + inner for a in spans]
        first = (widths[0] / 2 + r + HIDE_MARGIN + 0.5) / vx - (counts[0] - 1) / 2
        options = []
        for t1 in range(max(1, math.ceil(first)), t):
            windows = [(t1, counts[0])]
            if n_occ == 2:  # a gap of r + |vx| (+ extra) so that the ball shows in it
                centre0 = t1 + (counts[0] - 1) / 2
                gap_frames = ((widths[0] + widths[1]) / 2 + r + vx + extra_gap) / vx
                windows.append((math.ceil(centre0 + gap_frames - (counts[1] - 1) / 2), counts[1]))
            last_t1, last_h = windows[-1]
            t_exit = last_t1 + (last_h - 1) / 2 + (widths[-1] / 2 + 1.0) / vx
            if t_exit > t - 1:
                break
            options.append((windows, t_exit))
        if not options:
            return None
        windows, t_exit = options[int(rng.integers(len(options)))]
        direction = 1.0 if rng.random() < 0.5 else -1.0
        x_hi = s - r - 0.5 - vx * t_exit  # no side wall until the ball is out again
        if x_hi < r + 0.5:
            return None
        x0 = rng.uniform(r + 0.5, x_hi)
        if direction < 0:
            x0 = s - x0
        return {
            "vx": direction * vx,
            "x0": x0,
            "widths": widths,
            "counts": counts,
            "windows": windows,
            "t_exit": t_exit,
        }

    def _plan_crossing(self, rng: np.random.Generator, n_occ: int, kind: str) -> _Plan | None:
        """Permanence, continuity and colour: a ball crossing one or two occluders."""
        s = self.size
        g = self._gravity_draw(rng)
        r = rng.uniform(*self.radius)
        tilt = rng.uniform(-MAX_TILT, MAX_TILT) if g == 0.0 else 0.0
        if g == 0.0:
            lo, hi = self.speed[0] * math.cos(tilt), self.speed[1] * math.cos(tilt)
        else:
            lo, hi = 0.05, self.speed[1]
        plan = self._horizontal(rng, r, n_occ, lo, hi)
        if plan is None:
            return None
        vx = abs(plan["vx"])
        if g == 0.0:
            vy = vx * math.tan(tilt)
        else:
            v_hi = math.sqrt(max(0.0, self.speed[1] ** 2 - vx**2))
            v_lo = math.sqrt(max(0.0, self.speed[0] ** 2 - vx**2))
            vy = rng.uniform(v_lo, v_hi) * (1.0 if rng.random() < 0.5 else -1.0)
        speed = math.hypot(vx, vy)
        y0 = rng.uniform(r + 0.5, s - r - 0.5)
        palette = rng.choice(len(PALETTE), size=2, replace=False)
        colours = [int(palette[0]), int(palette[1] if kind == "colour" else palette[0])]
        start = ((plan["x0"], y0), (plan["vx"], vy))
        starts = [start, start if kind == "colour" else None]
        info = {
            "speed": speed,
            "occluder_width": plan["widths"][0],
            "occlusion": float(plan["counts"][0]),
        }
        for n, w in enumerate(plan["widths"]):
            info[f"width{n}"] = w
        return _Plan(0, 0, g, r, colours, starts, [], plan["windows"], info)

    def _place_crossing(self, plan: _Plan, pos: np.ndarray) -> bool:
        """Occluders centred on the ball at each window's middle, tall enough to cover it."""
        s = self.size
        track = pos[0]  # variant A (B is absent or on the same track)
        for n, (t1, h) in enumerate(plan.windows):
            centre_t = t1 + (h - 1) / 2
            lo_t = math.floor(centre_t)
            frac = centre_t - lo_t
            x_c = track[lo_t, 0] * (1 - frac) + track[min(lo_t + 1, len(track) - 1), 0] * frac
            ys = track[t1 : t1 + h, 1]
            if not self._add_occluder(plan, x_c, plan.info[f"width{n}"], ys.min(), ys.max(), s):
                return False
        return True

    def _add_occluder(
        self, plan: _Plan, x_c: float, width: float, y_min: float, y_max: float, s: int
    ) -> bool:
        """Append an occluder of this width covering balls with centres in [y_min, y_max]."""
        rng = np.random.default_rng([plan.seed, 7, plan.attempt, len(plan.occluders)])
        lo = max(0.0, y_min - plan.radius - HIDE_MARGIN)
        hi = min(float(s), y_max + plan.radius + HIDE_MARGIN)
        height = max(rng.uniform(*self.occluder_height) * s, hi - lo)
        if height > s:
            return False
        low = max(0.0, hi - height)
        y0 = rng.uniform(low, max(low, min(lo, s - height)))
        plan.occluders.append((x_c - width / 2, y0, x_c + width / 2, y0 + height))
        return True

    # -- planning: solidity --------------------------------------------------------------------

    def _plan_solidity(self, rng: np.random.Generator) -> _Plan | None:
        """A: falls onto a platform and bounces up; B: rises into its underside, falls back.

        Both hit the platform at the same (possibly fractional) time t_b, the middle of the
        hidden window, with the same horizontal track. Vertical motion is planned backwards
        from the contact: above, height over the contact point h(tau) = u tau - g tau^2 / 2;
        below, depth d(tau) = u tau + g tau^2 / 2, tau = |t - t_b| (elastic: same after).
        """
        s, t = self.size, self.frames
        g = self._gravity_draw(rng)
        r = rng.uniform(*self.radius)
        th = rng.uniform(*self.platform_thickness)
        w = rng.uniform(*self.occluder_width)
        h = int(rng.integers(self.occlusion[0], self.occlusion[1] + 1))
        u_a, u_b = rng.uniform(*self.speed, size=2)
        slack = w / 2 - r - HIDE_MARGIN - 0.25
        if slack <= 0:
            return None
        vx = rng.uniform(-1.0, 1.0) * min(0.5, slack / max(h, 2))
        tau1 = (h - 1) / 2

        def up(tau: float) -> float:
            return u_a * tau - 0.5 * g * tau * tau

        def down(tau: float) -> float:
            return u_b * tau + 0.5 * g * tau * tau

        need = 2 * r + HIDE_MARGIN + 0.5  # from fully visible to fully hidden
        apex = u_a / g if g > 0 else float("inf")
        options = []
        for t1 in range(1, t - h):
            t_b = t1 + tau1
            after = t - 1 - t_b
            if up(t_b) - up(tau1) < need or down(t_b) - down(tau1) < need:
                continue  # not fully visible at frame 0
            if min(up(after), down(after)) - max(up(tau1), down(tau1)) < r + HIDE_MARGIN:
                continue  # would not re-emerge before the end
            rise = up(min(max(t_b, after), apex))
            y_lo = 2 * r + 0.5 + rise  # top of the platform: room above for A's flight
            y_hi = s - 2 * r - 0.5 - th - down(t_b)  # and below for B's start
            if y_hi >= y_lo:
                options.append((t1, y_lo, y_hi))
        if not options:
            return None
        t1, y_lo, y_hi = options[int(rng.integers(len(options)))]
        t_b = t1 + tau1
        y_top = rng.uniform(y_lo, y_hi)
        length_lo = max(self.platform_length[0], w + 2 * PLATFORM_SHOW + 1)
        if length_lo > self.platform_length[1]:
            return None
        length = rng.uniform(length_lo, self.platform_length[1])
        x_o = rng.uniform(w / 2 + PLATFORM_SHOW + 1, s - w / 2 - PLATFORM_SHOW - 1)
        px_lo = max(1.0, x_o + w / 2 + PLATFORM_SHOW - length)
        px_hi = min(s - 1.0 - length, x_o - w / 2 - PLATFORM_SHOW)
        if px_hi < px_lo:
            return None
        px0 = rng.uniform(px_lo, px_hi)
        drift = abs(vx) * tau1
        x_b = x_o + rng.uniform(-1.0, 1.0) * max(0.0, slack - drift)
        x0 = x_b - vx * t_b
        if not (r + 0.5 <= x0 <= s - r - 0.5 and r + 0.5 <= x0 + vx * (t - 1) <= s - r - 0.5):
            return None
        y_a0 = y_top - r - up(t_b)
        y_b0 = y_top + th + r + down(t_b)
        v_a = (vx, u_a - g * t_b)
        v_b = (vx, -(u_b + g * t_b))
        top = math.sqrt(self.speed[1] ** 2 + 2 * g * s)
        if math.hypot(*v_a) > top or math.hypot(*v_b) > top:
            return None
        colour = int(rng.integers(len(PALETTE)))
        info = {
            "speed": float(math.hypot(*v_a)),
            "occluder_width": w,
            "occlusion": float(h),
            "x_o": x_o,
            "width0": w,
            "y_top": y_top,
            "y_bottom": y_top + th,
        }
        return _Plan(
            0,
            0,
            g,
            r,
            [colour, colour],
            [((x0, y_a0), v_a), ((x0, y_b0), v_b)],
            [(px0, y_top, px0 + length, y_top + th)],
            [(t1, h)],
            info,
        )

    def _place_solidity(self, plan: _Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        """Occluder edges just inside the ball at the window's ends; checks both bounces."""
        (t1, h), r = plan.windows[0], plan.radius
        t2 = t1 + h - 1
        top = min(pos[0, t1, 1], pos[0, t2, 1]) - r - HIDE_MARGIN
        bottom = max(pos[1, t1, 1], pos[1, t2, 1]) + r + HIDE_MARGIN
        bounced = vel[0, t1, 1] > 0 > vel[0, t2, 1] and vel[1, t1, 1] < 0 < vel[1, t2, 1]
        if not bounced or top < 0 or bottom > self.size:
            return False
        w, x_o = plan.info["width0"], plan.info["x_o"]
        plan.occluders.append((x_o - w / 2, top, x_o + w / 2, bottom))
        return True

    # -- planning: gravity / support -----------------------------------------------------------

    def _plan_gravity(self, rng: np.random.Generator) -> _Plan | None:
        """A: a ball hops along the top of a platform; B: the same ball falls below it."""
        s = self.size
        g = self.gravity
        r = rng.uniform(*self.radius)
        th = rng.uniform(*self.platform_thickness)
        amplitude = rng.uniform(0.0, 1.5 * r)  # A's hop height over the platform
        height = amplitude * rng.uniform(0.0, 1.0)
        vy_a = math.sqrt(2 * g * (amplitude - height)) * (1 if rng.random() < 0.5 else -1)
        gap = rng.uniform(1.0, 3.0)  # B starts this far under the platform, barely moving
        vy_b = rng.uniform(0.0, 0.4)
        vy = max(abs(vy_a), vy_b)
        lo = math.sqrt(max(0.0, self.speed[0] ** 2 - min(abs(vy_a), vy_b) ** 2))
        hi = math.sqrt(max(0.0, self.speed[1] ** 2 - vy**2))
        plan = self._horizontal(rng, r, 1, lo, hi)
        if plan is None:
            return None
        vx, x0, w = plan["vx"], plan["x0"], plan["widths"][0]
        (t1, h), t_exit = plan["windows"][0], plan["t_exit"]
        x_c = x0 + vx * (t1 + (h - 1) / 2)
        # The platform carries A from frame 0 until it is half out (1 px past the far edge).
        x_out = x0 + vx * t_exit
        ends = sorted([x0, x_out, x_c - w / 2 - PLATFORM_SHOW, x_c + w / 2 + PLATFORM_SHOW])
        px0 = ends[0] - rng.uniform(1.0, 4.0)
        px1 = ends[-1] + rng.uniform(1.0, 4.0)
        if px0 < 1.0 or px1 > s - 1.0 or px1 - px0 > max(self.platform_length[1], 2.0 * w):
            return None
        y_lo = 2 * r + amplitude + 1.0
        y_hi = s - th - 2 * r - gap - 4.0
        if y_hi < y_lo:
            return None
        y_top = rng.uniform(y_lo, y_hi)
        colour = int(rng.integers(len(PALETTE)))
        start_a = ((x0, y_top - r - height), (vx, vy_a))
        start_b = ((x0, y_top + th + r + gap), (vx, vy_b))
        info = {
            "speed": float(math.hypot(vx, vy_a)),
            "occluder_width": w,
            "occlusion": float(h),
            "width0": w,
            "t_out": t_exit,
            "y_top": y_top,
            "y_bottom": y_top + th,
        }
        return _Plan(
            0,
            0,
            g,
            r,
            [colour, colour],
            [start_a, start_b],
            [(px0, y_top, px1, y_top + th)],
            [(t1, h)],
            info,
        )

    def _place_gravity(self, plan: _Plan, pos: np.ndarray) -> bool:
        """Occluder over both tracks in the window; A must still be on top when it re-emerges."""
        (t1, h), r = plan.windows[0], plan.radius
        t_out = math.floor(plan.info["t_out"])
        on_top = pos[0, : t_out + 1, 1] <= plan.info["y_top"] - r + 0.5
        below = pos[1, :, 1] >= plan.info["y_bottom"] + r - 0.5
        if not (on_top.all() and below.all()):
            return False
        centre_t = t1 + (h - 1) / 2
        lo_t = math.floor(centre_t)
        frac = centre_t - lo_t
        x_c = pos[0, lo_t, 0] * (1 - frac) + pos[0, lo_t + 1, 0] * frac
        ys_a, ys_b = pos[0, t1 : t1 + h, 1], pos[1, t1 : t1 + h, 1]
        return self._add_occluder(plan, x_c, plan.info["width0"], ys_a.min(), ys_b.max(), self.size)

    # -- planning: open view -------------------------------------------------------------------

    def _plan_open(self, rng: np.random.Generator, kind: str) -> _Plan | None:
        """A ball in plain view; at frame d it teleports, vanishes or changes colour."""
        s, t = self.size, self.frames
        g = self._gravity_draw(rng)
        r = rng.uniform(*self.radius)
        speed = rng.uniform(*self.speed)
        angle = rng.uniform(0.0, 2 * math.pi)
        x0, y0 = rng.uniform(r + 0.5, s - r - 0.5, size=2)
        first, last = {"teleport": (t // 2, t - 2), "colour_flip": (t - 3, t - 2)}.get(
            kind, (t - 1, t - 1)
        )
        d = int(rng.integers(first, last + 1))
        palette = rng.choice(len(PALETTE), size=2, replace=False)
        colours = [int(palette[0]), int(palette[1] if kind == "colour_flip" else palette[0])]
        start = ((float(x0), float(y0)), (speed * math.cos(angle), speed * math.sin(angle)))
        info = {"speed": speed, "d": float(d), "occluder_width": 0.0, "occlusion": 0.0}
        info["vanish"] = float(kind == "vanish")
        if kind == "teleport":
            jump = rng.uniform(2 * r + 4.0, 2 * r + 16.0)
            heading = rng.uniform(0.0, 2 * math.pi)
            info["jump_x"], info["jump_y"] = jump * math.cos(heading), jump * math.sin(heading)
        return _Plan(0, 0, g, r, colours, [start, start], [], [], info)

    def _teleport_legs(
        self, plans: list[_Plan], pos: np.ndarray, vel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Variant B of a teleport: the same ball, moved by the jump at frame d, then simulated."""
        t, s = self.frames, self.size
        pos, vel = pos.copy(), vel.copy()
        legs = self._new_scene(len(plans), 1)
        for j, plan in enumerate(plans):
            d = int(plan.info["d"])
            p = pos[j, 0, d] + (plan.info["jump_x"], plan.info["jump_y"])
            p = np.clip(p, plan.radius + 0.5, s - plan.radius - 0.5)
            self._fill_row(legs, j, plan, (tuple(p), tuple(vel[j, 0, d])), 1)
        leg_pos, leg_vel = simulate(legs, t, self.substeps)
        for j, plan in enumerate(plans):
            d = int(plan.info["d"])
            pos[j, 1, d:] = leg_pos[j, : t - d, 0]
            vel[j, 1, d:] = leg_vel[j, : t - d, 0]
            plan.info["jump"] = float(np.hypot(*(pos[j, 1, d] - pos[j, 0, d])))
        return pos, vel

    def _verify_open(self, plan: _Plan, video: np.ndarray, visible: np.ndarray) -> int | None:
        """The event frame d if the ball is fully in view around it (and after a jump), else
        None; variant B at d is the impossible clip's first differing frame."""
        d = int(plan.info["d"])
        if visible[0, d - 1, 0] < FULL or visible[0, d, 0] < FULL:
            return None
        if "jump" in plan.info and (
            plan.info["jump"] < 2 * plan.radius + 2.0 or visible[1, d, 0] < FULL
        ):
            return None
        if np.array_equal(video[0, d], video[1, d]):
            return None
        return d

    # -- distractors, decor and rendering ------------------------------------------------------

    def _new_scene(self, n: int, k: int, occluders: int = 0) -> Scene:
        """An empty physics2d Scene of n worlds with k ball slots."""
        return Scene(
            position=np.zeros((n, k, 2)),
            velocity=np.zeros((n, k, 2)),
            radius=np.ones((n, k)),
            mass=np.ones((n, k)),
            colour=np.zeros((n, k, 3), np.uint8),
            present=np.zeros((n, k), bool),
            gravity=np.zeros(n),
            platforms=np.zeros((n, MAX_PLATFORMS, 4)),
            platform_present=np.zeros((n, MAX_PLATFORMS), bool),
            occluders=np.zeros((n, occluders, 4)),
            occluder_present=np.zeros((n, occluders), bool),
            size=self.size,
        )

    @staticmethod
    def _fill_row(
        scene: Scene,
        row: int,
        plan: _Plan,
        target: tuple[Sequence[float], Sequence[float]] | None,
        variant: int,
        others: dict | None = None,
    ) -> None:
        """World ``row``: the plan's gravity and platforms, the target in slot 0 (absent if
        None), then ``others`` (distractor arrays ``position``, ``velocity``, ``radius``,
        ``colour``) in the following slots."""
        scene.gravity[row] = plan.gravity
        for p, rect in enumerate(plan.platforms):
            scene.platforms[row, p] = rect
            scene.platform_present[row, p] = True
        scene.radius[row, 0] = plan.radius
        scene.mass[row, 0] = plan.radius**2
        scene.colour[row, 0] = PALETTE[plan.colours[variant]]
        if target is not None:
            scene.position[row, 0], scene.velocity[row, 0] = target
            scene.present[row, 0] = True
        if others is not None:
            m = len(others["radius"])
            scene.position[row, 1 : 1 + m] = others["position"]
            scene.velocity[row, 1 : 1 + m] = others["velocity"]
            scene.radius[row, 1 : 1 + m] = others["radius"]
            scene.mass[row, 1 : 1 + m] = np.asarray(others["radius"]) ** 2
            scene.colour[row, 1 : 1 + m] = others["colour"]
            scene.present[row, 1 : 1 + m] = True

    def _dress(
        self, kind: str, plans: list[_Plan], tracks: list[np.ndarray], vels: list[np.ndarray]
    ) -> list[dict | None]:
        """Decor platforms, then distractors that never touch the target (A or B).

        Candidates are simulated jointly with the target (plain physics2d); one is kept only
        if the target's track is the same as alone, i.e. they never met, so the distractors are
        the same in both variants and the splice frames stay identical.
        """
        rngs, counts = [], []
        for plan, track in zip(plans, tracks, strict=True):
            rng = np.random.default_rng([plan.seed, 11, plan.attempt])
            self._decor(rng, plan, track)
            rngs.append(rng)
            # The count depends on the seed only, so re-drawn attempts keep it uniform.
            count_rng = np.random.default_rng([plan.seed, 13, int(plan.info["salt"])])
            counts.append(int(count_rng.integers(self.distractors[0], self.distractors[1] + 1)))
        out: list[dict | None] = [None] * len(plans)
        pending = list(range(len(plans)))
        for round_ in range(_ROUNDS):
            if not pending:
                break
            drawn = []
            for j in pending:  # no distractors: one empty set still checks the decor
                sets = _CANDIDATES if counts[j] else 1
                for c in self._draw_distractors(rngs[j], plans[j], tracks[j], counts[j], sets):
                    drawn.append((j, c))
            keep = 1 if round_ == 0 else 2
            cands, taken = [], dict.fromkeys(pending, 0)
            for (j, c), free in zip(drawn, self._free_of_target(plans, tracks, drawn), strict=True):
                if free and taken[j] < keep:
                    cands.append((j, c))
                    taken[j] += 1
            for j, joint in self._joint_round(kind, plans, tracks, vels, cands).items():
                out[j] = joint
            pending = [j for j in pending if out[j] is None]
        return out

    def _free_of_target(
        self, plans: list[_Plan], tracks: list[np.ndarray], drawn: list[tuple[int, dict]]
    ) -> list[bool]:
        """Cheap screen: candidates whose free flight (gravity and walls only) stays 1.5 px
        clear of the target's tracks. Contacts with platforms or each other are ignored here;
        the joint simulation decides."""
        if not drawn:
            return []
        t, s, k = self.frames, float(self.size), self.distractors[1]
        n = len(drawn)
        pos = np.zeros((n, k, 2))
        vel = np.zeros((n, k, 2))
        rad = np.zeros((n, k))
        grav = np.zeros((n, 1))
        for i, (j, c) in enumerate(drawn):
            m = len(c["radius"])
            pos[i, :m], vel[i, :m], rad[i, :m] = c["position"], c["velocity"], c["radius"]
            grav[i] = plans[j].gravity
        lo = rad[..., None]
        hi = s - lo
        track = np.zeros((n, t, k, 2))
        track[:, 0] = pos
        half = 0.5
        for f in range(1, t):
            for _ in range(2):
                vel[..., 1] += grav * half
                pos += vel * half
                out_lo, out_hi = pos < lo, pos > hi
                pos = np.where(out_lo, 2 * lo - pos, np.where(out_hi, 2 * hi - pos, pos))
                vel = np.where(out_lo | out_hi, -vel, vel)
            track[:, f] = pos
        free = []
        for i, (j, c) in enumerate(drawn):
            plan, ok, m = plans[j], True, len(c["radius"])
            for v in range(2):
                if ok and plan.starts[v] is not None:
                    rel = track[i, :, :m] - tracks[j][v][:, None]
                    gap = np.hypot(rel[..., 0], rel[..., 1]) - plan.radius - rad[i, :m]
                    ok = bool((gap >= 1.5).all())
            free.append(ok)
        return free

    def _joint(
        self,
        plan: _Plan,
        track: np.ndarray,
        vel: np.ndarray,
        others: dict,
        dpos: np.ndarray,
        dvel: np.ndarray,
    ) -> dict:
        """Per-variant arrays of target + distractors: ``position``/``velocity`` (2, T, K, 2),
        ``radius`` (K,), ``colour`` (2, K, 3), ``present`` (2, K) (a vanish hides B's target)."""
        k, t = self.max_balls, self.frames
        m = len(others["radius"])
        joint = {
            "position": np.zeros((2, t, k, 2)),
            "velocity": np.zeros((2, t, k, 2)),
            "radius": np.ones(k),
            "colour": np.zeros((2, k, 3), np.uint8),
            "present": np.zeros((2, k), bool),
        }
        joint["radius"][0] = plan.radius
        joint["radius"][1 : 1 + m] = others["radius"]
        joint["colour"][:, 1 : 1 + m] = others["colour"]
        joint["present"][:, 1 : 1 + m] = True
        joint["position"][:, :, 1 : 1 + m] = dpos
        joint["velocity"][:, :, 1 : 1 + m] = dvel
        for v in range(2):
            joint["colour"][v, 0] = PALETTE[plan.colours[v]]
            if plan.starts[v] is not None:
                joint["present"][v, 0] = not (v == 1 and plan.info.get("vanish", 0.0))
                joint["position"][v, :, 0] = track[v]
                joint["velocity"][v, :, 0] = vel[v]
        return joint

    def _joint_round(
        self,
        kind: str,
        plans: list[_Plan],
        tracks: list[np.ndarray],
        vels: list[np.ndarray],
        cands: list[tuple[int, dict]],
    ) -> dict[int, dict]:
        """Simulate each candidate set with the target; keep each plan's first clean one.

        One joint world per variant that moves differently: B needs its own only when it holds
        a target on another track (solidity, gravity). Without contact the distractors move
        exactly as they would alone, so one world gives them for both variants.
        """
        if not cands:
            return {}
        t, k = self.frames, self.max_balls
        rows: list[tuple[int, int]] = []  # (candidate, variant)
        for c_index, (j, _) in enumerate(cands):
            plan = plans[j]
            own_b = plan.starts[1] is not None and plan.starts[1] != plan.starts[0]
            rows.extend(
                [(c_index, 0), (c_index, 1)] if own_b and kind != "teleport" else [(c_index, 0)]
            )
        scene = self._new_scene(len(rows), k)
        for row, (c_index, v) in enumerate(rows):
            j, c = cands[c_index]
            self._fill_row(scene, row, plans[j], plans[j].starts[v], v, c)
        pos, vel = simulate(scene, t, self.substeps)
        by_cand: dict[int, list[int]] = {}
        for row, (c_index, _) in enumerate(rows):
            by_cand.setdefault(c_index, []).append(row)
        chosen: dict[int, dict] = {}
        legs = []
        for c_index, (j, c) in enumerate(cands):
            if j in chosen:
                continue
            m, plan = len(c["radius"]), plans[j]
            own = by_cand[c_index]
            dpos, dvel = pos[own[0], :, 1 : 1 + m], vel[own[0], :, 1 : 1 + m]
            clean = all(np.array_equal(pos[r, :, 1 : 1 + m], dpos) for r in own)
            for v, r in enumerate(own):
                if clean and plan.starts[v] is not None:
                    clean = np.allclose(pos[r, :, 0], tracks[j][v], rtol=0.0, atol=1e-9)
            for v in range(2):  # the ball's discs (A and B tracks) keep 1 px from distractors
                if clean and plan.starts[v] is not None:
                    clean = self._apart(plan.radius, tracks[j][v], c["radius"], dpos)
            if clean:
                both_p, both_v = np.stack([dpos, dpos]), np.stack([dvel, dvel])
                chosen[j] = self._joint(plan, tracks[j], vels[j], c, both_p, both_v)
                legs.append((j, c, dpos, dvel))
        if kind == "teleport" and legs:
            for j in self._teleport_clash(plans, tracks, vels, legs):
                del chosen[j]
        return chosen

    def _teleport_clash(
        self,
        plans: list[_Plan],
        tracks: list[np.ndarray],
        vels: list[np.ndarray],
        legs: list[tuple[int, dict, np.ndarray, np.ndarray]],
    ) -> list[int]:
        """Plans whose teleported ball (from frame d) would touch a distractor."""
        t = self.frames
        scene = self._new_scene(len(legs), self.max_balls)
        for row, (j, c, dpos, dvel) in enumerate(legs):
            d = int(plans[j].info["d"])
            others = dict(c, position=dpos[d], velocity=dvel[d])
            self._fill_row(scene, row, plans[j], (tracks[j][1, d], vels[j][1, d]), 1, others)
        pos, _ = simulate(scene, t, self.substeps)
        bad = []
        for row, (j, c, dpos, _) in enumerate(legs):
            d, m = int(plans[j].info["d"]), len(c["radius"])
            same = np.allclose(pos[row, : t - d, 0], tracks[j][1, d:], rtol=0.0, atol=1e-9)
            same = same and np.allclose(pos[row, : t - d, 1 : 1 + m], dpos[d:], rtol=0.0, atol=1e-9)
            if not (same and self._apart(plans[j].radius, tracks[j][1], c["radius"], dpos)):
                bad.append(j)
        return bad

    @staticmethod
    def _apart(radius: float, track: np.ndarray, dradius: np.ndarray, dpos: np.ndarray) -> bool:
        """At least 1 px between the target's disc and every distractor's, at every frame.

        (Anti-aliased discs reach 0.5 px further, so their pixels never mix.)"""
        gap = np.hypot(*(dpos - track[:, None]).transpose(2, 0, 1)) - radius - dradius
        return bool((gap >= 1.0).all())

    def _decor(self, rng: np.random.Generator, plan: _Plan, track: np.ndarray) -> None:
        """0-2 platforms in all (as physics2d), clear of the target's whole track."""
        wanted = int(rng.integers(0, MAX_PLATFORMS + 1)) - len(plan.platforms)
        margin = 2 * self.radius[1] + 1.0
        points = track[[v for v in range(2) if plan.starts[v] is not None]].reshape(-1, 2)
        for _ in range(max(0, wanted)):
            tries = 16
            length = rng.uniform(*self.platform_length, size=tries)
            thick = rng.uniform(*self.platform_thickness, size=tries)
            ux, uy = rng.uniform(0.0, 1.0, size=(2, tries))
            room_x = self.size - 2 * margin - length
            room_y = self.size - 2 * margin - thick
            x0, y0 = margin + ux * room_x, margin + uy * room_y
            rects = np.stack([x0, y0, x0 + length, y0 + thick], axis=1)
            ok = (room_x >= 0) & (room_y >= 0)
            nearest = np.clip(points[None], rects[:, None, :2], rects[:, None, 2:])
            clearance = np.hypot(*(points[None] - nearest).transpose(2, 0, 1)).min(axis=1)
            ok &= clearance >= plan.radius + 2.0
            for other in plan.platforms:
                gap_x = np.maximum(other[0] - rects[:, 2], rects[:, 0] - other[2])
                gap_y = np.maximum(other[1] - rects[:, 3], rects[:, 1] - other[3])
                ok &= np.maximum(gap_x, gap_y) >= margin
            if ok.any():
                plan.platforms.append(tuple(float(v) for v in rects[np.argmax(ok)]))

    def _draw_distractors(
        self, rng: np.random.Generator, plan: _Plan, track: np.ndarray, count: int, sets: int
    ) -> list[dict]:
        """Up to ``sets`` candidate sets of ``count`` distractors, drawn as physics2d draws
        balls (radius, speed, direction, palette colour other than the target's), placed
        uniformly without overlapping each other, the platforms or the target's start."""
        s, tries = self.size, 32
        allowed = np.array([c for c in range(len(PALETTE)) if c not in set(plan.colours)])
        ids = np.argsort(rng.random((sets, len(allowed))), axis=1)[:, :count]
        radius = rng.uniform(*self.radius, size=(sets, count))
        speed = rng.uniform(*self.distractor_speed, size=(sets, count))
        angle = rng.uniform(0.0, 2 * math.pi, size=(sets, count))
        r = radius[:, None, :, None]
        cand = r + rng.random((sets, tries, count, 2)) * (s - 2 * r)  # (S, N, m, 2)
        ok = np.ones((sets, tries), bool)
        for i in range(count):
            for j in range(i):
                gap = np.hypot(*np.moveaxis(cand[:, :, i] - cand[:, :, j], -1, 0))
                ok &= gap >= radius[:, None, i] + radius[:, None, j] + 0.5
        for v in range(2):
            if plan.starts[v] is not None:
                gap = np.hypot(*np.moveaxis(cand - track[v, 0], -1, 0))  # (S, N, m)
                ok &= (gap >= radius[:, None] + plan.radius + 2.0).all(-1)
        for rect in plan.platforms:
            nearest = np.clip(cand, rect[:2], rect[2:])
            gap = np.hypot(*np.moveaxis(cand - nearest, -1, 0))
            ok &= (gap >= radius[:, None] + 0.5).all(-1)
        out = []
        for c in np.flatnonzero(ok.any(axis=1)):
            pick = int(np.argmax(ok[c]))
            out.append(
                {
                    "position": cand[c, pick],
                    "velocity": speed[c, :, None]
                    * np.stack([np.cos(angle[c]), np.sin(angle[c])], axis=1),
                    "radius": radius[c],
                    "colour": PALETTE[allowed[ids[c]]],
                }
            )
        return out

    def _render_scene(self, plans: list[_Plan], joints: list[dict]) -> tuple[Scene, np.ndarray]:
        """The scene to render (2 rows per plan: variants A, B) and its positions."""
        n, k, t = 2 * len(plans), self.max_balls, self.frames
        scene = self._new_scene(n, k, occluders=2)
        positions = np.zeros((n, t, k, 2))
        for j, (plan, joint) in enumerate(zip(plans, joints, strict=True)):
            for v in range(2):
                row = 2 * j + v
                self._fill_row(scene, row, plan, None, v)
                scene.radius[row] = joint["radius"]
                scene.mass[row] = joint["radius"] ** 2
                scene.colour[row] = joint["colour"][v]
                scene.present[row] = joint["present"][v]
                scene.position[row] = joint["position"][v, 0]
                for o, rect in enumerate(plan.occluders):
                    scene.occluders[row, o] = rect
                    scene.occluder_present[row, o] = True
                positions[row] = joint["position"][v] * joint["present"][v][None, :, None]
        return scene, positions

    # -- verification --------------------------------------------------------------------------

    def _verify_quad(self, plan: _Plan, video: np.ndarray, visible: np.ndarray) -> int | None:
        """Check the plan on the pixels; return the divergence frame, or None to re-draw."""
        t = self.frames
        splices = plan.splices
        target = visible[:, :, 0]  # (2, T)
        has = [plan.starts[0] is not None, plan.starts[1] is not None]
        for v in range(2):
            if has[v] and target[v, 0] < FULL:
                return None
        for s in splices:
            if not np.array_equal(video[0, s], video[1, s]):
                return None
        src = _segment_sources(splices, t)
        for m in range(4):
            vis = target[src[m], np.arange(t)]
            hidden = vis <= 0.0
            for s in splices:
                if not hidden[s]:
                    return None
                lo, hi = _hidden_run(hidden, s)
                if hi - lo + 1 < self.occlusion[0]:
                    return None
                if m < 2 and has[m] and (lo == 0 or hi == t - 1 or hi - lo + 1 > self.occlusion[1]):
                    return None
        for v in range(2):
            if not has[v]:
                continue
            runs = [_hidden_run(target[v] <= 0.0, s) for s in splices]
            if target[v, runs[-1][1] + 1 :].max() < SEEN:
                return None  # never seen again after the last occlusion
            if len(runs) == 2 and target[v, runs[0][1] + 1 : runs[1][0]].max() < SEEN:
                return None  # not seen in the gap
        differs = np.flatnonzero(
            (video[0, splices[0] + 1 :] != video[1, splices[0] + 1 :])
            .reshape(t - splices[0] - 1, -1)
            .any(1)
        )
        if not len(differs):
            return None
        return int(splices[0] + 1 + differs[0])

    # -- feasibility and bookkeeping -----------------------------------------------------------

    def _check_feasible(self) -> None:
        """Fail fast (ValueError naming the knobs) when some kind can never be planned."""
        for kind in (*self.properties, *OPEN_VIEW_KINDS):
            rng = np.random.default_rng(12345)
            if not any(self._plan(kind, rng, 0, 0) is not None for _ in range(_FEASIBLE_TRIES)):
                raise ValueError(self._infeasible_message(kind, None))

    def _infeasible_message(self, kind: str, seed: int | None) -> str:
        where = f" (seed {seed}, after {self.max_attempts} attempts)" if seed is not None else ""
        return (
            f"cannot build {kind!r} stimuli{where} with frames={self.frames}, size={self.size}, "
            f"occluder_width={self.occluder_width}, speed={self.speed}, "
            f"occlusion={self.occlusion}, radius={self.radius}, "
            f"platform_length={self.platform_length}: widen these ranges (a ball must cross an "
            "occluder, stay hidden for occlusion frames and be seen on both sides within frames)"
        )

    def _geometry(self, built: list[_Built]) -> dict[str, np.ndarray]:
        keys = ("speed", "occluder_width", "occlusion")
        geometry = {key: np.array([b.plan.info[key] for b in built], np.float32) for key in keys}
        geometry["radius"] = np.array([b.plan.radius for b in built], np.float32)
        geometry["gravity"] = np.array([b.plan.gravity > 0 for b in built], np.float32)
        geometry["distractors"] = np.array(
            [b.joint["present"][0, 1:].sum() for b in built], np.float32
        )
        geometry["attempts"] = np.array([b.plan.attempt + 1 for b in built], np.float32)
        return geometry

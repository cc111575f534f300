"""The world: matched VoE quadruplets and open-view pairs, drawn, verified and cut per seed.

Every stimulus is built the same way whatever its design: draw a plan from the seed's own stream,
simulate the target alone, let the design place its occluders, add decor and distractors, render
both variants, verify the plan on the pixels and cut the member clips; a plan that fails any step
is re-drawn (a new attempt for that seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from jepa_world.checks import check_int, check_pair, check_range
from jepa_world.worlds.base import Batch, as_seeds
from jepa_world.worlds.intuitive.assemble import assemble
from jepa_world.worlds.intuitive.distractors import dress
from jepa_world.worlds.intuitive.registry import (
    DESIGNS,
    OPEN_VIEW_KINDS,
    PROPERTIES,
    QUADRUPLETS,
    salt,
)
from jepa_world.worlds.intuitive.scene import (
    HIDE_MARGIN,
    MAX_DISTRACTORS,
    Built,
    Plan,
    fill_row,
    new_scene,
    render_scene,
)
from jepa_world.worlds.physics2d import render, simulate

POSSIBLE = np.array([True, True, False, False])
"""Which members of a quadruplet (A, B, C, D) are possible."""
POSSIBLE.setflags(write=False)

_PLAN_TRIES = 64  # scalar draws per attempt before an attempt counts as failed
_FEASIBLE_TRIES = 64  # plan attempts (of _PLAN_TRIES draws) before parameters count as infeasible


class IntuitivePhysics:
    """Matched VoE quadruplets and open-view pairs built on :mod:`physics2d`.

    See :mod:`jepa_world.worlds.intuitive` for the designs and why they are matched.

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
        check_int("size", size, 32, 512)
        check_int("frames", frames, 16, 1000)
        if isinstance(properties, str) or not isinstance(properties, Sequence) or not properties:
            raise ValueError(f"properties must be a non-empty sequence drawn from {PROPERTIES}")
        unknown = [p for p in properties if p not in PROPERTIES]
        if unknown or len(set(properties)) != len(properties):
            raise ValueError(
                f"properties={tuple(properties)!r}: each must be one of {PROPERTIES}, no repeats"
            )
        check_pair("radius", radius, 1.0, size / 8, ints=False)
        check_pair(
            "occluder_width", occluder_width, 2 * radius[0] + 2 * HIDE_MARGIN, size / 2, False
        )
        check_pair("speed", speed, 0.1, size / 8, ints=False)
        check_pair("occlusion", occlusion, 1, frames - 4, ints=True)
        check_pair("distractors", distractors, 0, MAX_DISTRACTORS, ints=True)
        check_range("gravity", float(gravity), 0.0, 2.0)
        check_range("gravity_prob", float(gravity_prob), 0.0, 1.0)
        if "gravity" in properties and float(gravity) <= 0:
            raise ValueError("gravity must be > 0 (up to 2.0) when the 'gravity' property is used")
        check_pair("occluder_height", occluder_height, 0.1, 1.0, ints=False)
        check_pair("platform_length", platform_length, 4.0, float(size), ints=False)
        check_pair("platform_thickness", platform_thickness, 1.0, size / 8, ints=False)
        check_pair("distractor_speed", distractor_speed, 0.0, size / 8, ints=False)
        check_int("substeps", substeps, 1, 64)
        check_int("max_attempts", max_attempts, 1, 100_000)
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
        out = assemble(self, built, members=4, physical=2)
        out["possible"] = POSSIBLE.copy()
        out["divergence"] = np.repeat(out.pop("diverge")[:, None], 4, axis=1)
        n_splices = QUADRUPLETS[prop].splices
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
        out = assemble(self, built, members=2, physical=1)
        out["possible"] = np.array([True, False])
        out["divergence"] = out.pop("diverge")
        out["kind"] = kind
        return out

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

    def _build(self, kind: str, seeds: np.ndarray) -> list[Built]:
        """Plan, simulate, dress, render and verify every seed; failed seeds try again."""
        stream = salt(kind)
        done: list[Built | None] = [None] * len(seeds)
        attempt = {i: 0 for i in range(len(seeds))}
        while attempt:
            plans: dict[int, Plan] = {}
            for i in list(attempt):
                plan = None
                while plan is None:
                    if attempt[i] >= self.max_attempts:
                        raise ValueError(self._infeasible_message(kind, int(seeds[i])))
                    rng = np.random.default_rng([int(seeds[i]), stream, attempt[i]])
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

    def _plan(self, kind: str, rng: np.random.Generator, seed: int, attempt: int) -> Plan | None:
        """Draw one plan (scalar draws from this seed's own stream); None if the draw failed."""
        design = DESIGNS[kind]
        for _ in range(_PLAN_TRIES):
            plan = design.plan(self, rng)
            if plan is not None:
                plan.seed, plan.attempt = seed, attempt
                plan.info["salt"] = float(salt(kind))
                return plan
        return None

    def _realise(self, kind: str, plans: dict[int, Plan]) -> dict[int, Built | None]:
        """Simulate targets, place occluders, add decor and distractors, render, verify."""
        keys = list(plans)
        t = self.frames
        solo = new_scene(self, 2 * len(keys), 1)
        for j, i in enumerate(keys):
            for v in range(2):
                fill_row(solo, 2 * j + v, plans[i], plans[i].starts[v], v)
        pos, vel = simulate(solo, t, self.substeps)  # (2n, T, 1, 2)
        pos = pos[:, :, 0].reshape(len(keys), 2, t, 2)
        vel = vel[:, :, 0].reshape(len(keys), 2, t, 2)
        design = DESIGNS[kind]
        pos, vel = design.legs(self, [plans[i] for i in keys], pos, vel)
        out: dict[int, Built | None] = {i: None for i in keys}
        alive = [j for j, i in enumerate(keys) if design.place(self, plans[i], pos[j], vel[j])]
        joints = dress(
            self,
            design,
            [plans[keys[j]] for j in alive],
            [pos[j] for j in alive],
            [vel[j] for j in alive],
        )
        ready = [(keys[j], jt) for j, jt in zip(alive, joints, strict=True) if jt is not None]
        if not ready:
            return out
        scene, positions = render_scene(self, [plans[i] for i, _ in ready], [jt for _, jt in ready])
        video, visible = render(scene, positions)
        n, k = len(ready), self.max_balls
        video = video.reshape(n, 2, t, 3, self.size, self.size)
        visible = visible.reshape(n, 2, t, k)
        for r, (i, jt) in enumerate(ready):
            plan = plans[i]
            d = design.verify(self, plan, video[r], visible[r])
            if d is not None:
                out[i] = Built(plan, video[r], jt, visible[r], design.sources(plan, t), d)
        return out

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

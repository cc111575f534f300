"""Decor platforms and distractor balls: what every clip of a stimulus shows besides its target.

Possible clips are typical of :class:`~jepa_world.worlds.physics2d.Physics2D` training clips: 1-3
distractors (so every clip holds 1-4 balls), palette colours, radii and speeds as physics2d draws
them, plus decor platforms (0-2 platforms in all). Distractors and decor are identical in all
clips of a stimulus. Each distractor set is simulated jointly with the target (plain physics2d)
and kept only if the target's track is the same as when it is alone, i.e. they never touch
(their discs also stay >= 1 px apart), so the joint simulation is what every clip shows and the
splice frames stay identical.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.intuitive.scene import MAX_PLATFORMS, Plan, apart, fill_row, new_scene
from jepa_world.worlds.physics2d import PALETTE, simulate

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.design import Design
    from jepa_world.worlds.intuitive.world import IntuitivePhysics

_CANDIDATES = 6  # distractor sets drawn (and screened) per quadruplet and round
_ROUNDS = 3  # distractor rounds per attempt


def dress(
    world: IntuitivePhysics,
    design: Design,
    plans: list[Plan],
    tracks: list[np.ndarray],
    vels: list[np.ndarray],
) -> list[dict | None]:
    """Decor platforms, then distractors that never touch the target (A or B).

    Candidates are simulated jointly with the target (plain physics2d); one is kept only
    if the target's track is the same as alone, i.e. they never met, so the distractors are
    the same in both variants and the splice frames stay identical.
    """
    rngs, counts = [], []
    for plan, track in zip(plans, tracks, strict=True):
        rng = np.random.default_rng([plan.seed, 11, plan.attempt])
        decor(world, rng, plan, track)
        rngs.append(rng)
        # The count depends on the seed only, so re-drawn attempts keep it uniform.
        count_rng = np.random.default_rng([plan.seed, 13, int(plan.info["salt"])])
        counts.append(int(count_rng.integers(world.distractors[0], world.distractors[1] + 1)))
    out: list[dict | None] = [None] * len(plans)
    pending = list(range(len(plans)))
    for round_ in range(_ROUNDS):
        if not pending:
            break
        drawn = []
        for j in pending:  # no distractors: one empty set still checks the decor
            sets = _CANDIDATES if counts[j] else 1
            for c in draw_distractors(world, rngs[j], plans[j], tracks[j], counts[j], sets):
                drawn.append((j, c))
        keep = 1 if round_ == 0 else 2
        cands, taken = [], dict.fromkeys(pending, 0)
        for (j, c), free in zip(drawn, free_of_target(world, plans, tracks, drawn), strict=True):
            if free and taken[j] < keep:
                cands.append((j, c))
                taken[j] += 1
        for j, joint in joint_round(world, design, plans, tracks, vels, cands).items():
            out[j] = joint
        pending = [j for j in pending if out[j] is None]
    return out


def decor(world: IntuitivePhysics, rng: np.random.Generator, plan: Plan, track: np.ndarray) -> None:
    """0-2 platforms in all (as physics2d), clear of the target's whole track."""
    wanted = int(rng.integers(0, MAX_PLATFORMS + 1)) - len(plan.platforms)
    margin = 2 * world.radius[1] + 1.0
    points = track[[v for v in range(2) if plan.starts[v] is not None]].reshape(-1, 2)
    for _ in range(max(0, wanted)):
        tries = 16
        length = rng.uniform(*world.platform_length, size=tries)
        thick = rng.uniform(*world.platform_thickness, size=tries)
        ux, uy = rng.uniform(0.0, 1.0, size=(2, tries))
        room_x = world.size - 2 * margin - length
        room_y = world.size - 2 * margin - thick
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


def draw_distractors(
    world: IntuitivePhysics,
    rng: np.random.Generator,
    plan: Plan,
    track: np.ndarray,
    count: int,
    sets: int,
) -> list[dict]:
    """Up to ``sets`` candidate sets of ``count`` distractors, drawn as physics2d draws
    balls (radius, speed, direction, palette colour other than the target's), placed
    uniformly without overlapping each other, the platforms or the target's start."""
    s, tries = world.size, 32
    allowed = np.array([c for c in range(len(PALETTE)) if c not in set(plan.colours)])
    ids = np.argsort(rng.random((sets, len(allowed))), axis=1)[:, :count]
    radius = rng.uniform(*world.radius, size=(sets, count))
    speed = rng.uniform(*world.distractor_speed, size=(sets, count))
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


def free_of_target(
    world: IntuitivePhysics,
    plans: list[Plan],
    tracks: list[np.ndarray],
    drawn: list[tuple[int, dict]],
) -> list[bool]:
    """Cheap screen: candidates whose free flight (gravity and walls only) stays 1.5 px
    clear of the target's tracks. Contacts with platforms or each other are ignored here;
    the joint simulation decides."""
    if not drawn:
        return []
    t, s, k = world.frames, float(world.size), world.distractors[1]
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


def joint_round(
    world: IntuitivePhysics,
    design: Design,
    plans: list[Plan],
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
    t, k = world.frames, world.max_balls
    rows: list[tuple[int, int]] = []  # (candidate, variant)
    for c_index, (j, _) in enumerate(cands):
        plan = plans[j]
        own_b = plan.starts[1] is not None and plan.starts[1] != plan.starts[0]
        rows.extend([(c_index, 0), (c_index, 1)] if own_b else [(c_index, 0)])
    scene = new_scene(world, len(rows), k)
    for row, (c_index, v) in enumerate(rows):
        j, c = cands[c_index]
        fill_row(scene, row, plans[j], plans[j].starts[v], v, c)
    pos, vel = simulate(scene, t, world.substeps)
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
                clean = apart(plan.radius, tracks[j][v], c["radius"], dpos)
        if clean:
            both_p, both_v = np.stack([dpos, dpos]), np.stack([dvel, dvel])
            chosen[j] = joint(world, plan, tracks[j], vels[j], c, both_p, both_v)
            legs.append((j, c, dpos, dvel))
    if legs:
        for j in design.clashes(world, plans, tracks, vels, legs):
            del chosen[j]
    return chosen


def joint(
    world: IntuitivePhysics,
    plan: Plan,
    track: np.ndarray,
    vel: np.ndarray,
    others: dict,
    dpos: np.ndarray,
    dvel: np.ndarray,
) -> dict:
    """Per-variant arrays of target + distractors: ``position``/``velocity`` (2, T, K, 2),
    ``radius`` (K,), ``colour`` (2, K, 3), ``present`` (2, K) (a vanish hides B's target)."""
    k, t = world.max_balls, world.frames
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

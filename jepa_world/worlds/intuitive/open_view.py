"""Open-view pairs, the easy subset: [possible, impossible] with no occluder.

The two clips are identical before the divergence frame ``d``; at ``d`` the fully visible target
jumps elsewhere (``teleport``, ``d`` in the second half), changes colour (``colour_flip``, ``d``
in the last 3 frames) or is gone (``vanish``, last frame). A copy-last score is surprised by a
vanish only on the frame it happens (afterwards the impossible clip is calmer than its moving
twin), so late events keep these pairs the easy subset that an additive pixel score flags; the
quadruplets are where a model has to show more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.intuitive.design import Design, Legs
from jepa_world.worlds.intuitive.scene import (
    FULL,
    Plan,
    apart,
    fill_row,
    gravity_draw,
    new_scene,
)
from jepa_world.worlds.physics2d import PALETTE, simulate

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics


@dataclass(frozen=True)
class OpenView(Design):
    """A ball in plain view that vanishes or changes colour at frame d (variant B from d on)."""

    name: str
    members = 2

    def plan(self, world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
        return plan_open(world, rng, self.name)

    def verify(
        self, world: IntuitivePhysics, plan: Plan, video: np.ndarray, visible: np.ndarray
    ) -> int | None:
        return verify_open(world, plan, video, visible)

    def sources(self, plan: Plan, frames: int) -> np.ndarray:
        # the impossible clip is A before d and variant B from d on
        return np.stack([np.zeros(frames, np.int64), (np.arange(frames) >= plan.info["d"]) * 1])


@dataclass(frozen=True)
class Teleport(OpenView):
    """The ball jumps at frame d: variant B is re-simulated from the jumped position."""

    name: str = "teleport"

    def legs(
        self, world: IntuitivePhysics, plans: list[Plan], pos: np.ndarray, vel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return teleport_legs(world, plans, pos, vel)

    def clashes(
        self,
        world: IntuitivePhysics,
        plans: list[Plan],
        tracks: list[np.ndarray],
        vels: list[np.ndarray],
        legs: Legs,
    ) -> list[int]:
        return teleport_clash(world, plans, tracks, vels, legs)


TELEPORT = Teleport()
VANISH = OpenView("vanish")
COLOUR_FLIP = OpenView("colour_flip")


def plan_open(world: IntuitivePhysics, rng: np.random.Generator, kind: str) -> Plan | None:
    """A ball in plain view; at frame d it teleports, vanishes or changes colour."""
    s, t = world.size, world.frames
    g = gravity_draw(world, rng)
    r = rng.uniform(*world.radius)
    speed = rng.uniform(*world.speed)
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
    return Plan(0, 0, g, r, colours, [start, start], [], [], info)


def teleport_legs(
    world: IntuitivePhysics, plans: list[Plan], pos: np.ndarray, vel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Variant B of a teleport: the same ball, moved by the jump at frame d, then simulated."""
    t, s = world.frames, world.size
    pos, vel = pos.copy(), vel.copy()
    legs = new_scene(world, len(plans), 1)
    for j, plan in enumerate(plans):
        d = int(plan.info["d"])
        p = pos[j, 0, d] + (plan.info["jump_x"], plan.info["jump_y"])
        p = np.clip(p, plan.radius + 0.5, s - plan.radius - 0.5)
        fill_row(legs, j, plan, (tuple(p), tuple(vel[j, 0, d])), 1)
    leg_pos, leg_vel = simulate(legs, t, world.substeps)
    for j, plan in enumerate(plans):
        d = int(plan.info["d"])
        pos[j, 1, d:] = leg_pos[j, : t - d, 0]
        vel[j, 1, d:] = leg_vel[j, : t - d, 0]
        plan.info["jump"] = float(np.hypot(*(pos[j, 1, d] - pos[j, 0, d])))
    return pos, vel


def verify_open(
    world: IntuitivePhysics, plan: Plan, video: np.ndarray, visible: np.ndarray
) -> int | None:
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


def teleport_clash(
    world: IntuitivePhysics,
    plans: list[Plan],
    tracks: list[np.ndarray],
    vels: list[np.ndarray],
    legs: Legs,
) -> list[int]:
    """Plans whose teleported ball (from frame d) would touch a distractor."""
    t = world.frames
    scene = new_scene(world, len(legs), world.max_balls)
    for row, (j, c, dpos, dvel) in enumerate(legs):
        d = int(plans[j].info["d"])
        others = dict(c, position=dpos[d], velocity=dvel[d])
        fill_row(scene, row, plans[j], (tracks[j][1, d], vels[j][1, d]), 1, others)
    pos, _ = simulate(scene, t, world.substeps)
    bad = []
    for row, (j, c, dpos, _) in enumerate(legs):
        d, m = int(plans[j].info["d"]), len(c["radius"])
        same = np.allclose(pos[row, : t - d, 0], tracks[j][1, d:], rtol=0.0, atol=1e-9)
        same = same and np.allclose(pos[row, : t - d, 1 : 1 + m], dpos[d:], rtol=0.0, atol=1e-9)
        if not (same and apart(plans[j].radius, tracks[j][1], c["radius"], dpos)):
            bad.append(j)
    return bad

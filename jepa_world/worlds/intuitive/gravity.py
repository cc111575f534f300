"""Gravity (support): a ball on a platform stays on it; an unsupported ball falls.

Gravity is on. A platform is visible left and right of an occluder. A, a ball rolls (or hops)
along the top of the platform behind the occluder and re-emerges on it; B, the same ball,
unsupported below the platform, falls as it crosses. C = A1 + B2 (a supported ball drops through
its support), D = B1 + A2 (a falling ball comes out on top of the platform).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.intuitive.crossing import horizontal
from jepa_world.worlds.intuitive.design import QuadrupletDesign
from jepa_world.worlds.intuitive.scene import PLATFORM_SHOW, Plan, add_occluder
from jepa_world.worlds.physics2d import PALETTE

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics


@dataclass(frozen=True)
class Gravity(QuadrupletDesign):
    """A ball crossing on top of a platform (A) or falling below it (B)."""

    name: str = "gravity"

    def plan(self, world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
        return plan_gravity(world, rng)

    def place(self, world: IntuitivePhysics, plan: Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        return place_gravity(world, plan, pos)


GRAVITY = Gravity()


def plan_gravity(world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
    """A: a ball hops along the top of a platform; B: the same ball falls below it."""
    s = world.size
    g = world.gravity
    r = rng.uniform(*world.radius)
    th = rng.uniform(*world.platform_thickness)
    amplitude = rng.uniform(0.0, 1.5 * r)  # A's hop height over the platform
    height = amplitude * rng.uniform(0.0, 1.0)
    vy_a = math.sqrt(2 * g * (amplitude - height)) * (1 if rng.random() < 0.5 else -1)
    gap = rng.uniform(1.0, 3.0)  # B starts this far under the platform, barely moving
    vy_b = rng.uniform(0.0, 0.4)
    vy = max(abs(vy_a), vy_b)
    lo = math.sqrt(max(0.0, world.speed[0] ** 2 - min(abs(vy_a), vy_b) ** 2))
    hi = math.sqrt(max(0.0, world.speed[1] ** 2 - vy**2))
    plan = horizontal(world, rng, r, 1, lo, hi)
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
    if px0 < 1.0 or px1 > s - 1.0 or px1 - px0 > max(world.platform_length[1], 2.0 * w):
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
    return Plan(
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


def place_gravity(world: IntuitivePhysics, plan: Plan, pos: np.ndarray) -> bool:
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
    return add_occluder(world, plan, x_c, plan.info["width0"], ys_a.min(), ys_b.max(), world.size)

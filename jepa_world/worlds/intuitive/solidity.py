"""Solidity: a solid platform stops a ball.

A platform is visible left and right of an occluder that hides its middle. A, a ball falls onto it
behind the occluder and bounces back up; B, a ball rises into its underside and falls back down.
C = A1 + B2 (goes in above, comes out below: it passed through), D = B1 + A2 (passed through
upwards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.intuitive.design import QuadrupletDesign
from jepa_world.worlds.intuitive.scene import HIDE_MARGIN, PLATFORM_SHOW, Plan, gravity_draw
from jepa_world.worlds.physics2d import PALETTE

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics


@dataclass(frozen=True)
class Solidity(QuadrupletDesign):
    """Bounce on top of a platform (A) or under it (B), both hidden at the contact."""

    name: str = "solidity"

    def plan(self, world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
        return plan_solidity(world, rng)

    def place(self, world: IntuitivePhysics, plan: Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        return place_solidity(world, plan, pos, vel)


SOLIDITY = Solidity()


def plan_solidity(world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
    """A: falls onto a platform and bounces up; B: rises into its underside, falls back.

    Both hit the platform at the same (possibly fractional) time t_b, the middle of the
    hidden window, with the same horizontal track. Vertical motion is planned backwards
    from the contact: above, height over the contact point h(tau) = u tau - g tau^2 / 2;
    below, depth d(tau) = u tau + g tau^2 / 2, tau = |t - t_b| (elastic: same after).
    """
    s, t = world.size, world.frames
    g = gravity_draw(world, rng)
    r = rng.uniform(*world.radius)
    th = rng.uniform(*world.platform_thickness)
    w = rng.uniform(*world.occluder_width)
    h = int(rng.integers(world.occlusion[0], world.occlusion[1] + 1))
    u_a, u_b = rng.uniform(*world.speed, size=2)
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
    length_lo = max(world.platform_length[0], w + 2 * PLATFORM_SHOW + 1)
    if length_lo > world.platform_length[1]:
        return None
    length = rng.uniform(length_lo, world.platform_length[1])
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
    top = math.sqrt(world.speed[1] ** 2 + 2 * g * s)
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
    return Plan(
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


def place_solidity(world: IntuitivePhysics, plan: Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
    """Occluder edges just inside the ball at the window's ends; checks both bounces."""
    (t1, h), r = plan.windows[0], plan.radius
    t2 = t1 + h - 1
    top = min(pos[0, t1, 1], pos[0, t2, 1]) - r - HIDE_MARGIN
    bottom = max(pos[1, t1, 1], pos[1, t2, 1]) + r + HIDE_MARGIN
    bounced = vel[0, t1, 1] > 0 > vel[0, t2, 1] and vel[1, t1, 1] < 0 < vel[1, t2, 1]
    if not bounced or top < 0 or bottom > world.size:
        return False
    w, x_o = plan.info["width0"], plan.info["x_o"]
    plan.occluders.append((x_o - w / 2, top, x_o + w / 2, bottom))
    return True

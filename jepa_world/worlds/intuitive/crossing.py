"""A ball crossing occluders at constant horizontal speed: the geometry behind permanence,
continuity and colour (one or two occluders; B absent or recoloured), and gravity's crossing.

The geometry is planned so that the target is fully visible at frame 0, hidden for ``occlusion``
frames around each splice, and seen again afterwards (half visible at least); the occluders are
placed after the target is simulated (they have no physics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.intuitive.design import QuadrupletDesign
from jepa_world.worlds.intuitive.scene import HIDE_MARGIN, Plan, add_occluder, gravity_draw
from jepa_world.worlds.physics2d import PALETTE

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics

MAX_TILT = math.radians(25.0)  # crossings without gravity stay this close to horizontal


@dataclass(frozen=True)
class Crossing(QuadrupletDesign):
    """A ball crossing ``splices`` occluders; B holds no target, or (``recolour``) the same ball
    in another colour."""

    name: str
    splices: int = 1
    recolour: bool = False

    def plan(self, world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
        return plan_crossing(world, rng, self.splices, self.recolour)

    def place(self, world: IntuitivePhysics, plan: Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        return place_crossing(world, plan, pos)


def horizontal(
    world: IntuitivePhysics,
    rng: np.random.Generator,
    r: float,
    n_occ: int,
    vx_lo: float,
    vx_hi: float,
) -> dict | None:
    """Horizontal plan of a ball crossing ``n_occ`` occluders at constant |vx|.

    Hidden count h and a phase u fix each occluder's width W = |vx| (h - 1 + u) + 2 (r +
    margin): centred on the ball at t1 + (h - 1) / 2, it hides the ball at exactly frames
    t1 .. t1 + h - 1 (u in (0.2, 0.8) keeps the neighbours out). |vx| is drawn inside the
    interval where W, the speed, the frame and the time budget (fully visible at frame 0,
    seen in the gap, half out again before the end) all fit.
    """
    s, t = world.size, world.frames
    inner = 2 * (r + HIDE_MARGIN)
    extra_gap = rng.uniform(0.0, r)
    # Frames needed ~ sum(spans) + 2 (n - 1) + fixed / |vx| + 2 (rounding to frames).
    fixed = 3 * r + 3 * HIDE_MARGIN + 1.5
    if n_occ == 2:
        fixed += 3 * r + 2 * HIDE_MARGIN + extra_gap
    # Longest span any feasible plan allows (the others at their shortest): drawing counts
    # below this cap is the same as drawing them all and rejecting the infeasible ones.
    others = (n_occ - 1) * (world.occlusion[0] - 0.8)
    w_in = world.occluder_width[1] - inner
    cap = min(w_in * (t - 2 * n_occ - others) / (fixed + w_in), t - 2 * n_occ - others)
    cap = min(cap, t - 2 * n_occ - others - fixed / max(vx_hi, 1e-9))
    top = min(world.occlusion[1], math.floor(cap + 0.8))
    if top < world.occlusion[0]:
        return None
    counts = [int(c) for c in rng.integers(world.occlusion[0], top + 1, n_occ)]
    spans = [c - 1 + rng.uniform(0.2, 0.8) for c in counts]
    budget = t - 2.0 - sum(spans) - 2 * (n_occ - 1)
    room = s - 2 * r - 1.0 - fixed
    if budget <= 0 or room <= 0:
        return None
    lo = max(vx_lo, fixed / budget, *((world.occluder_width[0] - inner) / a for a in spans))
    hi = min(vx_hi, room / (sum(spans) + n_occ - 1))
    hi = min(hi, *((world.occluder_width[1] - inner) / a for a in spans))
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


def plan_crossing(
    world: IntuitivePhysics, rng: np.random.Generator, n_occ: int, recolour: bool
) -> Plan | None:
    """Permanence, continuity and colour: a ball crossing one or two occluders."""
    s = world.size
    g = gravity_draw(world, rng)
    r = rng.uniform(*world.radius)
    tilt = rng.uniform(-MAX_TILT, MAX_TILT) if g == 0.0 else 0.0
    if g == 0.0:
        lo, hi = world.speed[0] * math.cos(tilt), world.speed[1] * math.cos(tilt)
    else:
        lo, hi = 0.05, world.speed[1]
    plan = horizontal(world, rng, r, n_occ, lo, hi)
    if plan is None:
        return None
    vx = abs(plan["vx"])
    if g == 0.0:
        vy = vx * math.tan(tilt)
    else:
        v_hi = math.sqrt(max(0.0, world.speed[1] ** 2 - vx**2))
        v_lo = math.sqrt(max(0.0, world.speed[0] ** 2 - vx**2))
        vy = rng.uniform(v_lo, v_hi) * (1.0 if rng.random() < 0.5 else -1.0)
    speed = math.hypot(vx, vy)
    y0 = rng.uniform(r + 0.5, s - r - 0.5)
    palette = rng.choice(len(PALETTE), size=2, replace=False)
    colours = [int(palette[0]), int(palette[1] if recolour else palette[0])]
    start = ((plan["x0"], y0), (plan["vx"], vy))
    starts = [start, start if recolour else None]
    info = {
        "speed": speed,
        "occluder_width": plan["widths"][0],
        "occlusion": float(plan["counts"][0]),
    }
    for n, w in enumerate(plan["widths"]):
        info[f"width{n}"] = w
    return Plan(0, 0, g, r, colours, starts, [], plan["windows"], info)


def place_crossing(world: IntuitivePhysics, plan: Plan, pos: np.ndarray) -> bool:
    """Occluders centred on the ball at each window's middle, tall enough to cover it."""
    s = world.size
    track = pos[0]  # variant A (B is absent or on the same track)
    for n, (t1, h) in enumerate(plan.windows):
        centre_t = t1 + (h - 1) / 2
        lo_t = math.floor(centre_t)
        frac = centre_t - lo_t
        x_c = track[lo_t, 0] * (1 - frac) + track[min(lo_t + 1, len(track) - 1), 0] * frac
        ys = track[t1 : t1 + h, 1]
        if not add_occluder(world, plan, x_c, plan.info[f"width{n}"], ys.min(), ys.max(), s):
            return False
    return True

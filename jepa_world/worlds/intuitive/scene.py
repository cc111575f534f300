"""The scene machinery every stimulus design shares: plans, physics2d scenes, occluders, cuts.

A plan holds two variants (A and B) of one scene; the member clips of a quadruplet or an open-view
pair are cut frame by frame from those two rendered variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.physics2d import PALETTE, Scene

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics

MAX_DISTRACTORS = 3  # plus the target: physics2d's 4 balls at most
MAX_PLATFORMS = 2  # as physics2d's default (0, 2) platforms
HIDE_MARGIN = 1.1  # px from a ball's edge to an occluder edge so that no covered pixel peeks out
FULL = 0.99  # visible share that counts as fully in view
SEEN = 0.5  # visible share that counts as seen (re-emerged, seen in a gap)
PLATFORM_SHOW = 3.0  # px of a functional platform visible beyond each side of its occluder


@dataclass
class Plan:
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
class Built:
    """A verified plan: its two variants (A, B) and how the clips are cut from them."""

    plan: Plan
    video: np.ndarray  # (2, T, 3, H, W) variants A, B
    joint: dict  # per-variant position/velocity (2, T, K, 2), radius (K,), colour (2, K, 3) ...
    visible: np.ndarray  # (2, T, K)
    sources: np.ndarray  # (M, T): which variant each member's frame comes from
    divergence: int


def hidden_run(hidden: np.ndarray, s: int) -> tuple[int, int]:
    """(first, last) frame of the run of True in ``hidden`` that contains frame ``s``."""
    lo = hi = s
    while lo > 0 and hidden[lo - 1]:
        lo -= 1
    while hi < len(hidden) - 1 and hidden[hi + 1]:
        hi += 1
    return lo, hi


def cut(variants: np.ndarray, sources: np.ndarray, out: np.ndarray) -> None:
    """out[m, t] = variants[sources[m, t], t], copied run by run (far faster than a gather)."""
    for m, row in enumerate(sources):
        start = 0
        for stop in [*(np.flatnonzero(np.diff(row)) + 1).tolist(), len(row)]:
            out[m, start:stop] = variants[row[start], start:stop]
            start = stop


def gravity_draw(world: IntuitivePhysics, rng: np.random.Generator) -> float:
    """Gravity on with probability ``gravity_prob``, as in physics2d."""
    return world.gravity if rng.random() < world.gravity_prob else 0.0


def new_scene(world: IntuitivePhysics, n: int, k: int, occluders: int = 0) -> Scene:
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
        size=world.size,
    )


def fill_row(
    scene: Scene,
    row: int,
    plan: Plan,
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


def add_occluder(
    world: IntuitivePhysics,
    plan: Plan,
    x_c: float,
    width: float,
    y_min: float,
    y_max: float,
    s: int,
) -> bool:
    """Append an occluder of this width covering balls with centres in [y_min, y_max]."""
    rng = np.random.default_rng([plan.seed, 7, plan.attempt, len(plan.occluders)])
    lo = max(0.0, y_min - plan.radius - HIDE_MARGIN)
    hi = min(float(s), y_max + plan.radius + HIDE_MARGIN)
    height = max(rng.uniform(*world.occluder_height) * s, hi - lo)
    if height > s:
        return False
    low = max(0.0, hi - height)
    y0 = rng.uniform(low, max(low, min(lo, s - height)))
    plan.occluders.append((x_c - width / 2, y0, x_c + width / 2, y0 + height))
    return True


def render_scene(
    world: IntuitivePhysics, plans: list[Plan], joints: list[dict]
) -> tuple[Scene, np.ndarray]:
    """The scene to render (2 rows per plan: variants A, B) and its positions."""
    n, k, t = 2 * len(plans), world.max_balls, world.frames
    scene = new_scene(world, n, k, occluders=2)
    positions = np.zeros((n, t, k, 2))
    for j, (plan, joint) in enumerate(zip(plans, joints, strict=True)):
        for v in range(2):
            row = 2 * j + v
            fill_row(scene, row, plan, None, v)
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


def apart(radius: float, track: np.ndarray, dradius: np.ndarray, dpos: np.ndarray) -> bool:
    """At least 1 px between the target's disc and every distractor's, at every frame.

    (Anti-aliased discs reach 0.5 px further, so their pixels never mix.)"""
    gap = np.hypot(*(dpos - track[:, None]).transpose(2, 0, 1)) - radius - dradius
    return bool((gap >= 1.0).all())

"""From verified plans to what a caller gets: member clips, per-ball state, scenes, geometry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from jepa_world.worlds.base import Batch
from jepa_world.worlds.intuitive.scene import MAX_PLATFORMS, Built, cut
from jepa_world.worlds.physics2d import palette_index

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics


def assemble(world: IntuitivePhysics, built: list[Built], members: int, physical: int) -> Batch:
    """Cut every member clip from its variants; state as physics2d's, plus the scene."""
    n, t, k = len(built), world.frames, world.max_balls
    video = np.empty((n, members, t, 3, world.size, world.size), np.uint8)
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
        cut(b.video, src, video[q])
        present = joint["present"][src]  # (M, T, K)
        cut(joint["position"], src, state["position"][q])
        cut(joint["velocity"], src, state["velocity"][q])
        cut(b.visible, src, state["visible"][q])
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
        "geometry": geometry(built),
        "seeds": np.array([b.plan.seed for b in built], np.int64),
    }


def geometry(built: list[Built]) -> dict[str, np.ndarray]:
    """Per-stimulus float32 summary of the drawn target geometry (what feasibility favoured)."""
    keys = ("speed", "occluder_width", "occlusion")
    out = {key: np.array([b.plan.info[key] for b in built], np.float32) for key in keys}
    out["radius"] = np.array([b.plan.radius for b in built], np.float32)
    out["gravity"] = np.array([b.plan.gravity > 0 for b in built], np.float32)
    out["distractors"] = np.array([b.joint["present"][0, 1:].sum() for b in built], np.float32)
    out["attempts"] = np.array([b.plan.attempt + 1 for b in built], np.float32)
    return out

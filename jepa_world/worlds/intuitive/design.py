"""What a stimulus design is: how one property or open-view kind draws, occludes and checks.

Each design is a small object in the registry (:mod:`.registry`) keyed by its name; the world runs
the same build loop for all of them and asks the design only for what differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from jepa_world.worlds.intuitive.scene import FULL, SEEN, Plan, hidden_run

if TYPE_CHECKING:
    from jepa_world.worlds.intuitive.world import IntuitivePhysics

Legs = list[tuple[int, dict, np.ndarray, np.ndarray]]
"""Per kept distractor set: (plan index, distractors, their positions, their velocities)."""


class Design:
    """One kind of stimulus. Subclasses draw the plan; the defaults suit a plain open view."""

    name: str
    members: ClassVar[int]  # clips per stimulus: 4 (A, B, C, D) or 2 (possible, impossible)

    def plan(self, world: IntuitivePhysics, rng: np.random.Generator) -> Plan | None:
        """Draw the target's geometry from ``rng``; None if this draw cannot work."""
        raise NotImplementedError

    def place(self, world: IntuitivePhysics, plan: Plan, pos: np.ndarray, vel: np.ndarray) -> bool:
        """Add occluders around the simulated target (A, B tracks); False if the plan fails."""
        return True

    def legs(
        self, world: IntuitivePhysics, plans: list[Plan], pos: np.ndarray, vel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The target's tracks (n, 2, T, 2) after any change the design makes to variant B."""
        return pos, vel

    def clashes(
        self,
        world: IntuitivePhysics,
        plans: list[Plan],
        tracks: list[np.ndarray],
        vels: list[np.ndarray],
        legs: Legs,
    ) -> list[int]:
        """Plans whose chosen distractors still touch the target in a way only this design sees."""
        return []

    def verify(
        self, world: IntuitivePhysics, plan: Plan, video: np.ndarray, visible: np.ndarray
    ) -> int | None:
        """Check the rendered variants; return the divergence frame, or None to re-draw."""
        raise NotImplementedError

    def sources(self, plan: Plan, frames: int) -> np.ndarray:
        """(members, T): which variant (0 = A, 1 = B) each member's frame is cut from."""
        raise NotImplementedError


def segment_sources(splices: Sequence[int], frames: int) -> np.ndarray:
    """(4, T) variant index (0 = A, 1 = B) each member's frame is taken from.

    Segment k holds frames ``splices[k-1]+1 .. splices[k]``; C takes A's even segments and B's
    odd ones, D the reverse, so each segment is used once by a possible and once by an
    impossible clip.
    """
    segment = np.searchsorted(np.asarray(splices), np.arange(frames), side="left")
    odd = (segment % 2).astype(np.int64)
    return np.stack([np.zeros(frames, np.int64), np.ones(frames, np.int64), odd, 1 - odd])


class QuadrupletDesign(Design):
    """A matched quadruplet: clips A, B spliced behind occluders into C, D."""

    members = 4
    splices: int = 1  # hidden windows, hence splice frames, per quadruplet

    def sources(self, plan: Plan, frames: int) -> np.ndarray:
        return segment_sources(plan.splices, frames)

    def verify(
        self, world: IntuitivePhysics, plan: Plan, video: np.ndarray, visible: np.ndarray
    ) -> int | None:
        """The target is fully in view at frame 0, hidden for ``occlusion`` frames around every
        splice in all four members (whose splice frames are pixel-identical) and seen again
        after each occlusion; the divergence is the first frame after the first splice where
        A and B differ."""
        t = world.frames
        splices = plan.splices
        target = visible[:, :, 0]  # (2, T)
        has = [plan.starts[0] is not None, plan.starts[1] is not None]
        for v in range(2):
            if has[v] and target[v, 0] < FULL:
                return None
        for s in splices:
            if not np.array_equal(video[0, s], video[1, s]):
                return None
        src = segment_sources(splices, t)
        for m in range(4):
            vis = target[src[m], np.arange(t)]
            hidden = vis <= 0.0
            for s in splices:
                if not hidden[s]:
                    return None
                lo, hi = hidden_run(hidden, s)
                if hi - lo + 1 < world.occlusion[0]:
                    return None
                if (
                    m < 2
                    and has[m]
                    and (lo == 0 or hi == t - 1 or hi - lo + 1 > world.occlusion[1])
                ):
                    return None
        for v in range(2):
            if not has[v]:
                continue
            runs = [hidden_run(target[v] <= 0.0, s) for s in splices]
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

"""What every planning episode reports, whatever its world: the success flags and timings.

An episode succeeds when its final distance to the goal is below the world's success radius,
and strictly when some step comes within the strict radius; both Two Rooms and push episodes
carry these fields, computed here from the distances and the MPC trace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jepa_world.planning.mpc import MPCTrace

__all__ = ["outcome"]


def outcome(
    dist: np.ndarray, success_px: float, strict_px: float, trace: MPCTrace, seconds: float
) -> dict[str, Any]:
    """The shared fields of an episode result from its distances ``(T + 1,)`` to the goal:
    ``success``, ``success_strict``, ``final_distance``, ``steps_to_success`` (the first step
    within ``success_px``, None if never), ``seconds``, ``ms_per_plan`` and ``plans``."""
    within = np.flatnonzero(dist < success_px)
    decisions = trace.decision_seconds
    return {
        "success": bool(dist[-1] < success_px),
        "success_strict": bool((dist < strict_px).any()),
        "final_distance": float(dist[-1]),
        "steps_to_success": int(within[0]) if within.size else None,
        "seconds": seconds,
        "ms_per_plan": 1000.0 * float(np.mean(decisions)) if decisions else 0.0,
        "plans": len(decisions),
    }

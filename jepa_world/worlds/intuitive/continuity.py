"""Continuity: a ball goes from one place to another through the places in between.

A, a ball crosses two occluders and is seen in the gap between them; B, no target. C = A1 + B2 +
A3 (not seen in the gap, yet re-emerges), D = B1 + A2 + B3 (appears in the gap only).

Two occlusions and a gap need |vx| >~ (6 r + 7) / (T - 10) px/frame, hence the world's default of
24 frames (at 20 frames it is impossible with speeds <= 2.5 px/frame, and the constructor says so).
"""

from __future__ import annotations

from jepa_world.worlds.intuitive.crossing import Crossing

CONTINUITY = Crossing("continuity", splices=2)

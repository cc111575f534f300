"""Permanence: a hidden ball goes on existing.

A, a ball crosses an occluder and re-emerges; B, no target ball. C = A's start + B's end (the
ball never re-emerges); D = B's start + A's end (a ball emerges from nowhere).
"""

from __future__ import annotations

from jepa_world.worlds.intuitive.crossing import Crossing

PERMANENCE = Crossing("permanence")

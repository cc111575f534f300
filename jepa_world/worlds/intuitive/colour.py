"""Colour: a ball keeps its colour while hidden.

The same trajectory in two colours behind one occluder. C = red in, green out; D = green in,
red out.
"""

from __future__ import annotations

from jepa_world.worlds.intuitive.crossing import Crossing

COLOUR = Crossing("colour", recolour=True)

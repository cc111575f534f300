"""The stimulus designs by name: the five quadruplet properties and the three open-view kinds.

Each kind draws from its own seed stream (its salt), so adding or reordering kinds elsewhere never
changes the clips of another.
"""

from __future__ import annotations

from jepa_world.worlds.intuitive.colour import COLOUR
from jepa_world.worlds.intuitive.continuity import CONTINUITY
from jepa_world.worlds.intuitive.design import Design, QuadrupletDesign
from jepa_world.worlds.intuitive.gravity import GRAVITY
from jepa_world.worlds.intuitive.open_view import COLOUR_FLIP, TELEPORT, VANISH
from jepa_world.worlds.intuitive.permanence import PERMANENCE
from jepa_world.worlds.intuitive.solidity import SOLIDITY

PROPERTIES = ("permanence", "continuity", "solidity", "gravity", "colour")
"""The physical properties with a matched-quadruplet design, in report order."""
OPEN_VIEW_KINDS = ("teleport", "vanish", "colour_flip")
"""The open-view violations (a visible event, no occluder) with a pair design."""
_OPEN_SALT = 100  # seed-stream offset of open-view kinds (quadruplets use their property index)

QUADRUPLETS: dict[str, QuadrupletDesign] = {
    d.name: d for d in (PERMANENCE, CONTINUITY, SOLIDITY, GRAVITY, COLOUR)
}
DESIGNS: dict[str, Design] = {**QUADRUPLETS, **{d.name: d for d in (TELEPORT, VANISH, COLOUR_FLIP)}}
assert tuple(QUADRUPLETS) == PROPERTIES and tuple(DESIGNS)[len(PROPERTIES) :] == OPEN_VIEW_KINDS


def salt(kind: str) -> int:
    """Seed-stream tag of a kind, so properties and open-view kinds draw independently."""
    if kind in PROPERTIES:
        return PROPERTIES.index(kind)
    return _OPEN_SALT + OPEN_VIEW_KINDS.index(kind)

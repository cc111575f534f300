"""Embedded procedural worlds: the default data, pure numpy, seeded, no downloads.

``create_world(name, **params)`` builds one by name; modules are imported lazily so that
listing worlds costs nothing and optional dependencies (gymnasium) load only when used.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from jepa_world.worlds.base import Batch, World

__all__ = ["WORLDS", "Batch", "World", "create_world"]

WORLDS: dict[str, tuple[str, str, str]] = {
    "physics2d": (
        "jepa_world.worlds.physics2d",
        "Physics2D",
        "balls with gravity, walls, elastic collisions, platforms and occluders (RGB)",
    ),
    "intuitive": (
        "jepa_world.worlds.intuitive",
        "IntuitivePhysics",
        "violation-of-expectation quadruplets (permanence, continuity, solidity, gravity, colour)",
    ),
    "two_rooms": (
        "jepa_world.worlds.two_rooms",
        "TwoRoomsWalks",
        "point agent, inner wall with a door, 2-D displacement actions (2 channels, 65x65)",
    ),
    "push": (
        "jepa_world.worlds.push",
        "PushWalks",
        "a disc pushes 1-3 balls (elastic, rolling friction), 2-D displacement actions (RGB)",
    ),
    "gym": (
        "jepa_world.worlds.gym",
        "GymRecorder",
        "clips, actions and observations recorded from any gymnasium env (needs [gym])",
    ),
}


def create_world(name: str, **params: Any) -> World:
    """Build the world registered as ``name`` with its keyword parameters."""
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}: choose one of {sorted(WORLDS)}")
    module, cls_name, _ = WORLDS[name]
    cls = getattr(importlib.import_module(module), cls_name)
    _check_params(name, cls, params)
    return cls(**params)


def _check_params(name: str, cls: type, params: dict[str, Any]) -> None:
    """Raise a one-line ``ValueError`` naming an unknown parameter (and the closest known one):
    a misspelt key such as ``frame`` would otherwise surface as a bare ``TypeError``."""
    accepted = inspect.signature(cls).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in accepted):
        return
    known = [p.name for p in accepted if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"unknown {name} world parameter {key!r}: {hint}{name} takes {', '.join(known)}"
            )

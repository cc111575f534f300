"""Embedded procedural worlds: the default data, pure numpy, seeded, no downloads.

``create_world(name, **params)`` builds one by name; modules are imported lazily so that
listing worlds costs nothing and optional dependencies (gymnasium) load only when used.
"""

from __future__ import annotations

import importlib
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
    module, cls, _ = WORLDS[name]
    return getattr(importlib.import_module(module), cls)(**params)

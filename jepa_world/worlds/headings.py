"""Headings of random walks: wrapping angles and reflecting off the faces that stopped a move.

Two Rooms and push walk their agents the same way (a heading that turns each step and bounces
off walls); both use these so that a walk's bytes depend on one implementation.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["reflect", "wrap"]


def wrap(angle: np.ndarray) -> np.ndarray:
    """Angles mapped to ``[-pi, pi)``."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


def reflect(heading: np.ndarray, hit_x: np.ndarray, hit_y: np.ndarray) -> np.ndarray:
    """Headings mirrored off a vertical face (``hit_x``) and a horizontal one (``hit_y``),
    wrapped."""
    heading = np.where(hit_x, math.pi - heading, heading)
    return wrap(np.where(hit_y, -heading, heading))

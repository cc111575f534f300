"""Disjoint seed ranges for train, validation, test and probe data.

Every procedural clip is a pure function of its seed, so keeping the ranges apart is what keeps
evaluation clips out of training. The ranges are half-open ``[start, stop)``:

- train: ``[0, 1e9)``
- val:   ``[1e9, 2e9)``
- test:  ``[2e9, 3e9)``
- probe suites: ``>= 3e9`` (``PROBE_SEED_START``)
"""

from __future__ import annotations

SEED_RANGES: dict[str, tuple[int, int]] = {
    "train": (0, 10**9),
    "val": (10**9, 2 * 10**9),
    "test": (2 * 10**9, 3 * 10**9),
}
PROBE_SEED_START = 3 * 10**9


def seed_range(split: str) -> tuple[int, int]:
    """Return the half-open ``(start, stop)`` seed range of ``split``."""
    if split not in SEED_RANGES:
        raise ValueError(f"split={split!r} is unknown: choose one of {sorted(SEED_RANGES)}")
    return SEED_RANGES[split]

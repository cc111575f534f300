"""Argument checks shared by every layer: one message style for a bad value, wherever it comes from.

Each check names the argument, the value and what is allowed, so a user error reads as one line.
A value of the wrong type raises :class:`BadType`, which is both a ``TypeError`` (for Python
callers) and a ``ValueError`` (for readers of YAML and JSON, where every bad value is a value
error).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

__all__ = ["BadType", "check_int", "check_interval", "check_pair", "check_range"]


class BadType(TypeError, ValueError):
    """A value of the wrong type: a ``TypeError`` and a ``ValueError`` at once."""


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the allowed range."""
    if not _is_int(value):
        raise BadType(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}={value} is out of range: allowed {allowed}")
    return int(value)


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raise a ValueError naming ``name`` and the allowed closed range when ``value`` is outside."""
    if not (low <= value <= high):
        raise ValueError(f"{name}={value!r} is out of range: allowed [{low}, {high}]")


def check_interval(name: str, interval: Sequence[float], low: float, high: float) -> None:
    """Check a ``(min, max)`` pair: both inside ``[low, high]`` and ordered."""
    if len(interval) != 2:
        raise ValueError(f"{name} must be a (min, max) pair, got {interval!r}")
    lo, hi = interval
    check_range(f"{name}[0]", lo, low, high)
    check_range(f"{name}[1]", hi, low, high)
    if lo > hi:
        raise ValueError(f"{name}={tuple(interval)!r}: min must not exceed max")


def check_pair(
    name: str, pair: Any, low: float, high: float, ints: bool = False
) -> tuple[float, float]:
    """A ``(min, max)`` pair of numbers (``ints``: of ints) inside ``[low, high]``, as a tuple."""
    kind = "ints" if ints else "numbers"
    if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
        raise ValueError(f"{name} must be a (min, max) pair of {kind} in [{low}, {high}]")
    for v in pair:
        if (ints and not _is_int(v)) or isinstance(v, bool) or not isinstance(v, Real):
            raise ValueError(
                f"{name}={tuple(pair)!r} must be {kind}: a (min, max) in [{low}, {high}]"
            )
    check_interval(name, tuple(pair), low, high)
    return pair[0], pair[1]

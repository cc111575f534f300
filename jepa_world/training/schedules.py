"""Step schedules of the training tasks: learning rate, EMA momentum and weight decay.

Pure functions of the step, so a resumed run picks up exactly where it stopped.
"""

from __future__ import annotations

import math

__all__ = ["cosine_ramp", "warmup_cosine"]


def warmup_cosine(step: int, warmup: int, total: int, final_ratio: float) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to ``final_ratio``."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def cosine_ramp(step: int, total: int, start: float, end: float) -> float:
    """Cosine interpolation from ``start`` to ``end`` over ``total`` steps (EMA momentum, WD)."""
    progress = min(1.0, step / max(1, total))
    return end - (end - start) * 0.5 * (1.0 + math.cos(math.pi * progress))

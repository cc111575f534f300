"""Baselines that every probe number stands beside (docs/protocols.md).

- ``random_init``: the same architecture with fresh weights
  (:func:`~jepa_world.evaluation.physics.model.random_init_like`), one model per seed; reported as
  the mean over seeds with ``_std``, ``_min`` and ``_max`` companions.
- ``pixels``: raw frames as features (:func:`pixel_tokens`: area-downsampled to ``size`` x
  ``size``, one "token" per pixel whose channels are the tubelet's frames) for the state probe;
  pixel novelty (a copy-last-frame predictor in pixel space) for VoE.
- ``copy_last``: the last context step carried forward (true position; true target tokens).
- ``constant_velocity``: the last true position plus the last true displacement per step.
- ``mean``: the constant predictor (training mean label / mean training token).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from jepa_world.video import to_float_video

__all__ = ["BASELINES", "aggregate_seeds", "pixel_tokens"]

BASELINES = ("random_init", "pixels", "copy_last", "constant_velocity", "mean")


def pixel_tokens(video: np.ndarray | Tensor, size: int, tubelet: int) -> Tensor:
    """Raw-pixel "tokens" ``(B, T', size*size, C*tubelet)`` in [0, 1], area-downsampled."""
    x = to_float_video(video)
    b, t, c, h, w = x.shape
    steps = t // tubelet
    if steps < 1:
        raise ValueError(f"video of {t} frames is shorter than one tubelet of {tubelet}")
    x = x[:, : steps * tubelet].reshape(b * steps * tubelet, c, h, w)
    if (h, w) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="area")
    x = x.reshape(b, steps, tubelet * c, size * size)
    return x.transpose(2, 3).contiguous()


def aggregate_seeds(per_seed: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean over seeds of every metric, with ``_std`` (sample std), ``_min`` and ``_max``.

    Interval companions of single runs (``_ci_low`` / ``_ci_high``) are dropped: the spread
    over seeds is the interval that matters for a random-init baseline.
    """
    if not per_seed:
        raise ValueError("aggregate_seeds needs at least one run")
    keys = [k for k in per_seed[0] if not k.endswith(("_ci_low", "_ci_high"))]
    out: dict[str, float] = {}
    for key in keys:
        values = np.asarray([run[key] for run in per_seed if key in run], dtype=np.float64)
        if len(values) == 0:
            continue
        out[key] = float(values.mean())
        out[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        out[f"{key}_min"] = float(values.min())
        out[f"{key}_max"] = float(values.max())
    return out

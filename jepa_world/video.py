"""The one conversion of video to float: uint8 in [0, 255] or float in [0, 1] -> float32."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = ["RANGE_TOLERANCE", "to_float_video"]

RANGE_TOLERANCE = 0.1
"""How far float video may stray outside [0, 1] (resampling overshoot) before it is rejected:
video in 0..255 or normalised with a mean and std would otherwise give silent garbage."""


def to_float_video(video: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """uint8 video (scaled by 1/255) or float video in [0, 1] -> float32 tensor in [0, 1].

    Numpy arrays become tensors; ``device`` (default: where the video is) is where the result lives.
    Integer video other than uint8 is rejected: its range is unknown. Float video with values
    more than :data:`RANGE_TOLERANCE` outside [0, 1] (or not finite) is rejected with a
    ``ValueError`` saying the range seen.
    """
    if isinstance(video, np.ndarray):
        video = torch.from_numpy(np.ascontiguousarray(video))
    if device is not None:
        video = video.to(device)
    if video.dtype == torch.uint8:
        return video.float().div_(255.0)
    if not video.is_floating_point():
        raise TypeError(f"video must be uint8 or float in [0, 1], got {video.dtype}")
    video = video.float()
    _check_range(video)
    return video


def _check_range(video: Tensor) -> None:
    """Raise a one-line ``ValueError`` unless float ``video`` lies in [0, 1] (within tolerance)."""
    if video.numel() == 0:
        return
    low, high = (float(v) for v in torch.aminmax(video))
    tol = RANGE_TOLERANCE
    if not (-tol <= low and high <= 1 + tol):  # also catches NaN
        if not (math.isfinite(low) and math.isfinite(high)):
            hint = "it holds NaN or inf"
        elif low < -tol:
            hint = "undo the normalisation"
        else:
            hint = "divide it by 255 or pass the uint8 video"
        raise ValueError(
            f"float video must be in [0, 1] (the encoder normalises it itself), got values in "
            f"[{low:.4g}, {high:.4g}]: {hint}"
        )

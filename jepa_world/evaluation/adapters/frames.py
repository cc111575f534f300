"""Bring the worlds' frames to a foreign model: scale to [0, 1], resize, normalise.

The worlds render small square frames (64 x 64); a model trained at another size gets them
resized with bilinear interpolation (antialiased when shrinking), whole frame, no crop, so no
object leaves the view. :func:`describe` is the sentence the report records.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_world.video import to_float_video

__all__ = ["describe", "normalise", "prepare_video"]


def describe(size: tuple[int, int] | None, mean, std) -> str:
    """The report's statement of what is done to the frames."""
    resize = "kept at the size given" if size is None else f"resized to {size[0]}x{size[1]}"
    resize += " (bilinear, antialiased, whole frame, no crop)" if size is not None else ""
    return f"frames scaled to [0, 1], {resize}, normalised with mean {list(mean)} std {list(std)}"


def normalise(x: Tensor, mean, std) -> Tensor:
    """``(x - mean) / std`` over the channel dim (dim -3)."""
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - m) / s


def prepare_video(
    video: Tensor | np.ndarray,
    size: tuple[int, int] | None,
    mean,
    std,
    device: torch.device | str | None = None,
) -> Tensor:
    """Video ``(B, T, C, H, W)`` uint8 or float in [0, 1] -> normalised float32 ``(B, T, C, h, w)``
    at ``size`` (None: unchanged)."""
    x = to_float_video(video, device)
    if x.ndim != 5:
        raise ValueError(f"video must be (B, T, C, H, W), got shape {tuple(x.shape)}")
    b, t = x.shape[:2]
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        flat = x.flatten(0, 1)
        antialias = size[0] < x.shape[-2] or size[1] < x.shape[-1]
        flat = F.interpolate(
            flat, size=tuple(size), mode="bilinear", align_corners=False, antialias=antialias
        )
        x = flat.view(b, t, *flat.shape[1:])
    return normalise(x, mean, std)

"""The one conversion of video to float: uint8 in [0, 255] or float in [0, 1] -> float32."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["to_float_video"]


def to_float_video(video: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """uint8 video (scaled by 1/255) or float video in [0, 1] -> float32 tensor in [0, 1].

    Numpy arrays become tensors; ``device`` (default: where the video is) is where the result lives.
    Integer video other than uint8 is rejected: its range is unknown.
    """
    if isinstance(video, np.ndarray):
        video = torch.from_numpy(np.ascontiguousarray(video))
    if device is not None:
        video = video.to(device)
    if video.dtype == torch.uint8:
        return video.float().div_(255.0)
    if not video.is_floating_point():
        raise TypeError(f"video must be uint8 or float in [0, 1], got {video.dtype}")
    return video.float()

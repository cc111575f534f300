"""A small world model of the probe protocol, built by a ``py:`` factory in the tests.

Per-frame features from one convolution (4 x 4 tokens of ``dim`` channels), ``encode`` a pooled
latent of a frame, ``rollout`` a linear action-conditioned step: a torch module with a
differentiable roll-out, so planning can adapt it at test time.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.evaluation.adapters import Features, ModelInfo
from jepa_world.video import to_float_video


class ToyWorldModel(nn.Module):
    def __init__(self, dim: int = 8, channels: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, dim, kernel_size=16, stride=16)
        self.step = nn.Linear(dim + 2, dim)
        self.info = ModelInfo(name="toy", frames_per_step=1, clip_frames=4)

    def _frames(self, x: Tensor) -> Tensor:  # (B, C, H, W) float -> tokens (B, N, D)
        if x.shape[-1] != 64:
            x = F.interpolate(x, size=(64, 64), mode="area")
        return self.conv(x).flatten(2).transpose(1, 2)

    @torch.no_grad()
    def features(self, video: Tensor | np.ndarray) -> Features:
        x = to_float_video(video)
        b, t = x.shape[:2]
        tokens = self._frames(x.flatten(0, 1)).reshape(b, t, 16, -1)
        return Features(tokens.mean(2), tokens)

    def encode(self, obs: Tensor | np.ndarray) -> Tensor:
        x = to_float_video(torch.as_tensor(np.asarray(obs)))
        if x.shape[1] != 3:  # Two Rooms frames have 2 channels
            x = torch.cat([x, x[:, :1]], dim=1)[:, :3]
        return self._frames(x).mean(1)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        z, out = z0, []
        for t in range(actions.shape[1]):
            z = z + self.step(torch.cat([z, actions[:, t].to(z.dtype)], dim=-1))
            out.append(z)
        return torch.stack(out, dim=1)


class FrozenToy:
    """The same features without any torch module: no twin can be built for it."""

    def __init__(self) -> None:
        self.info = ModelInfo(name="frozen_toy", clip_frames=4)

    def features(self, video):
        x = to_float_video(video)
        pooled = x.mean(dim=(2, 3, 4))[..., None].repeat(1, 1, 4)
        return Features(pooled)


def build(dim: str = "8") -> ToyWorldModel:
    """The ``py:`` factory (options arrive as strings)."""
    torch.manual_seed(7)  # not a twin's seed
    return ToyWorldModel(int(dim))


def build_frozen() -> FrozenToy:
    return FrozenToy()


def build_wrong_shape():
    """A model whose features have the wrong shape."""
    model = FrozenToy()
    model.features = lambda video: Features(torch.zeros(1, 2, 3, 4, 5))
    return model

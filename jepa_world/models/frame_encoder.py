"""Per-frame keypoint CNN: one compact latent vector per frame, for action-conditioned planning.

Planning rolls a predictor out thousands of times per decision, so its latent must be small, and
the planner's cost (a distance between latents) should grow with the distance between the scenes.
This encoder gives both: a few conv layers at half resolution produce ``keypoints`` heat maps; a
spatial soft-argmax turns each into the expected (x, y) of its activation (Levine et al.'s deep
spatial autoencoders), and a linear layer maps the 2K coordinates to the ``embed_dim`` latent. The
latent is hence an affine function of where things are in the frame, which keeps latent distances
close to image-space distances. Any frame size works (65 x 65 Two Rooms frames included): the
whole frame is one "patch", so the token grid is ``(T, 1, 1)`` and ``embed`` is the latent itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.models.encoders import VideoEncoder


class KeypointCNN(VideoEncoder):
    """Frames ``(B, T, C, H, W)`` -> one token per frame ``(B, T, 1, embed_dim)``.

    Layers: a stride-2 4x4 conv to ``width // 2`` channels, ``downsample - 1`` stride-2 3x3
    convs to ``width``, ``depth`` 3x3 convs at that resolution (all with GroupNorm + GELU), a 1x1
    conv to ``keypoints`` heat maps, a spatial softmax with a learned temperature per map
    (initially ``temperature``: a low one lets a small object such as a dot win the softmax from
    the start, not only large structures), and a linear map of the 2K expected coordinates (in
    [-1, 1]) to ``embed_dim``. With ``appearance`` each keypoint also reports what it sits on
    and how sure it is: the softmax-weighted mean colour of the (normalised) frame and the peak
    softmax weight, so the latent says which ball is where and whether it is in view, not only
    where the maps peak. Frames are encoded independently (``tubelet_size`` must be 1);
    ``patch_size`` is the frame size.
    """

    def __init__(
        self,
        *,
        name: str = "cnn_keypoints",
        img_size: int = 64,
        in_chans: int = 3,
        frames: int = 16,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        embed_dim: int = 64,
        keypoints: int = 32,
        width: int = 32,
        depth: int = 1,
        downsample: int = 2,
        temperature: float = 0.1,
        appearance: bool = False,
        soft_readout: float | None = None,
        patch_size: int | None = None,
        tubelet_size: int = 1,
    ) -> None:
        check_int("keypoints", keypoints, 1)
        check_int("width", width, 8)
        check_int("depth", depth, 0, 8)
        check_int("downsample", downsample, 1, 4)
        check_int("img_size", img_size, 2 ** (downsample + 1))
        if not (isinstance(temperature, (int, float)) and 0 < temperature <= 100):
            raise ValueError(f"temperature={temperature!r} is out of range: allowed (0, 100]")
        if soft_readout is not None and not (
            isinstance(soft_readout, (int, float)) and 1 < soft_readout <= 1000
        ):
            raise ValueError(
                f"soft_readout={soft_readout!r} is out of range: allowed (1, 1000] or null"
            )
        if tubelet_size != 1:
            raise ValueError(
                f"tubelet_size={tubelet_size} is not allowed: {type(self).__name__} encodes each "
                "frame on its own (tubelet_size must be 1)"
            )
        if patch_size is not None and patch_size != img_size:
            raise ValueError(
                f"patch_size={patch_size} must equal img_size={img_size} (or be omitted): the "
                "whole frame is one token"
            )
        super().__init__(
            name=name,
            img_size=img_size,
            in_chans=in_chans,
            frames=frames,
            embed_dim=embed_dim,
            patch_size=img_size,
            tubelet_size=1,
            mean=mean,
            std=std,
            extra={
                "keypoints": keypoints,
                "width": width,
                "depth": depth,
                "downsample": downsample,
                "temperature": float(temperature),
                "appearance": bool(appearance),
                "soft_readout": None if soft_readout is None else float(soft_readout),
            },
        )
        stem = max(8, width // 2)
        layers = _conv_block(in_chans, stem, kernel=4, stride=2, padding=1)
        channels = stem
        for _ in range(downsample - 1):
            layers += _conv_block(channels, width, kernel=3, stride=2, padding=1)
            channels = width
        for _ in range(depth):
            layers += _conv_block(channels, width, kernel=3, stride=1, padding=1)
            channels = width
        layers.append(nn.Conv2d(channels, keypoints, kernel_size=1))
        self.features = nn.Sequential(*layers)
        self.log_temperature = nn.Parameter(torch.full((keypoints,), math.log(temperature)))
        self.appearance = bool(appearance)
        self.soft_readout = None if soft_readout is None else float(soft_readout)
        per_point = 2 + (1 + in_chans if self.appearance else 0) + (2 if soft_readout else 0)
        self.head = nn.Linear(per_point * keypoints, embed_dim)
        self.keypoints = keypoints

    def _softmax(self, maps: Tensor, warmer: float = 1.0) -> Tensor:
        """Heat maps -> softmax weights; ``warmer`` > 1 divides each map's inverse temperature."""
        n, k, h, w = maps.shape
        scale = torch.exp(-self.log_temperature).view(1, k, 1) / warmer
        return F.softmax(maps.flatten(2) * scale, dim=-1).view(n, k, h, w)

    @staticmethod
    def _expected_xy(weights: Tensor) -> Tensor:
        h, w = weights.shape[-2:]
        xs = torch.linspace(-1.0, 1.0, w, device=weights.device, dtype=weights.dtype)
        ys = torch.linspace(-1.0, 1.0, h, device=weights.device, dtype=weights.dtype)
        x = (weights.sum(dim=2) * xs).sum(dim=-1)
        y = (weights.sum(dim=3) * ys).sum(dim=-1)
        return torch.stack([x, y], dim=-1)

    def keypoint_features(self, frames: Tensor) -> Tensor:
        """Per keypoint: (x, y); with ``appearance``, peak weight and mean colour; with
        ``soft_readout``, (x, y) again under the warmer softmax."""
        maps = self.features(frames)
        weights = self._softmax(maps)
        parts = [self._expected_xy(weights)]
        if self.appearance:
            colour_maps = F.adaptive_avg_pool2d(frames, weights.shape[-2:])  # (N, C, h, w)
            parts.append(weights.flatten(2).amax(-1, keepdim=True))
            parts.append(torch.einsum("nkhw,nchw->nkc", weights, colour_maps))
        if self.soft_readout:
            parts.append(self._expected_xy(self._softmax(maps, self.soft_readout)))
        return torch.cat(parts, dim=-1)

    def unit_positions(self, video: Tensor) -> Tensor:
        """Float video in [0, 1] -> keypoint centres ``(B, T, K, 2)`` in pixels (x, y), pixel
        ``i`` spanning [i, i + 1) as in the worlds (what the identity-switch rate reads)."""
        self.check_video(video)
        b, t = video.shape[:2]
        weights = self._softmax(self.features(self.normalize(video).flatten(0, 1)))
        xy = self._expected_xy(weights).view(b, t, self.keypoints, 2)
        return grid_to_pixels(xy, weights.shape[-1], self.img_size)

    def _tokens(self, x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        points = self.keypoint_features(x.flatten(0, 1))  # (B*T, K, F)
        latent = self.head(points.flatten(1))
        return latent.view(b, t, 1, latent.shape[-1])


def grid_to_pixels(xy: Tensor, cells: int, img_size: int) -> Tensor:
    """Soft-argmax coordinates in [-1, 1] over ``cells`` heat-map cells -> pixels."""
    return ((xy + 1) * (cells - 1) / 2 + 0.5) * (img_size / cells)


def _conv_block(
    c_in: int, c_out: int, *, kernel: int, stride: int, padding: int
) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel_size=kernel, stride=stride, padding=padding),
        nn.GroupNorm(math.gcd(8, c_out), c_out),
        nn.GELU(),
    ]

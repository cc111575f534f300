"""Keypoints with a tracking prior: each keypoint at t looks for its object near where it was.

A plain soft-argmax keypoint encoder (:class:`~jepa_world.models.frame_encoder.KeypointCNN`)
locates every frame on its own, so a heat map that responds to two similar balls jumps between
them from frame to frame; those identity switches then dominate the latent's change and the
predictor has to forecast the encoder's jumps instead of the balls' motion. Here the heat map at t
is conditioned on the keypoints at t-1 and t-2: a Gaussian log-prior centred at the
constant-velocity extrapolation of the keypoint (``2 p[t-1] - p[t-2]``, or ``p[t-1]`` at t = 1),
with a learned width per keypoint, is added to the heat-map logits before the spatial softmax,
so a keypoint follows its object (and coasts on through an occluder) unless another peak is far
stronger. The prior only looks back, so a token never depends on later frames (teacher-forced
``causal`` training stays leak-free).

Tokens are object-level: one token per keypoint per frame, ``(B, T, K, D)`` on the grid
``(T, 1, K)``, built from the keypoint's position, its displacement since the previous frame,
peak weight, the colour under it and its sub-cell position, plus a learned identity embedding of
the keypoint; a predictor over that grid forecasts each object's dynamics (SlotFormer-like).
``tokens="frame"`` pools all keypoints into one token per frame instead, as KeypointCNN does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.models.frame_encoder import KeypointCNN, grid_to_pixels

_TOKEN_MODES = ("keypoints", "frame")


class TrackedKeypoints(KeypointCNN):
    """Frames ``(B, T, C, H, W)`` -> tokens ``(B, T, K, D)`` (or ``(B, T, 1, D)`` with
    ``tokens="frame"``) from keypoints tracked through time; see the module docstring.

    The conv stack, temperature, ``appearance`` and ``soft_readout`` are KeypointCNN's. Extra:
    ``prior_width`` (initial width of the tracking prior, in heat-map units where the frame spans
    [-1, 1]; learned per keypoint), ``extrapolate`` (centre the prior at the constant-velocity
    extrapolation instead of the last position), ``tokens`` and ``motion`` (add each keypoint's
    displacement since the previous frame to its features, zero at the first frame).
    """

    def __init__(
        self,
        *,
        name: str = "tracked_keypoints",
        img_size: int = 64,
        in_chans: int = 3,
        frames: int = 16,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        embed_dim: int = 64,
        keypoints: int = 8,
        width: int = 16,
        depth: int = 1,
        downsample: int = 1,
        temperature: float = 0.03,
        appearance: bool = True,
        soft_readout: float | None = 8.0,
        prior_width: float = 0.25,
        extrapolate: bool = True,
        tokens: str = "keypoints",
        motion: bool = True,
        patch_size: int | None = None,
        tubelet_size: int = 1,
    ) -> None:
        if not (isinstance(prior_width, (int, float)) and 0 < prior_width <= 4):
            raise ValueError(f"prior_width={prior_width!r} is out of range: allowed (0, 4]")
        if tokens not in _TOKEN_MODES:
            raise ValueError(f"tokens={tokens!r}: choose one of {list(_TOKEN_MODES)}")
        super().__init__(
            name=name,
            img_size=img_size,
            in_chans=in_chans,
            frames=frames,
            mean=mean,
            std=std,
            embed_dim=embed_dim,
            keypoints=keypoints,
            width=width,
            depth=depth,
            downsample=downsample,
            temperature=temperature,
            appearance=appearance,
            soft_readout=soft_readout,
            patch_size=patch_size,
            tubelet_size=tubelet_size,
        )
        self.config.update(
            prior_width=float(prior_width),
            extrapolate=bool(extrapolate),
            tokens=tokens,
            motion=bool(motion),
        )
        self.extrapolate = bool(extrapolate)
        self.token_mode = tokens
        self.motion = bool(motion)
        self.log_prior_width = nn.Parameter(torch.full((keypoints,), math.log(prior_width)))
        per_point = self.head.in_features // keypoints + (2 if self.motion else 0)
        if tokens == "keypoints":
            self.head = nn.Sequential(
                nn.Linear(per_point, embed_dim), nn.GELU(), nn.Linear(embed_dim, embed_dim)
            )
            self.identity = nn.Parameter(torch.randn(keypoints, embed_dim) * 0.02)
        else:
            self.head = nn.Linear(per_point * keypoints, embed_dim)
            self.identity = None
        self.grid = self.grid_for(frames)

    def grid_for(self, frames: int) -> tuple[int, int, int]:
        """``(T, 1, K)``: one token per keypoint per frame (``(T, 1, 1)`` when pooled)."""
        # None while the base class builds (it asks for the grid before the mode is set)
        mode = getattr(self, "token_mode", None)
        per_step = self.keypoints if mode == "keypoints" else 1
        return frames, 1, per_step

    # ------------------------------------------------------------------ tracking
    def _log_prior(self, maps: Tensor, centre: Tensor) -> Tensor:
        """Gaussian log-prior (N, K, h, w) around ``centre`` (N, K, 2) in [-1, 1] units."""
        h, w = maps.shape[-2:]
        xs = torch.linspace(-1.0, 1.0, w, device=maps.device, dtype=maps.dtype)
        ys = torch.linspace(-1.0, 1.0, h, device=maps.device, dtype=maps.dtype)
        dx2 = (xs.view(1, 1, 1, w) - centre[..., 0, None, None]) ** 2
        dy2 = (ys.view(1, 1, h, 1) - centre[..., 1, None, None]) ** 2
        var = torch.exp(2 * self.log_prior_width).view(1, -1, 1, 1)
        return -(dx2 + dy2) / (2 * var)

    def track(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        """Normalised frames ``(B, T, C, H, W)`` -> keypoint features ``(B, T, K, F)`` and
        positions ``(B, T, K, 2)`` in [-1, 1] units, each step conditioned on the previous ones."""
        b, t = frames.shape[:2]
        flat = frames.flatten(0, 1)
        maps = self.features(flat)
        maps = maps.view(b, t, *maps.shape[1:])
        colour_maps = None
        if self.appearance:
            colour_maps = F.adaptive_avg_pool2d(flat, maps.shape[-2:])
            colour_maps = colour_maps.view(b, t, *colour_maps.shape[1:])
        feats, positions = [], []
        for step in range(t):
            logits = maps[:, step]
            if step > 0:
                previous = positions[-1].detach()
                centre = previous
                if self.extrapolate and step > 1:
                    centre = (2 * previous - positions[-2].detach()).clamp(-1.0, 1.0)
                logits = logits + self._log_prior(logits, centre)
            weights = self._softmax(logits)
            xy = self._expected_xy(weights)
            parts = [xy]
            if self.motion:
                parts.append(xy - positions[-1].detach() if step > 0 else torch.zeros_like(xy))
            if colour_maps is not None:
                parts.append(weights.flatten(2).amax(-1, keepdim=True))
                parts.append(torch.einsum("nkhw,nchw->nkc", weights, colour_maps[:, step]))
            if self.soft_readout:
                parts.append(self._expected_xy(self._softmax(logits, self.soft_readout)))
            positions.append(xy)
            feats.append(torch.cat(parts, dim=-1))
        return torch.stack(feats, dim=1), torch.stack(positions, dim=1)

    def unit_positions(self, video: Tensor) -> Tensor:
        """Float video in [0, 1] -> keypoint centres ``(B, T, K, 2)`` in pixels (x, y), with
        pixel ``i`` spanning [i, i + 1) as in the worlds: what the identity-switch rate reads."""
        self.check_video(video)
        _, xy = self.track(self.normalize(video))
        return grid_to_pixels(xy, self.img_size // 2 ** self.config["downsample"], self.img_size)

    def _tokens(self, x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        feats, _ = self.track(x)  # (B, T, K, F)
        if self.identity is None:
            return self.head(feats.flatten(2)).view(b, t, 1, -1)
        return self.head(feats) + self.identity

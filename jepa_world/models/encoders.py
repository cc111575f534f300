"""Video encoders: float clips ``(B, T, C, H, W)`` in [0, 1] -> tokens ``(B, T', N, D)``.

Both architectures share :class:`VideoEncoder`, which owns the input contract (shape checks and
normalisation by the encoder's own mean/std, so that an exported encoder needs no outside
preprocessing) and the timm-shaped API (``forward_features``, ``embed``, ``num_features``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.models._timm import Block, trunc_normal_
from jepa_world.models.pos_embed import PositionTable

DEFAULT_MEAN = 0.5
DEFAULT_STD = 0.25


def per_channel(name: str, value: float | Sequence[float] | None, default: float, chans: int):
    """Broadcast a scalar (or None -> default) to ``chans`` floats; check a sequence's length."""
    if value is None:
        value = default
    if isinstance(value, (int, float)):
        values = [float(value)] * chans
    else:
        values = [float(v) for v in value]
        if len(values) != chans:
            raise ValueError(f"{name} needs one value per channel (in_chans={chans}), got {values}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite, got {values}")
    return values


class VideoEncoder(nn.Module):
    """Base class: input checks, normalisation, pooling; subclasses implement ``_tokens``.

    Attributes: ``config`` (JSON-serialisable kwargs that rebuild the encoder with
    ``create_encoder(**config)``), ``num_features`` (D), ``tubelet_size``, ``patch_size`` (pixels
    per token side) and ``grid`` ((T', Hp, Wp) for the configured ``frames`` and ``img_size``).
    """

    def __init__(
        self,
        *,
        name: str,
        img_size: int,
        in_chans: int,
        frames: int,
        embed_dim: int,
        patch_size: int,
        tubelet_size: int,
        mean: float | Sequence[float] | None,
        std: float | Sequence[float] | None,
        extra: dict[str, Any],
    ) -> None:
        super().__init__()
        check_int("in_chans", in_chans, 1)
        check_int("tubelet_size", tubelet_size, 1)
        check_int("patch_size", patch_size, 1)
        check_int("embed_dim", embed_dim, 6)
        check_int("img_size", img_size, patch_size)
        check_int("frames", frames, tubelet_size)
        if img_size % patch_size:
            raise ValueError(f"img_size={img_size} must be a multiple of patch_size={patch_size}")
        if frames % tubelet_size:
            raise ValueError(f"frames={frames} must be a multiple of tubelet_size={tubelet_size}")
        mean_values = per_channel("mean", mean, DEFAULT_MEAN, in_chans)
        std_values = per_channel("std", std, DEFAULT_STD, in_chans)
        if min(std_values) <= 0:
            raise ValueError(f"std must be > 0 for every channel, got {std_values}")
        self.img_size = img_size
        self.in_chans = in_chans
        self.frames = frames
        self.num_features = embed_dim
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.grid = self.grid_for(frames)
        self.config: dict[str, Any] = {
            "name": name,
            "img_size": img_size,
            "in_chans": in_chans,
            "frames": frames,
            "mean": mean_values,
            "std": std_values,
            "embed_dim": embed_dim,
            "patch_size": patch_size,
            "tubelet_size": tubelet_size,
            **extra,
        }
        # Non-persistent: rebuilt from config, so checkpoints hold weights only.
        shape = (1, 1, in_chans, 1, 1)
        self.register_buffer("mean", torch.tensor(mean_values).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std_values).view(shape), persistent=False)

    @property
    def num_patches(self) -> int:
        """Tokens per time step (N = Hp * Wp)."""
        return self.grid[1] * self.grid[2]

    def grid_for(self, frames: int) -> tuple[int, int, int]:
        """Token grid (T', Hp, Wp) for a clip of ``frames`` frames at the configured size."""
        side = self.img_size // self.patch_size
        return frames // self.tubelet_size, side, side

    def expected_input(self) -> str:
        return (
            f"(B, T, C, H, W) with C={self.in_chans}, H=W={self.img_size} and T a positive "
            f"multiple of tubelet_size={self.tubelet_size} (trained with T={self.frames})"
        )

    def check_video(self, video: Tensor) -> None:
        """Raise TypeError/ValueError saying what was expected when ``video`` does not fit."""
        if not isinstance(video, Tensor):
            raise TypeError(f"video must be a torch.Tensor, got {type(video).__name__}")
        if not video.is_floating_point():
            raise TypeError(
                f"video must be float in [0, 1], got dtype {video.dtype}; divide uint8 video by "
                "255 (jepa_world.hub.FrozenEncoder does this for you)"
            )
        t = video.shape[1] if video.ndim == 5 else 0
        if (
            video.ndim != 5
            or tuple(video.shape[2:]) != (self.in_chans, self.img_size, self.img_size)
            or t < 1
            or t % self.tubelet_size
            or video.shape[0] < 1
        ):
            raise ValueError(
                f"video shape {tuple(video.shape)} does not fit: expected {self.expected_input()}"
            )

    def normalize(self, video: Tensor) -> Tensor:
        """``(video - mean) / std`` per channel, in the encoder's dtype."""
        video = video.to(self.mean.dtype)
        return (video - self.mean) / self.std

    #: True when ``keep`` really hides the other tokens (the ViT drops them before attention);
    #: False when every output token has seen the whole frame (CNN receptive fields).
    drops_tokens: bool = False
    #: True when a token depends on frames of other time steps (attention across time): such an
    #: encoder would leak the future into teacher-forced (causal) training.
    mixes_time: bool = False

    def forward_features(self, video: Tensor, keep: Tensor | None = None) -> Tensor:
        """Float video ``(B, T, C, H, W)`` in [0, 1] -> tokens ``(B, T', N, D)``.

        With ``keep`` (flat grid indices ``(K,)`` or ``(B, K)``, e.g. ``Mask.context``) only those
        tokens are returned, ``(B, K, D)``; see ``drops_tokens`` for whether they saw the rest.
        """
        self.check_video(video)
        x = self.normalize(video)
        if keep is None:
            return self._tokens(x)
        t, hp, wp = self.grid_for(video.shape[1])
        keep = check_keep(keep, video.shape[0], t * hp * wp, video.device)
        return self._kept_tokens(x, keep)

    def forward_masked(self, video: Tensor, keep: Tensor) -> Tensor:
        """Only the tokens at flat indices ``keep``, ``(B, K, D)``: see ``forward_features``."""
        return self.forward_features(video, keep)

    def embed(self, video: Tensor) -> Tensor:
        """Pooled embedding per time step ``(B, T', D)`` (mean over the N tokens)."""
        return self.forward_features(video).mean(dim=2)

    def forward(self, video: Tensor, keep: Tensor | None = None) -> Tensor:
        """Same as ``forward_features`` (call the module, so DDP/FSDP hooks run)."""
        return self.forward_features(video, keep)

    def _tokens(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _kept_tokens(self, x: Tensor, keep: Tensor) -> Tensor:
        return take(self._tokens(x).flatten(1, 2), keep)


def check_keep(keep: Tensor, batch: int, n_total: int, device: torch.device) -> Tensor:
    """Validate flat token indices ``(K,)`` or ``(B, K)`` against a grid of ``n_total`` tokens."""
    if not isinstance(keep, Tensor) or keep.dtype not in (torch.int64, torch.int32):
        raise TypeError("keep must be an integer (long) tensor of flat token indices")
    if keep.ndim not in (1, 2) or (keep.ndim == 2 and keep.shape[0] != batch):
        raise ValueError(f"keep must be (K,) or (B={batch}, K), got {tuple(keep.shape)}")
    if keep.numel() == 0 or int(keep.min()) < 0 or int(keep.max()) >= n_total:
        raise ValueError(f"keep must be non-empty with indices in [0, {n_total - 1}]")
    return keep.to(device=device, dtype=torch.long)


def take(tokens: Tensor, keep: Tensor) -> Tensor:
    """Rows ``keep`` ((K,) or (B, K)) of ``tokens`` (B, L, D) -> (B, K, D)."""
    if keep.ndim == 1:
        return tokens[:, keep]
    return torch.gather(tokens, 1, keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


class VideoViT(VideoEncoder):
    """ViT over tubelets: Conv3d patch embedding (kernel = stride = (tubelet, p, p)), fixed 3-D
    sin-cos positions for the actual clip length, timm ``Block``s with full attention, LayerNorm.
    """

    def __init__(
        self,
        *,
        name: str = "vit_micro",
        img_size: int = 64,
        in_chans: int = 3,
        frames: int = 16,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        embed_dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        patch_size: int = 8,
        tubelet_size: int = 2,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.0,
    ) -> None:
        check_int("depth", depth, 1)
        check_int("num_heads", num_heads, 1)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        if embed_dim % 2:
            raise ValueError(f"embed_dim={embed_dim} must be even (sin-cos positions)")
        if not mlp_ratio > 0:
            raise ValueError(f"mlp_ratio={mlp_ratio} must be > 0")
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f"drop_path_rate={drop_path_rate} is out of range: allowed [0, 1)")
        extra = {
            "depth": depth,
            "num_heads": num_heads,
            "mlp_ratio": float(mlp_ratio),
            "qkv_bias": bool(qkv_bias),
            "drop_path_rate": float(drop_path_rate),
        }
        super().__init__(
            name=name,
            img_size=img_size,
            in_chans=in_chans,
            frames=frames,
            embed_dim=embed_dim,
            patch_size=patch_size,
            tubelet_size=tubelet_size,
            mean=mean,
            std=std,
            extra=extra,
        )
        kernel = (tubelet_size, patch_size, patch_size)
        self.patch_embed = nn.Conv3d(in_chans, embed_dim, kernel_size=kernel, stride=kernel)
        self.positions = PositionTable(embed_dim)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop_path=rate)
            for rate in rates
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.apply(_init_weights)
        _rescale_residual_branches(self.blocks)

    drops_tokens = True
    mixes_time = True

    def _embed_patches(self, x: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        x = self.patch_embed(x.transpose(1, 2))  # (B, D, T', Hp, Wp)
        grid = tuple(x.shape[2:])
        x = x.flatten(2).transpose(1, 2)  # (B, T'*Hp*Wp, D), flat index t*Hp*Wp + h*Wp + w
        return x + self.positions(grid, x.device, x.dtype), grid

    def _run_blocks(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def _tokens(self, x: Tensor) -> Tensor:
        x, (t, h, w) = self._embed_patches(x)
        return self._run_blocks(x).view(x.shape[0], t, h * w, x.shape[-1])

    def _kept_tokens(self, x: Tensor, keep: Tensor) -> Tensor:
        x, _ = self._embed_patches(x)
        return self._run_blocks(take(x, keep))  # dropped tokens never enter attention


class VideoCNN(VideoEncoder):
    """Small conv net for fast CPU runs: a stride-2 Conv3d stem folds each tubelet into one step
    at half resolution, stride-2 Conv2d stages (GroupNorm + GELU) go down to the (Hp, Wp) grid,
    then a stride-1 3x3 stage, a 1x1 conv to D and a LayerNorm. Each time step is encoded on its
    own (no mixing across tubelets; the predictor relates them).
    """

    def __init__(
        self,
        *,
        name: str = "cnn_small",
        img_size: int = 64,
        in_chans: int = 3,
        frames: int = 16,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        embed_dim: int = 128,
        patch_size: int = 8,
        tubelet_size: int = 2,
        width: int = 32,
    ) -> None:
        check_int("width", width, 8)
        check_int("patch_size", patch_size, 2)
        if patch_size & (patch_size - 1):
            raise ValueError(f"patch_size={patch_size} must be a power of two for the CNN encoder")
        super().__init__(
            name=name,
            img_size=img_size,
            in_chans=in_chans,
            frames=frames,
            embed_dim=embed_dim,
            patch_size=patch_size,
            tubelet_size=tubelet_size,
            mean=mean,
            std=std,
            extra={"width": width},
        )
        stages = int(math.log2(patch_size)) - 1  # the stem already halves the resolution
        widths = [min(width * 2**i, max(embed_dim, width)) for i in range(stages + 1)]
        self.stem = nn.Conv3d(
            in_chans,
            widths[0],
            kernel_size=(tubelet_size, 4, 4),
            stride=(tubelet_size, 2, 2),
            padding=(0, 1, 1),
        )
        layers: list[nn.Module] = [nn.GroupNorm(_groups(widths[0]), widths[0]), nn.GELU()]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1),
                nn.GroupNorm(_groups(c_out), c_out),
                nn.GELU(),
            ]
        layers += [  # one more 3x3 at the token resolution widens each token's view
            nn.Conv2d(widths[-1], widths[-1], kernel_size=3, padding=1),
            nn.GroupNorm(_groups(widths[-1]), widths[-1]),
            nn.GELU(),
            nn.Conv2d(widths[-1], embed_dim, kernel_size=1),
        ]
        self.stages = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def _tokens(self, x: Tensor) -> Tensor:
        x = self.stem(x.transpose(1, 2))  # (B, W0, T', H, W)
        b, c, t, h, w = x.shape
        # Fold time into the batch before any norm: statistics must never mix time steps.
        x = self.stages(x.transpose(1, 2).reshape(b * t, c, h, w))  # (B*T', D, Hp, Wp)
        x = x.flatten(2).transpose(1, 2)  # (B*T', N, D)
        return self.norm(x).view(b, t, x.shape[1], x.shape[2])


def _groups(channels: int) -> int:
    return math.gcd(8, channels)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Conv3d)):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def _rescale_residual_branches(blocks: nn.ModuleList) -> None:
    """Shrink each block's output projections by sqrt(2 * layer) so deep stacks start stable."""
    with torch.no_grad():
        for layer, block in enumerate(blocks, start=1):
            block.attn.proj.weight.div_(math.sqrt(2.0 * layer))
            block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer))

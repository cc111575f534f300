"""Encoder presets by name: ``create_encoder("vit_micro", img_size=64, frames=16)``.

A preset is an architecture plus default kwargs; any kwarg can be overridden. The built
encoder's ``config`` holds every resolved kwarg, so ``create_encoder(**encoder.config)`` rebuilds
the same architecture (this is how exported encoders are loaded).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from jepa_world.models.encoders import VideoCNN, VideoEncoder, VideoViT
from jepa_world.models.frame_encoder import KeypointCNN

ENCODERS: dict[str, dict[str, Any]] = {
    # ~0.84 M parameters: the CPU quickstart model.
    "vit_micro": {"embed_dim": 128, "depth": 4, "num_heads": 4, "patch_size": 8, "tubelet_size": 2},
    # ~5.4 M parameters.
    "vit_tiny": {"embed_dim": 192, "depth": 12, "num_heads": 3, "patch_size": 8, "tubelet_size": 2},
    # ~21.4 M parameters.
    "vit_small": {
        "embed_dim": 384,
        "depth": 12,
        "num_heads": 6,
        "patch_size": 8,
        "tubelet_size": 2,
    },
    # ~0.26 M parameters: fastest on CPU.
    "cnn_small": {"embed_dim": 128, "patch_size": 8, "tubelet_size": 2, "width": 32},
    # ~20 k parameters: one latent vector per frame (any frame size, e.g. Two Rooms' 65 x 65),
    # the action-conditioned planning model.
    "cnn_keypoints": {
        "embed_dim": 64,
        "keypoints": 32,
        "width": 32,
        "depth": 1,
        "downsample": 2,
    },
}

_ARCHITECTURES: dict[str, type[VideoEncoder]] = {
    "vit_micro": VideoViT,
    "vit_tiny": VideoViT,
    "vit_small": VideoViT,
    "cnn_small": VideoCNN,
    "cnn_keypoints": KeypointCNN,
}


def list_encoders() -> list[str]:
    """Names accepted by :func:`create_encoder`, sorted."""
    return sorted(ENCODERS)


def register_encoder(name: str, cls: type[VideoEncoder], **defaults: Any) -> None:
    """Add a preset (e.g. a wider ViT) so that ``create_encoder(name)`` and exports know it."""
    if not (isinstance(cls, type) and issubclass(cls, VideoEncoder)):
        raise TypeError(f"cls must be a VideoEncoder subclass, got {cls!r}")
    _check_kwargs(name, cls, defaults)
    ENCODERS[name] = dict(defaults)
    _ARCHITECTURES[name] = cls


def create_encoder(
    name: str,
    *,
    img_size: int = 64,
    in_chans: int = 3,
    frames: int = 16,
    mean: float | Sequence[float] | None = None,
    std: float | Sequence[float] | None = None,
    **overrides: Any,
) -> VideoEncoder:
    """Build the preset ``name`` for clips of ``frames`` x ``in_chans`` x ``img_size``^2.

    ``mean``/``std`` (scalar or one per channel; default 0.5 / 0.25) normalise [0, 1] input
    inside the encoder. ``overrides`` replace preset kwargs (e.g. ``depth=2``).
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}: choose one of {list_encoders()}")
    cls = _ARCHITECTURES[name]
    _check_kwargs(name, cls, overrides)
    kwargs = {**ENCODERS[name], **overrides}
    return cls(
        name=name,
        img_size=img_size,
        in_chans=in_chans,
        frames=frames,
        mean=mean,
        std=std,
        **kwargs,
    )


def _check_kwargs(name: str, cls: type[VideoEncoder], kwargs: dict[str, Any]) -> None:
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self", "name"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(
            f"encoder {name!r} ({cls.__name__}) got unknown argument(s) {unknown}; "
            f"allowed: {sorted(allowed)}"
        )

"""``timm:<name>``: any timm image model, applied to each frame.

Weights: timm's default is random (``pretrained=False``); local weights come through timm's own
``pretrained_cfg_overlay=dict(file=...)`` (``timm:resnet18?file=/path/model.safetensors``).
Asking for pretrained weights without a file is refused: nothing is downloaded at run time.

Input size: the model's ``pretrained_cfg`` size when the model needs it (``fixed_input_size``,
e.g. ViTs); convolutional models, which take any size, see the worlds' frames at their own size
unless ``size=`` asks for another. Mean / std always come from the model's config. Tokens: the
spatial map of ``forward_features`` (``(h*w, C)`` per frame) or a ViT's patch tokens (prefix
tokens dropped); pooled: their mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from jepa_world.evaluation.adapters.frames import describe, prepare_video
from jepa_world.evaluation.adapters.protocol import Features, ModelInfo

__all__ = ["TimmAdapter", "image_tokens"]


def image_tokens(out: Tensor, num_features: int, prefix_tokens: int, name: str) -> Tensor:
    """timm ``forward_features`` output -> tokens ``(B, N, D)``."""
    if out.ndim == 4 and out.shape[1] == num_features:  # (B, C, h, w)
        return out.flatten(2).transpose(1, 2)
    if out.ndim == 4 and out.shape[-1] == num_features:  # (B, h, w, C)
        return out.flatten(1, 2)
    if out.ndim == 3:
        return out[:, prefix_tokens:] if out.shape[1] > prefix_tokens else out
    raise ValueError(
        f"{name}: forward_features gave shape {tuple(out.shape)}, expected (B, C, h, w), "
        f"(B, h, w, C) or (B, N, D) with C = D = num_features = {num_features}"
    )


class TimmAdapter:
    """A timm image model applied per frame (one feature step per frame)."""

    def __init__(
        self,
        name: str,
        file: str | None = None,
        size: int | None = None,
        frames: int = 16,
        world_size: int = 64,
        seed: int | None = None,
        spec: str | None = None,
    ) -> None:
        import timm

        self.name, self.file, self.size_option, self.frames = name, file, size, int(frames)
        self.world_size, self.spec = world_size, spec or f"timm:{name}"
        kwargs: dict[str, Any] = {"num_classes": 0}
        if file is not None:
            kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(file)})
        try:
            with torch.random.fork_rng(devices=[]):
                if seed is not None:
                    torch.manual_seed(seed)
                self.model: nn.Module = timm.create_model(name, **kwargs).eval()
        except RuntimeError as err:
            if "Unknown model" in str(err):
                raise ValueError(f"{self.spec}: timm has no model {name!r}") from err
            raise ValueError(f"{self.spec}: {str(err).splitlines()[0]}") from err
        self.model.requires_grad_(False)
        cfg = dict(getattr(self.model, "pretrained_cfg", {}) or {})
        input_size = tuple(cfg.get("input_size", (3, world_size, world_size)))[-2:]
        if size is not None:
            hw: tuple[int, int] | None = (int(size), int(size))
        elif cfg.get("fixed_input_size", False):
            hw = (int(input_size[0]), int(input_size[1]))
        else:
            hw = None
        mean = tuple(float(m) for m in cfg.get("mean", (0.485, 0.456, 0.406)))
        std = tuple(float(s) for s in cfg.get("std", (0.229, 0.224, 0.225)))
        weights = f"local file {file}" if file else "random (pretrained=False)"
        self.info = ModelInfo(
            name=self.spec if seed is None else f"random_init[{seed}]",
            frames_per_step=1,
            clip_frames=self.frames,
            input_size=hw,
            mean=mean,
            std=std,
            mixes_time=False,
            preprocessing=describe(hw, mean, std) + " (each frame on its own)",
            random_init="timm.create_model(name, pretrained=False) after torch.manual_seed(seed)",
            config={
                "adapter": "timm",
                "model": name,
                "weights": weights,
                "pretrained_input_size": list(input_size),
                "fixed_input_size": bool(cfg.get("fixed_input_size", False)),
                "num_features": int(getattr(self.model, "num_features", 0)),
            },
        )

    @torch.inference_mode()
    def features(self, video: Tensor | np.ndarray) -> Features:
        x = prepare_video(video, self.info.input_size, self.info.mean, self.info.std)
        b, t = x.shape[:2]
        out = self.model.forward_features(x.flatten(0, 1))
        prefix = int(getattr(self.model, "num_prefix_tokens", 0))
        tokens = image_tokens(out, int(self.model.num_features), prefix, self.spec)
        tokens = tokens.reshape(b, t, *tokens.shape[1:]).float()
        return Features(tokens.mean(2), tokens)

    def random_init(self, seed: int) -> TimmAdapter:
        """The same constructor with ``pretrained=False``, seeded."""
        return TimmAdapter(
            self.name, None, self.size_option, self.frames, self.world_size, seed, self.spec
        )

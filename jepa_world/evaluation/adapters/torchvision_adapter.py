"""``torchvision:<name>``: torchvision's video models (r3d_18, mc3_18, r2plus1d_18, s3d,
mvit_v1_b, mvit_v2_s, swin3d_t/s/b).

Weights: ``weights=None`` (random) unless ``file=`` names a local state dict (safetensors, or a
``torch.save`` file loaded with ``weights_only=True``); nothing is downloaded. Clip length,
crop size and mean / std come from the model's default weights entry (read locally, no
download): models that need their crop size (``min_size`` above the worlds' frames, or a fixed
positional grid) get frames resized to it, fully convolutional ones see the frames as rendered.
Tokens: the last feature map before pooling, one step per temporal output position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from jepa_world.evaluation.adapters.frames import describe, prepare_video
from jepa_world.evaluation.adapters.protocol import Features, ModelInfo

__all__ = ["TORCHVISION_MODELS", "TorchvisionAdapter"]

TORCHVISION_MODELS = {
    "r3d_18": "resnet",
    "mc3_18": "resnet",
    "r2plus1d_18": "resnet",
    "s3d": "s3d",
    "mvit_v1_b": "mvit",
    "mvit_v2_s": "mvit",
    "swin3d_t": "swin",
    "swin3d_s": "swin",
    "swin3d_b": "swin",
}
"""The video models the adapter reads, and the family that says where their tokens are."""


def _load_state(path: str) -> dict[str, Tensor]:
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("state_dict", state) if isinstance(state, dict) else state


def _tokens(model: nn.Module, family: str, x: Tensor) -> Tensor:
    """(B, C, T, H, W) -> tokens (B, T', N, D)."""
    if family == "resnet":
        x = model.stem(x)
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            x = layer(x)
        return x.permute(0, 2, 3, 4, 1).flatten(2, 3)
    if family == "s3d":
        return model.features(x).permute(0, 2, 3, 4, 1).flatten(2, 3)
    if family == "swin":
        x = model.norm(model.features(model.pos_drop(model.patch_embed(x))))  # (B, T', H, W, C)
        return x.flatten(2, 3)
    x = model.conv_proj(x).flatten(2).transpose(1, 2)  # mvit
    x = model.pos_encoding(x)
    thw = (model.pos_encoding.temporal_size,) + tuple(model.pos_encoding.spatial_size)
    for block in model.blocks:
        x, thw = block(x, thw)
    x = model.norm(x)[:, 1:]
    return x.reshape(x.shape[0], thw[0], thw[1] * thw[2], x.shape[-1])


class TorchvisionAdapter:
    """A torchvision video classification model's backbone as a video feature model."""

    def __init__(
        self,
        name: str,
        file: str | None = None,
        size: int | None = None,
        frames: int | None = None,
        world_size: int = 64,
        seed: int | None = None,
        spec: str | None = None,
    ) -> None:
        import torchvision

        self.spec = spec or f"torchvision:{name}"
        if name not in TORCHVISION_MODELS:
            raise ValueError(
                f"{self.spec}: unknown video model {name!r}; choose one of "
                f"{', '.join(TORCHVISION_MODELS)}"
            )
        self.name, self.file, self.size_option, self.world_size = name, file, size, world_size
        self.family = TORCHVISION_MODELS[name]
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.model: nn.Module = torchvision.models.get_model(name, weights=None).eval()
        if file is not None:
            try:
                self.model.load_state_dict(_load_state(file), strict=True)
            except (OSError, RuntimeError, ValueError) as err:
                raise ValueError(
                    f"{self.spec}: cannot load {file}: {str(err).splitlines()[0]}"
                ) from err
        self.model.requires_grad_(False)
        entry = torchvision.models.get_model_weights(name).DEFAULT
        transform = entry.transforms()
        crop = tuple(int(c) for c in transform.crop_size)
        meta = entry.meta
        fixed = self.family in ("mvit",) or min(meta.get("min_size", (1, 1))) > world_size
        hw = (int(size), int(size)) if size is not None else (crop if fixed else None)
        self.frames = int(frames or 16)
        mean = tuple(float(m) for m in transform.mean)
        std = tuple(float(s) for s in transform.std)
        self._hw = hw
        step = self._temporal_stride()
        self.info = ModelInfo(
            name=self.spec if seed is None else f"random_init[{seed}]",
            frames_per_step=step,
            clip_frames=self.frames,
            input_size=hw,
            mean=mean,
            std=std,
            mixes_time=True,
            fixed_clip=self.family == "mvit",
            preprocessing=describe(hw, mean, std) + f" ({self.frames}-frame clips)",
            random_init=f"torchvision.models.get_model({name!r}, weights=None) after "
            "torch.manual_seed(seed)",
            config={
                "adapter": "torchvision",
                "model": name,
                "weights": f"local file {file}" if file else "random (weights=None)",
                "weights_entry": str(entry),
                "crop_size": list(crop),
            },
        )

    def _temporal_stride(self) -> int:
        """Frames per output time step, from one small probe clip."""
        if self.family == "mvit":
            return int(self.model.conv_proj.stride[0])
        if self.family == "swin":
            return int(self.model.patch_embed.proj.stride[0])
        side = self._hw[0] if self._hw is not None else self.world_size
        with torch.inference_mode():
            x = torch.zeros(1, 3, self.frames, side, side)
            steps = _tokens(self.model, self.family, x).shape[1]
        return max(1, self.frames // steps)

    @torch.inference_mode()
    def features(self, video: Tensor | np.ndarray) -> Features:
        x = prepare_video(video, self._hw, self.info.mean, self.info.std)
        tokens = _tokens(self.model, self.family, x.transpose(1, 2)).float()
        return Features(tokens.mean(2), tokens)

    def random_init(self, seed: int) -> TorchvisionAdapter:
        """The same constructor with ``weights=None``, seeded."""
        return TorchvisionAdapter(
            self.name, None, self.size_option, self.frames, self.world_size, seed, self.spec
        )

    def describe(self) -> dict[str, Any]:
        return self.info.as_dict()

"""``hf:<folder or id>``: HF transformers video models through ``AutoModel`` (optional extra:
``pip install -e ".[hf]"``).

Loading is local only (``local_files_only=True``): a folder written by ``save_pretrained`` or an
id already in the local HF cache; anything else is refused with the command that downloads it.
V-JEPA 2 (``VJEPA2Model``) brings its own predictor, which the probes use for roll-out and
surprise (context tokens at their positions, mask tokens at the future positions); VideoMAE and
other encoders are encoder-only. Clip length, tubelet, input size and mean / std come from the
model's config and its (video) preprocessor config when the folder has one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.adapters.frames import describe, prepare_video
from jepa_world.evaluation.adapters.protocol import Features, ModelInfo

__all__ = ["HF_INSTALL", "HFAdapter"]

HF_INSTALL = 'pip install -e ".[hf]"'
"""The command that installs the optional HF transformers dependency."""

_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_PROCESSOR_FILES = ("video_preprocessor_config.json", "preprocessor_config.json")


def _transformers(spec: str):
    try:
        import transformers
    except ImportError as err:
        raise ImportError(f"{spec} needs HF transformers: {HF_INSTALL}") from err
    transformers.utils.logging.disable_progress_bar()  # the probe log is one line per stage
    return transformers


def _processor_stats(source: str) -> tuple[tuple, tuple, str]:
    """Mean / std from the model's own preprocessor config when it has one (local only)."""
    from transformers.utils import cached_file

    for filename in _PROCESSOR_FILES:
        try:
            path = cached_file(
                source, filename, local_files_only=True, _raise_exceptions_for_missing_entries=False
            )
        except OSError:
            path = None
        if path:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if "image_mean" in data and "image_std" in data:
                return tuple(data["image_mean"]), tuple(data["image_std"]), filename
    return (*_IMAGENET, "ImageNet default (the model's files have no preprocessor config)")


def _geometry(config: Any) -> tuple[int, int, int, int]:
    """(clip frames, tubelet, input side, patch) from a video transformer's config."""
    frames = getattr(config, "frames_per_clip", None) or getattr(config, "num_frames", None)
    tubelet = getattr(config, "tubelet_size", 1)
    side = getattr(config, "crop_size", None) or getattr(config, "image_size", None)
    patch = getattr(config, "patch_size", None)
    if not frames or not side or not patch:
        raise ValueError(
            f"{type(config).__name__} lacks frames (frames_per_clip / num_frames), size "
            "(crop_size / image_size) or patch_size: not a video transformer the hf adapter reads"
        )
    side = side[0] if isinstance(side, (list, tuple)) else side
    patch = patch[0] if isinstance(patch, (list, tuple)) else patch
    return int(frames), int(tubelet), int(side), int(patch)


class HFAdapter:
    """A transformers video model (``AutoModel``) as a video feature model."""

    def __init__(
        self,
        source: str,
        frames: int | None = None,
        seed: int | None = None,
        spec: str | None = None,
        model: Any = None,
        stats: tuple[tuple, tuple, str] | None = None,
    ) -> None:
        self.spec = spec or f"hf:{source}"
        tf = _transformers(self.spec)
        self.source = source
        if model is None:
            try:
                model = tf.AutoModel.from_pretrained(source, local_files_only=True)
            except (OSError, ValueError) as err:
                raise ValueError(
                    f"{self.spec}: not a local model folder and not in the local HF cache "
                    f"(nothing is downloaded at run time; fetch it first: "
                    f"huggingface-cli download {source})"
                ) from err
            weights = f"from {source}"
        else:
            weights = "random (from_config)"
        self.model = model.eval()
        self.model.requires_grad_(False)
        config = self.model.config
        full_frames, tubelet, side, patch = _geometry(config)
        self.kind = getattr(config, "model_type", type(self.model).__name__)
        self.grid = side // patch
        self.full_frames = full_frames
        self.frames_option = frames
        default = min(full_frames, 16) if self.kind == "vjepa2" else full_frames
        clip = int(frames or default)
        if clip % tubelet or (self.kind != "vjepa2" and clip != full_frames):
            raise ValueError(
                f"{self.spec}: frames={clip} must be a multiple of tubelet_size={tubelet}"
                + ("" if self.kind == "vjepa2" else f" and equal num_frames={full_frames}")
            )
        mean, std, stats_from = stats or _processor_stats(source)
        self.stats = (mean, std, stats_from)
        self.info = ModelInfo(
            name=self.spec if seed is None else f"random_init[{seed}]",
            frames_per_step=tubelet,
            clip_frames=clip,
            input_size=(side, side),
            mean=tuple(float(m) for m in mean),
            std=tuple(float(s) for s in std),
            mixes_time=True,
            context_steps=None,
            preprocessing=describe((side, side), mean, std) + f"; mean/std: {stats_from}",
            random_init="AutoModel.from_config(config) after torch.manual_seed(seed)",
            fixed_clip=self.kind != "vjepa2",
            config={
                "adapter": "hf",
                "source": source,
                "weights": weights,
                "model_type": self.kind,
                "config": config.to_dict(),
            },
        )

    # ----------------------------------------------------------------- protocol
    @property
    def has_predictor(self) -> bool:
        return self.kind == "vjepa2" and getattr(self.model, "predictor", None) is not None

    @torch.inference_mode()
    def features(self, video: Tensor | np.ndarray) -> Features:
        x = prepare_video(video, self.info.input_size, self.info.mean, self.info.std)
        b, t = x.shape[:2]
        if self.kind == "vjepa2":
            out = self.model(pixel_values_videos=x, skip_predictor=True).last_hidden_state
        else:
            out = self.model(pixel_values=x).last_hidden_state
        steps = t // self.info.frames_per_step
        n = self.grid * self.grid
        if out.shape[1] == steps * n + 1:  # a class token
            out = out[:, 1:]
        if out.shape[1] != steps * n:
            raise ValueError(
                f"{self.spec}: last_hidden_state has shape {tuple(out.shape)}, expected "
                f"(B, {steps} x {n} tokens, D)"
            )
        tokens = out.reshape(b, steps, n, out.shape[-1]).float()
        return Features(tokens.mean(2), tokens)

    @torch.inference_mode()
    def predict(self, context: Tensor, steps: int) -> Tensor:
        """V-JEPA 2's predictor: context tokens ``(B, C, N, D)`` -> the next ``steps`` steps,
        forecast jointly at their positions, the rest of one probe window per call (longer
        horizons feed the last ``C`` steps, forecasts included, back as context)."""
        if not self.has_predictor:
            raise ValueError(f"{self.spec}: {self.kind} has no predictor")
        b, c, n, d = context.shape
        limit = max(c + 1, self.info.clip_frames // self.info.frames_per_step)
        out: list[Tensor] = []
        seq = context
        done = 0
        while done < steps:
            ctx = seq[:, -c:]
            k = min(steps - done, limit - c)
            cn = c * n
            index = torch.arange(cn + k * n, device=ctx.device)[None].expand(b, -1)
            pred = self.model.predictor(
                encoder_hidden_states=ctx.flatten(1, 2),
                context_mask=[index[:, :cn]],
                target_mask=[index[:, cn:]],
            ).last_hidden_state.reshape(b, k, n, d)
            out.append(pred)
            seq = torch.cat([seq, pred], dim=1)
            done += k
        return torch.cat(out, dim=1).float()

    def random_init(self, seed: int) -> HFAdapter:
        """``AutoModel.from_config`` of the same config, seeded."""
        tf = _transformers(self.spec)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = tf.AutoModel.from_config(self.model.config)
        return HFAdapter(self.source, self.frames_option, seed, self.spec, model, self.stats)

"""Frozen-model API: export a trained JEPA to a folder and load it back without Lightning.

An export folder holds ``config.json`` (architecture, input contract, normalisation, version)
and safetensors weights: ``model.safetensors`` (the frozen encoder: the EMA target encoder when
there is one), optionally ``context_encoder.safetensors``, ``predictor.safetensors`` (video
forecasting) and ``action_predictor.safetensors`` (action-conditioned, for planning). Loading
is strict and never unpickles. This module must not import Lightning or wandb, so that other
projects can use a trained encoder with only torch, timm and safetensors installed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

import jepa_world
from jepa_world.models import (
    ActionPredictor,
    Predictor,
    VideoEncoder,
    create_action_predictor,
    create_encoder,
    create_predictor,
)
from jepa_world.video import to_float_video

__all__ = [
    "ACTION_PREDICTOR_NAME",
    "CONFIG_NAME",
    "CONTEXT_ENCODER_NAME",
    "FORMAT_VERSION",
    "MODEL_NAME",
    "PREDICTOR_NAME",
    "FrozenEncoder",
    "WorldModel",
    "load_encoder",
    "load_world_model",
    "save_pretrained",
]

FORMAT_VERSION = 1
"""Version of the export folder layout written to and checked in ``config.json``."""
CONFIG_NAME = "config.json"
"""File name of an export's architecture, input contract and metadata."""
MODEL_NAME = "model.safetensors"
"""File name of the frozen encoder's weights (the EMA target when there is one)."""
CONTEXT_ENCODER_NAME = "context_encoder.safetensors"
"""File name of the context encoder's weights, when it differs from the frozen one."""
PREDICTOR_NAME = "predictor.safetensors"
"""File name of the video predictor's weights."""
ACTION_PREDICTOR_NAME = "action_predictor.safetensors"
"""File name of the action predictor's weights."""


# ----------------------------------------------------------------------------------- export


def _parts(model: nn.Module) -> tuple[VideoEncoder, VideoEncoder | None, Predictor | None]:
    """(frozen encoder, context encoder if distinct, predictor) of what we were given."""
    if isinstance(model, VideoEncoder):
        return model, None, None
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, VideoEncoder):
        raise TypeError(
            "save_pretrained needs a VideoEncoder or a module whose `encoder` attribute is one, "
            f"got {type(model).__name__}"
        )
    target = getattr(model, "target_encoder", None)
    if target is not None and not isinstance(target, VideoEncoder):
        raise TypeError(f"`target_encoder` must be a VideoEncoder, got {type(target).__name__}")
    predictor = getattr(model, "predictor", None)
    if predictor is not None and not isinstance(predictor, Predictor):
        raise TypeError(f"`predictor` must be a Predictor, got {type(predictor).__name__}")
    if target is None or target is encoder:
        return encoder, None, predictor
    if target.config != encoder.config:
        raise ValueError("target_encoder and encoder have different configs; cannot export both")
    return target, encoder, predictor


def _action_predictor(model: nn.Module) -> ActionPredictor | None:
    """The ``action_predictor`` attribute of what we were given, if it has one."""
    action_predictor = getattr(model, "action_predictor", None)
    if action_predictor is not None and not isinstance(action_predictor, ActionPredictor):
        raise TypeError(
            f"`action_predictor` must be an ActionPredictor, got {type(action_predictor).__name__}"
        )
    return action_predictor


def _weights(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


def _config(
    encoder: VideoEncoder,
    predictor: Predictor | None,
    metadata: dict[str, Any] | None,
    action_predictor: ActionPredictor | None = None,
) -> dict[str, Any]:
    enc = encoder.config
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "jepa_world_version": jepa_world.__version__,
        "encoder": enc,
        "predictor": predictor.config if predictor is not None else None,
        "action_predictor": action_predictor.config if action_predictor is not None else None,
        "input": {
            "frames": enc["frames"],
            "size": enc["img_size"],
            "channels": enc["in_chans"],
            "tubelet_size": enc["tubelet_size"],
            "mean": enc["mean"],
            "std": enc["std"],
            "dtype": "uint8 or float in [0,1]",
            "layout": "(B, T, C, H, W) or (T, C, H, W)",
        },
        "output": {
            "grid": list(encoder.grid),
            "num_features": encoder.num_features,
            "layout": "(B, T', N, D) tokens; embed() gives (B, T', D)",
        },
    }
    if metadata:
        config["metadata"] = metadata
    return config


def save_pretrained(
    model: nn.Module, directory: str | os.PathLike, metadata: dict[str, Any] | None = None
) -> Path:
    """Export ``model`` to ``directory`` and return its path.

    ``model`` is a :class:`VideoEncoder` or a module with ``encoder`` (context encoder), optional
    ``target_encoder`` (EMA copy: exported as the frozen ``model.safetensors``, the context
    encoder then goes to ``context_encoder.safetensors``), optional ``predictor`` and optional
    ``action_predictor`` (``action_predictor.safetensors``).
    ``metadata`` (JSON-serialisable) is stored under ``"metadata"`` in config.json.

    The folder is written next to its destination and renamed into place, so a crash never leaves
    a half-written export; an existing export is replaced only once the new one is complete.
    """
    directory = Path(directory)
    frozen, context, predictor = _parts(model)
    action_predictor = None if isinstance(model, VideoEncoder) else _action_predictor(model)
    try:
        config_text = json.dumps(_config(frozen, predictor, metadata, action_predictor), indent=2)
    except (TypeError, ValueError) as err:
        raise TypeError(f"config/metadata must be JSON-serialisable: {err}") from err
    if directory.exists():
        if not directory.is_dir():
            raise FileExistsError(f"{directory} exists and is not a folder")
        if any(directory.iterdir()) and not (directory / CONFIG_NAME).is_file():
            raise FileExistsError(
                f"{directory} is a non-empty folder without {CONFIG_NAME}: refusing to replace "
                "something that is not an export"
            )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        metadata_tag = {"format": "pt", "jepa_world_format_version": str(FORMAT_VERSION)}
        save_file(_weights(frozen), staging / MODEL_NAME, metadata=metadata_tag)
        if context is not None:
            save_file(_weights(context), staging / CONTEXT_ENCODER_NAME, metadata=metadata_tag)
        if predictor is not None:
            save_file(_weights(predictor), staging / PREDICTOR_NAME, metadata=metadata_tag)
        if action_predictor is not None:
            weights = _weights(action_predictor)
            save_file(weights, staging / ACTION_PREDICTOR_NAME, metadata=metadata_tag)
        (staging / CONFIG_NAME).write_text(config_text + "\n", encoding="utf-8")
        _replace_folder(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def _replace_folder(new: Path, directory: Path) -> None:
    """Move ``new`` to ``directory``; an old folder is set aside first and removed after."""
    if not directory.exists():
        new.rename(directory)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
    old.rmdir()
    directory.rename(old)
    try:
        new.rename(directory)
    except BaseException:
        old.rename(directory)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------- load


def _read_config(directory: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"export folder not found: {directory}")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {directory} is not a jepa-world export")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: format_version {version!r} is not supported (this jepa-world reads "
            f"format_version {FORMAT_VERSION})"
        )
    for key in ("encoder", "predictor"):
        if key not in config:
            raise ValueError(f"{path} lacks the {key!r} entry")
    return directory, config


def _load_strict(module: nn.Module, path: Path) -> None:
    """Load safetensors ``path`` into ``module``; any key or shape mismatch is an error."""
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        state = load_file(path)
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{path} is not a readable safetensors file: {err}") from err
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{path} does not match the architecture in config.json: missing keys {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}, unexpected keys {unexpected[:5]}"
            f"{' ...' if len(unexpected) > 5 else ''}"
        )
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise ValueError(
                f"{path}: key {key!r} has shape {tuple(tensor.shape)}, the architecture in "
                f"config.json expects {tuple(expected[key].shape)}"
            )
    dtypes = {t.dtype for t in state.values() if t.is_floating_point()}
    if len(dtypes) == 1 and (dtype := dtypes.pop()) != torch.float32:
        module.to(dtype)  # keep the exported precision so outputs match bit for bit
    module.load_state_dict(state, strict=True)


def _freeze(module: nn.Module) -> nn.Module:
    module.eval()
    module.requires_grad_(False)
    return module


def _build_encoder(config: dict[str, Any], path: Path) -> VideoEncoder:
    try:
        encoder = create_encoder(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config.json 'encoder' cannot be built: {err}") from err
    _load_strict(encoder, path)
    return encoder


class FrozenEncoder(nn.Module):
    """An exported encoder, frozen: eval mode, no gradients for its weights.

    Takes uint8 video (scaled by 1/255) or float video in [0, 1], as a tensor or numpy array,
    batched ``(B, T, C, H, W)`` or not ``(T, C, H, W)``; unbatched input gives unbatched output.
    Normalisation uses the mean/std stored in the export. ``forward`` returns tokens
    ``(B, T', N, D)``, ``embed`` pooled ``(B, T', D)``; on float input both equal the exported
    module's ``forward_features`` / ``embed`` bit for bit.
    """

    def __init__(self, encoder: VideoEncoder) -> None:
        super().__init__()
        self.encoder = _freeze(encoder)
        self.config = encoder.config
        self.num_features = encoder.num_features
        self.tubelet_size = encoder.tubelet_size
        self.patch_size = encoder.patch_size
        self.grid = encoder.grid
        self.eval()

    def train(self, mode: bool = True) -> FrozenEncoder:
        """Stays in eval mode: a frozen encoder has no training behaviour."""
        return super().train(False)

    def prepare(self, video: Tensor | np.ndarray) -> tuple[Tensor, bool]:
        """Float (B, T, C, H, W) on the encoder's device, and whether the input was batched."""
        if not isinstance(video, Tensor | np.ndarray):
            raise TypeError(f"video must be a torch.Tensor or numpy array, got {type(video)}")
        if video.ndim not in (4, 5):
            raise ValueError(
                f"video must be (T, C, H, W) or (B, T, C, H, W), got shape "
                f"{tuple(video.shape)}; expected {self.encoder.expected_input()}"
            )
        video = to_float_video(video, self.encoder.mean.device)
        batched = video.ndim == 5
        if not batched:
            video = video.unsqueeze(0)
        self.encoder.check_video(video)
        return video, batched

    def forward(self, video: Tensor | np.ndarray) -> Tensor:
        video, batched = self.prepare(video)
        tokens = self.encoder.forward_features(video)
        return tokens if batched else tokens.squeeze(0)

    def embed(self, video: Tensor | np.ndarray) -> Tensor:
        video, batched = self.prepare(video)
        pooled = self.encoder.embed(video)
        return pooled if batched else pooled.squeeze(0)


def load_encoder(directory: str | os.PathLike) -> FrozenEncoder:
    """Load the frozen encoder (``model.safetensors``) of an export folder."""
    directory, config = _read_config(directory)
    return FrozenEncoder(_build_encoder(config["encoder"], directory / MODEL_NAME))


class WorldModel(nn.Module):
    """Frozen ``encoder`` (target space), ``context_encoder`` (the same object when no separate
    context encoder was exported), ``predictor`` and ``action_predictor`` (each may be None, not
    both).

    The predictor was trained to forecast layer-normed ``encoder`` tokens, so compare its output
    with :meth:`targets`, not with raw ``encoder`` tokens. The action predictor works on the
    per-frame latents ``encoder.embed`` gives; :meth:`encode` and :meth:`rollout` make the model a
    planner's ``LatentModel``.
    """

    def __init__(
        self,
        encoder: FrozenEncoder,
        context_encoder: FrozenEncoder,
        predictor: Predictor | None,
        action_predictor: ActionPredictor | None = None,
    ) -> None:
        super().__init__()
        if predictor is None and action_predictor is None:
            raise ValueError("a WorldModel needs a predictor, an action predictor or both")
        self.encoder = encoder
        self.context_encoder = context_encoder
        self.predictor = _freeze(predictor) if predictor is not None else None
        self.action_predictor = _freeze(action_predictor) if action_predictor is not None else None
        self.eval()

    def train(self, mode: bool = True) -> WorldModel:
        return super().train(False)

    def targets(self, video: Tensor | np.ndarray) -> Tensor:
        """Layer-normed encoder tokens: the space the predictor forecasts in."""
        tokens = self.encoder(video)
        return F.layer_norm(tokens, tokens.shape[-1:])

    def predict(
        self, context_video: Tensor | np.ndarray, steps: int, window: int | None = None
    ) -> Tensor:
        """Encode ``context_video`` and roll the predictor ``steps`` token-time steps forward
        (each covers ``tubelet_size`` frames): ``(B, steps, N, D)`` (unbatched in, unbatched out).
        """
        if self.predictor is None:
            raise ValueError("this world model has no video predictor (an action-only export)")
        context, batched = self.context_encoder.prepare(context_video)
        tokens = self.context_encoder.encoder.forward_features(context)
        grid = self.context_encoder.grid
        forecast = self.predictor.rollout(tokens, steps, (grid[1], grid[2]), window=window)
        return forecast if batched else forecast.squeeze(0)

    def _actions(self) -> ActionPredictor:
        if self.action_predictor is None:
            raise ValueError(
                "this world model has no action predictor: export an ActionJEPA to plan with it"
            )
        return self.action_predictor

    def encode(self, obs: Tensor | np.ndarray) -> Tensor:
        """Latents ``(B, D)`` of single frames ``(B, C, H, W)`` (uint8, or float in [0, 1]).

        Uses the frozen ``encoder`` (the EMA target when there is one): the space the action
        predictor forecasts in and feeds its own outputs back into.
        """
        self._actions()
        if isinstance(obs, np.ndarray):
            obs = torch.from_numpy(np.ascontiguousarray(obs))
        if not isinstance(obs, Tensor) or obs.ndim != 4:
            shape = tuple(obs.shape) if hasattr(obs, "shape") else type(obs).__name__
            raise ValueError(f"obs must be frames (B, C, H, W), got {shape}")
        return self.encoder.embed(obs.unsqueeze(1))[:, 0]

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        """Latents after each action, ``(B, H, D)``, from ``z0`` ``(B, D)`` and actions
        ``(B, H, A)``, feeding the action predictor's own outputs back."""
        predictor = self._actions()
        device = next(predictor.parameters()).device
        return predictor.rollout(z0.to(device), actions.to(device=device, dtype=z0.dtype))


def _build_module(kind: str, build: Any, config: dict[str, Any], path: Path) -> nn.Module:
    try:
        module = build(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config.json {kind!r} cannot be built: {err}") from err
    _load_strict(module, path)
    return module


def load_world_model(directory: str | os.PathLike) -> WorldModel:
    """Load encoder, context encoder, predictor and/or action predictor of an export made with
    at least one of the two predictors."""
    directory, config = _read_config(directory)
    has_predictor = config["predictor"] is not None and (directory / PREDICTOR_NAME).is_file()
    action_config = config.get("action_predictor")
    has_actions = action_config is not None and (directory / ACTION_PREDICTOR_NAME).is_file()
    if not has_predictor and not has_actions:
        raise FileNotFoundError(
            f"{directory} has no predictor ({PREDICTOR_NAME} / config 'predictor') and no action "
            f"predictor ({ACTION_PREDICTOR_NAME}); it holds an encoder only: use load_encoder"
        )
    encoder = FrozenEncoder(_build_encoder(config["encoder"], directory / MODEL_NAME))
    context = encoder
    if (directory / CONTEXT_ENCODER_NAME).is_file():
        context = FrozenEncoder(_build_encoder(config["encoder"], directory / CONTEXT_ENCODER_NAME))
    predictor = None
    if has_predictor:
        predictor = _build_module(
            "predictor", create_predictor, config["predictor"], directory / PREDICTOR_NAME
        )
    action_predictor = None
    if has_actions:
        action_predictor = _build_module(
            "action_predictor",
            create_action_predictor,
            action_config,
            directory / ACTION_PREDICTOR_NAME,
        )
    return WorldModel(encoder, context, predictor, action_predictor)

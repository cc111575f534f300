"""Frozen-model API: export a trained JEPA to a folder and load it back without Lightning.

An export folder holds ``config.json`` (architecture, input contract, normalisation, version,
and the XXH3-128 checksum of every weight file) and safetensors weights: ``model.safetensors`` (the
frozen encoder: the EMA target encoder when there is one), optionally
``context_encoder.safetensors``, ``predictor.safetensors`` (video forecasting) and
``action_predictor.safetensors`` (action-conditioned, for planning). Loading is strict, checks
the checksums and never unpickles. An export is written beside its destination, fsync'd and
renamed into place (:mod:`jepa_world.atomic`), so a failed or killed export leaves the previous
one intact. This module must not import Lightning or wandb, so that other projects can use a
trained encoder with only torch, timm and safetensors installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn

import jepa_world
from jepa_world.atomic import staged_folder, write_synced
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
    "CHECKSUMS_KEY",
    "CONFIG_NAME",
    "CONTEXT_ENCODER_NAME",
    "FORMAT_VERSION",
    "MODEL_NAME",
    "PREDICTOR_NAME",
    "FrozenEncoder",
    "WorldModel",
    "add_checksums",
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
WEIGHT_NAMES = (MODEL_NAME, CONTEXT_ENCODER_NAME, PREDICTOR_NAME, ACTION_PREDICTOR_NAME)
"""Every weight file an export can hold, each checksummed in ``config.json``."""
CHECKSUMS_KEY = "checksums"
"""``config.json`` key: ``{weight file name: "xxh3_128:<hex>"}`` for every weight file."""
_HEX_DIGEST = re.compile(r"xxh3_128:[0-9a-f]{32}")


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
    ``metadata`` (JSON-serialisable) is stored under ``"metadata"`` in config.json, the checksum of
    each weight file under ``"checksums"``.

    The folder is written next to its destination, fsync'd and renamed into place, so a crash or
    a full disk never leaves a half-written export; an existing export is replaced only once the
    new one is complete. Files and folders get the usual modes (0666 / 0777 less the umask).
    """
    directory = Path(directory)
    frozen, context, predictor = _parts(model)
    action_predictor = None if isinstance(model, VideoEncoder) else _action_predictor(model)
    config = _config(frozen, predictor, metadata, action_predictor)
    try:
        json.dumps(config)
    except (TypeError, ValueError) as err:
        raise TypeError(f"config/metadata must be JSON-serialisable: {err}") from err
    _check_destination(directory)
    modules = {
        MODEL_NAME: frozen,
        CONTEXT_ENCODER_NAME: context,
        PREDICTOR_NAME: predictor,
        ACTION_PREDICTOR_NAME: action_predictor,
    }
    tag = {"format": "pt", "jepa_world_format_version": str(FORMAT_VERSION)}
    blobs = {
        name: save_safetensors(_weights(module), metadata=tag)
        for name, module in modules.items()
        if module is not None
    }
    _write_export(directory, config, blobs)
    return directory


def _check_destination(directory: Path) -> None:
    """Refuse to replace anything but an export (or an empty folder)."""
    if directory.exists():
        if not directory.is_dir():
            raise FileExistsError(f"{directory} exists and is not a folder")
        if any(directory.iterdir()) and not (directory / CONFIG_NAME).is_file():
            raise FileExistsError(
                f"{directory} is a non-empty folder without {CONFIG_NAME}: refusing to replace "
                "something that is not an export"
            )


def _write_export(
    directory: Path,
    config: dict[str, Any],
    blobs: dict[str, bytes],
    extra: list[Path] | None = None,
) -> None:
    """Write config.json (with the checksums of ``blobs``), the weight files and copies of
    ``extra`` files atomically to ``directory``."""
    config = {**config, CHECKSUMS_KEY: {name: _digest(blob) for name, blob in blobs.items()}}
    text = json.dumps(config, indent=2) + "\n"
    with staged_folder(directory, what="export") as staging:
        for name, blob in blobs.items():
            write_synced(staging / name, blob)
        for path in extra or []:
            if path.is_dir():
                shutil.copytree(path, staging / path.name)
            else:
                shutil.copyfile(path, staging / path.name)
        write_synced(staging / CONFIG_NAME, text.encode("utf-8"))


def _digest(data: bytes | bytearray | memoryview) -> str:
    """The checksum of a weight file: 128-bit XXH3, written ``xxh3_128:<32 hex digits>``.

    It guards against corruption (a torn copy, a bad disk, bytes written into a file), not
    against tampering, and at about 30 GB/s it keeps the check a few per cent of a load where
    SHA-256 (about 2 GB/s) would add a fifth.
    """
    import xxhash

    return "xxh3_128:" + xxhash.xxh3_128_hexdigest(data)


def add_checksums(source: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Rewrite the export ``source`` to ``out`` (default: in place) with the checksum of
    every weight file in config.json; return ``out``.

    For exports written before checksums existed. The weights must load into the architecture in
    config.json first; checksums already there must match. Other files of the folder are copied
    as they are; the rewrite is atomic like :func:`save_pretrained`.
    """
    directory, config = _read_config(source)
    load_encoder(directory, verify_checksums=False)  # vouch only for weights that load
    blobs = {
        name: (directory / name).read_bytes()
        for name in WEIGHT_NAMES
        if (directory / name).is_file()
    }
    has_predictor = config["predictor"] is not None and PREDICTOR_NAME in blobs
    if has_predictor or (config.get("action_predictor") and ACTION_PREDICTOR_NAME in blobs):
        load_world_model(directory, verify_checksums=False)
    known = config.get(CHECKSUMS_KEY)
    if known is not None:
        _check_checksums(directory, known)
        for name, blob in blobs.items():
            if name in known and _digest(blob) != known[name]:
                raise ValueError(_mismatch(directory / name))
    out = directory if out is None else Path(out)
    _check_destination(out)
    skip = {CONFIG_NAME, *blobs}
    extra = sorted(
        p for p in directory.iterdir() if p.name not in skip and not p.name.startswith(".")
    )
    _write_export(out, config, blobs, extra)
    return out


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


def _check_checksums(directory: Path, checksums: Any) -> dict[str, str]:
    """``config.json``'s checksums, checked for form: ``{name: "xxh3_128:<hex>"}``."""
    if not isinstance(checksums, dict) or not all(
        isinstance(name, str) and isinstance(digest, str) and _HEX_DIGEST.fullmatch(digest)
        for name, digest in checksums.items()
    ):
        raise ValueError(
            f"{directory / CONFIG_NAME}: {CHECKSUMS_KEY!r} must map weight file names to "
            "checksums of the form xxh3_128:<32 lower-case hex digits>"
        )
    return checksums


def _checksums(directory: Path, config: dict[str, Any], verify: bool) -> dict[str, str] | None:
    """The checksums to check the weights against: None when ``verify`` is off or the export
    predates checksums (then with a one-line warning)."""
    if not verify:
        return None
    if CHECKSUMS_KEY not in config:
        warnings.warn(
            f"{directory / CONFIG_NAME} has no weight checksums (an export from an older "
            f"jepa-world), so its weights load unchecked; `jepa-world export --ckpt_path "
            f"{directory} --out {directory}` adds them",
            UserWarning,
            stacklevel=3,
        )
        return None
    checksums = _check_checksums(directory, config[CHECKSUMS_KEY])
    for name in checksums:
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"{directory / name} is missing: config.json lists its checksum, so the export "
                "had it"
            )
    return checksums


def _mismatch(path: Path) -> str:
    return (
        f"{path} is corrupt: its checksum does not match the checksum in {CONFIG_NAME} (the file "
        "changed after export); export the model again from its checkpoint"
    )


_THREADED_READ_BYTES = 8 * 2**20


class _WeightFile:
    """A weight file read, and its checksum checked, in a background thread when it is large.

    Started before the module is built, so that reading and hashing a large file (both release
    the GIL) overlap with building it; a small one is read at once, since starting a thread would
    cost more than the read. :meth:`data` waits and raises what went wrong, naming the file.
    """

    def __init__(self, path: Path, checksums: dict[str, str] | None) -> None:
        self.path, self.checksums = path, checksums
        self._data: bytes | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        try:
            small = path.stat().st_size < _THREADED_READ_BYTES
        except OSError:
            small = True  # _read names the problem
        if small:
            self._read()
        else:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _read(self) -> None:
        try:
            path = self.path
            if not path.is_file():
                raise FileNotFoundError(f"weights file not found: {path}")
            data = path.read_bytes()  # read once: hashed, then parsed
            if self.checksums is not None:
                if path.name not in self.checksums:
                    raise ValueError(f"{path} has no checksum in {CONFIG_NAME} {CHECKSUMS_KEY!r}")
                if _digest(data) != self.checksums[path.name]:
                    raise ValueError(_mismatch(path))
            self._data = data
        except BaseException as err:  # handed to the caller by data()
            self._error = err

    def data(self) -> bytes:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._data is not None
        return self._data


def _load_strict(module: nn.Module, weights: _WeightFile) -> None:
    """Load the safetensors file into ``module``; any key or shape mismatch is an error, and so
    is a checksum that differs from the one in config.json (when checked)."""
    path, data = weights.path, weights.data()
    try:
        state = load_safetensors(data)
    except (SafetensorError, OSError, ValueError) as err:
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


def _build_encoder(
    config: dict[str, Any], path: Path, checksums: dict[str, str] | None = None
) -> VideoEncoder:
    weights = _WeightFile(path, checksums)
    try:
        encoder = create_encoder(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config.json 'encoder' cannot be built: {err}") from err
    _load_strict(encoder, weights)
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


def load_encoder(directory: str | os.PathLike, *, verify_checksums: bool = True) -> FrozenEncoder:
    """Load the frozen encoder (``model.safetensors``) of an export folder.

    With ``verify_checksums`` (the default) the file's checksum must match the one in config.json;
    an export without checksums loads with a warning.
    """
    directory, config = _read_config(directory)
    checksums = _checksums(directory, config, verify_checksums)
    return FrozenEncoder(_build_encoder(config["encoder"], directory / MODEL_NAME, checksums))


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


def _build_module(
    kind: str,
    build: Any,
    config: dict[str, Any],
    path: Path,
    checksums: dict[str, str] | None = None,
) -> nn.Module:
    weights = _WeightFile(path, checksums)
    try:
        module = build(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config.json {kind!r} cannot be built: {err}") from err
    _load_strict(module, weights)
    return module


def load_world_model(directory: str | os.PathLike, *, verify_checksums: bool = True) -> WorldModel:
    """Load encoder, context encoder, predictor and/or action predictor of an export made with
    at least one of the two predictors.

    With ``verify_checksums`` (the default) every weight file's checksum must match the one in
    config.json; an export without checksums loads with a warning.
    """
    directory, config = _read_config(directory)
    checksums = _checksums(directory, config, verify_checksums)
    has_predictor = config["predictor"] is not None and (directory / PREDICTOR_NAME).is_file()
    action_config = config.get("action_predictor")
    has_actions = action_config is not None and (directory / ACTION_PREDICTOR_NAME).is_file()
    if not has_predictor and not has_actions:
        raise FileNotFoundError(
            f"{directory} has no predictor ({PREDICTOR_NAME} / config 'predictor') and no action "
            f"predictor ({ACTION_PREDICTOR_NAME}); it holds an encoder only: use load_encoder"
        )
    encoder = FrozenEncoder(_build_encoder(config["encoder"], directory / MODEL_NAME, checksums))
    context = encoder
    if (directory / CONTEXT_ENCODER_NAME).is_file():
        context = FrozenEncoder(
            _build_encoder(config["encoder"], directory / CONTEXT_ENCODER_NAME, checksums)
        )
    predictor = None
    if has_predictor:
        predictor = _build_module(
            "predictor",
            create_predictor,
            config["predictor"],
            directory / PREDICTOR_NAME,
            checksums,
        )
    action_predictor = None
    if has_actions:
        action_predictor = _build_module(
            "action_predictor",
            create_action_predictor,
            action_config,
            directory / ACTION_PREDICTOR_NAME,
            checksums,
        )
    return WorldModel(encoder, context, predictor, action_predictor)

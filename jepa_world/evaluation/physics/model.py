"""The model under probe: an exported world model (or a random-init copy) behind one small API.

Probes need four things from a model: the frame representation (layer-normed target-encoder
tokens: the space the predictor forecasts in), the context encoder, one training-shaped forecast
(context steps -> the rest of a window) and the autoregressive roll-out. :class:`ProbeModel` gives
them for an exported folder, a loaded :class:`~jepa_world.hub.WorldModel`, or freshly initialised
modules of the same architecture (the ``random_init`` baseline).

Clips longer than the model's training clip are encoded in consecutive windows of the training
length (the last window aligned to the clip's end), so every token is computed the way the model
saw tokens in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.evaluation.models import load_model, random_init_world_model, unwrap_encoder
from jepa_world.video import to_float_video

__all__ = ["ProbeModel", "load_probe_model", "random_init_like", "tile_windows"]


def tile_windows(steps: int, window: int) -> list[tuple[int, int]]:
    """Cover ``steps`` time steps with windows of ``window`` steps: ``(start, first_new)`` pairs.

    Windows are consecutive; when ``steps`` is not a multiple, the last window is aligned to the
    end and only its steps from ``first_new`` on are used. A clip shorter than one window is one
    shorter window.
    """
    if steps < 1 or window < 1:
        raise ValueError(f"steps={steps} and window={window} must be >= 1")
    if steps <= window:
        return [(0, 0)]
    tiles = [(s, s) for s in range(0, steps - window + 1, window)]
    covered = tiles[-1][0] + window
    if covered < steps:
        tiles.append((steps - window, covered))
    return tiles


@dataclass
class ProbeModel:
    """Frozen encoder (target space), context encoder and predictor of one model.

    ``context_steps`` is the number of context time steps the predictor was trained with;
    ``window_steps`` (T' of the training clip) bounds every forecast window. ``objective`` is
    how it was trained (``window``: forecast the rest of a window from its first
    ``context_steps``; ``causal``: teacher forcing, every step from all of its past) and
    ``forecast_span`` the steps it learned to forecast in one call (None: unknown, the rest of
    the window after the context).
    """

    encoder: nn.Module
    context_encoder: nn.Module
    predictor: nn.Module
    config: dict[str, Any]
    context_steps: int
    name: str = "model"
    notes: dict[str, Any] = field(default_factory=dict)
    objective: str = "window"
    forecast_span: int | None = None

    def __post_init__(self) -> None:
        self.encoder = unwrap_encoder(self.encoder).eval()
        self.context_encoder = unwrap_encoder(self.context_encoder).eval()
        self.predictor = self.predictor.eval()
        self.tubelet = int(self.encoder.tubelet_size)
        self.grid_hw = (int(self.encoder.grid[1]), int(self.encoder.grid[2]))
        self.num_patches = self.grid_hw[0] * self.grid_hw[1]
        self.patch_size = int(self.encoder.patch_size)
        self.window_steps = int(self.encoder.frames) // self.tubelet
        self.size = int(self.encoder.img_size)
        self.channels = int(self.encoder.in_chans)
        if not 1 <= self.context_steps < max(2, self.window_steps):
            raise ValueError(
                f"context_steps={self.context_steps} is out of range: allowed "
                f"[1, {self.window_steps - 1}] for a model trained on {self.window_steps} steps"
            )

    @property
    def device(self) -> torch.device:
        return next(self.encoder.parameters()).device

    @property
    def frames(self) -> int:
        """Frames of the training clip."""
        return self.window_steps * self.tubelet

    # --------------------------------------------------------------------- representations
    @torch.inference_mode()
    def targets(self, video: np.ndarray | Tensor) -> Tensor:
        """Layer-normed target-encoder tokens ``(B, T', N, D)`` (float32, CPU), windowed."""
        x = to_float_video(video, self.device)
        steps = x.shape[1] // self.tubelet
        x = x[:, : steps * self.tubelet]
        parts = []
        for start, first_new in tile_windows(steps, self.window_steps):
            stop = min(steps, start + self.window_steps)
            clip = x[:, start * self.tubelet : stop * self.tubelet]
            tokens = self.encoder.forward_features(clip)
            parts.append(tokens[:, first_new - start :])
        tokens = torch.cat(parts, dim=1)
        return F.layer_norm(tokens, tokens.shape[-1:]).float().cpu()

    @torch.inference_mode()
    def window_targets(self, video: np.ndarray | Tensor, starts: list[int]) -> Tensor:
        """Layer-normed target tokens of the training-length windows starting at ``starts``.

        Returns ``(B, len(starts), W, N, D)``: each window encoded on its own, as in training.
        """
        x = to_float_video(video, self.device)
        w, tub = self.window_steps, self.tubelet
        steps = x.shape[1] // tub
        if max(starts) + w > steps or min(starts) < 0:
            raise ValueError(f"windows {starts} of {w} steps do not fit a clip of {steps} steps")
        clips = torch.stack([x[:, s * tub : (s + w) * tub] for s in starts], dim=1)
        b, k = clips.shape[:2]
        tokens = self.encoder.forward_features(clips.flatten(0, 1))
        tokens = F.layer_norm(tokens, tokens.shape[-1:])
        return tokens.view(b, k, *tokens.shape[1:]).float().cpu()

    @torch.inference_mode()
    def forecast_windows(self, windows: Tensor, context_steps: int) -> tuple[Tensor, Tensor]:
        """One training-shaped forecast per window clip ``(B, W*tubelet frames)``.

        Returns predictions ``(B, W - C, N, D)`` for the steps after the ``C`` context steps and
        the layer-normed targets ``(B, W, N, D)`` of the whole window (both float32, CPU).
        """
        x = to_float_video(windows, self.device)
        w = x.shape[1] // self.tubelet
        c = context_steps
        if not 1 <= c < w:
            raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:])
        context = self.context_encoder.forward_features(x[:, : c * self.tubelet])
        n = self.num_patches
        index = torch.arange(w * n, device=x.device)
        pred = self.predictor(
            context.flatten(1, 2), index[: c * n], index[c * n :], (w, *self.grid_hw)
        )
        b = x.shape[0]
        return pred.view(b, w - c, n, -1).float().cpu(), targets.float().cpu()

    @torch.inference_mode()
    def forecast_windows_lengths(
        self, windows: Tensor, lengths: tuple[int, ...]
    ) -> tuple[dict[int, Tensor], Tensor]:
        """:meth:`forecast_windows` for several context lengths, each window encoded once (the
        context encoder once too when its tokens do not mix time steps)."""
        x = to_float_video(windows, self.device)
        w, n, b = x.shape[1] // self.tubelet, self.num_patches, x.shape[0]
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:]).float().cpu()
        shared = None
        if not self.mixes_time:
            shared = self.context_encoder.forward_features(x[:, : max(lengths) * self.tubelet])
        index = torch.arange(w * n, device=x.device)
        preds = {}
        for c in lengths:
            if not 1 <= c < w:
                raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
            if shared is not None:
                context = shared[:, :c]
            else:
                context = self.context_encoder.forward_features(x[:, : c * self.tubelet])
            pred = self.predictor(
                context.flatten(1, 2), index[: c * n], index[c * n :], (w, *self.grid_hw)
            )
            preds[c] = pred.view(b, w - c, n, -1).float().cpu()
        return preds, targets

    @property
    def mixes_time(self) -> bool:
        """True when the encoder's tokens depend on other time steps (attention across time)."""
        return bool(getattr(self.encoder, "mixes_time", True))

    @torch.inference_mode()
    def next_step_forecasts(self, video: np.ndarray | Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced one-step forecasts of every step of ``video`` from all of its past.

        Step t is forecast from the real steps ``max(0, t - W + 1) .. t - 1`` (W: the training
        window) in one causal pass per window, as the ``causal`` objective trains at horizon 1.
        Returns forecasts ``(B, T', N, D)`` (step 0, which has no past, is NaN) and the
        layer-normed targets ``(B, T', N, D)``, float32 on the CPU. Needs an encoder whose tokens
        do not mix time steps (the context tokens of step t must not see later frames).
        """
        if self.mixes_time:
            raise ValueError(
                f"{self.name}: next-step forecasts over a growing context need an encoder whose "
                "tokens do not mix time steps; this one attends across time"
            )
        x = to_float_video(video, self.device)
        tub, w = self.tubelet, self.window_steps
        steps = x.shape[1] // tub
        x = x[:, : steps * tub]
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:])
        context = self.context_encoder.forward_features(x)
        b, _, n, d = context.shape
        out = torch.full_like(context, float("nan"))
        # window starting at s forecasts steps s+1 .. s+W-1; the first covers 1..W-1, later
        # ones add one step each
        for s in range(0, max(1, steps - w + 1)):
            length = min(w, steps - s)
            if length < 2:
                break
            index = torch.arange(length * n, device=x.device)
            pred = self.predictor(
                context[:, s : s + length - 1].flatten(1, 2),
                index[: (length - 1) * n],
                index[n:],
                (length, *self.grid_hw),
                horizon=1,
            ).view(b, length - 1, n, d)
            if s == 0:
                out[:, 1:length] = pred
            else:
                out[:, s + length - 1] = pred[:, -1]
        return out.float().cpu(), targets.float().cpu()

    @torch.inference_mode()
    def rollout(
        self,
        context_video: np.ndarray | Tensor,
        steps: int,
        window: int | None,
        chunk: int = 1,
    ) -> Tensor:
        """Encode the context frames, roll the predictor ``steps`` steps: ``(B, steps, N, D)``,
        ``chunk`` steps per predictor call (see ``Predictor.rollout``)."""
        x = to_float_video(context_video, self.device)
        context = self.context_encoder.forward_features(x)
        out = self.predictor.rollout(context, steps, self.grid_hw, window=window, chunk=chunk)
        return out.float().cpu()


def _metadata(config: dict[str, Any]) -> dict[str, Any]:
    meta = config.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _objective_from(config: dict[str, Any]) -> tuple[str, int | None]:
    """Training objective and forecast span recorded in the export (older exports: window)."""
    meta = _metadata(config)
    objective = meta.get("objective", "window")
    span = meta.get("forecast_span")
    if objective not in ("window", "causal"):
        raise ValueError(f"config.json metadata.objective={objective!r} is not window or causal")
    if span is not None and (isinstance(span, bool) or not isinstance(span, int) or span < 1):
        raise ValueError(f"config.json metadata.forecast_span={span!r} must be an int >= 1")
    return objective, span


def _context_steps_from(config: dict[str, Any], window_steps: int) -> tuple[int, str]:
    """Training context length recorded in the export, else half the training window."""
    meta = _metadata(config)
    for source in (meta, meta.get("hparams") or {}, config):
        value = source.get("context_steps") if isinstance(source, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value, "config.json metadata"
    return max(1, window_steps // 2), "default: half the training window (not in config.json)"


def load_probe_model(model: Any, context_steps: int | None = None) -> ProbeModel:
    """A :class:`ProbeModel` from an export folder, a ``hub.WorldModel`` or a ProbeModel."""
    if isinstance(model, ProbeModel):
        return model
    loaded = load_model(model)
    world_model = loaded.model
    parts = (getattr(world_model, name, None) for name in ("encoder", "predictor"))
    if any(part is None for part in parts):
        raise TypeError(
            "model must be an export folder path, a jepa_world.hub.WorldModel or a ProbeModel, "
            f"got {type(model).__name__}"
        )
    encoder = unwrap_encoder(world_model.encoder)
    window = int(encoder.frames) // int(encoder.tubelet_size)
    if context_steps is None:
        context_steps, source = _context_steps_from(loaded.config, window)
    else:
        source = "suite"
    objective, span = _objective_from(loaded.config)
    return ProbeModel(
        encoder=world_model.encoder,
        context_encoder=getattr(world_model, "context_encoder", None) or world_model.encoder,
        predictor=world_model.predictor,
        config=loaded.config,
        context_steps=context_steps,
        name=loaded.name,
        notes={"context_steps_source": source},
        objective=objective,
        forecast_span=span,
    )


def random_init_like(model: ProbeModel, seed: int) -> ProbeModel:
    """Same architecture, fresh weights from ``torch.manual_seed(seed)`` (see
    :func:`~jepa_world.evaluation.models.random_init_world_model`); one random encoder plays both
    target and context encoder."""
    twin = random_init_world_model(model, seed, "predictor", device=model.device)
    encoder = unwrap_encoder(twin.encoder)
    return ProbeModel(
        encoder=encoder,
        context_encoder=encoder,
        predictor=twin.predictor,
        config={"encoder": encoder.config, "predictor": twin.predictor.config, "seed": seed},
        context_steps=model.context_steps,
        name=f"random_init[{seed}]",
        objective=model.objective,
        forecast_span=model.forecast_span,
    )

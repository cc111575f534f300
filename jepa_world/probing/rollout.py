"""Roll-out probe: forecast with the predictor alone, read the forecast with the frame probe.

From ``C`` context time steps (``C * tubelet`` frames, encoded by the context encoder) the
predictor rolls forward ``max(horizons)`` steps autoregressively with no further frames. At each
horizon ``k`` the per-patch position read-out of the state probe (fit on layer-normed target
tokens, the space the predictor forecasts in) is applied to the forecast tokens.

Reported per k (means over test clips, 95 % bootstrap intervals over clips):

- ``position_px@k``: distance between the read-out of the forecast and the true position of
  time step ``C - 1 + k``; baselines ``copy_last`` (the true position at the last context step),
  ``constant_velocity`` (true last position plus k times the last true step displacement,
  clamped to the frame; it cannot foresee bounces or gravity) and ``mean`` (the training mean
  position);
- ``latent_err@k``: L1 (mean absolute difference over tokens and dims) between the forecast and
  the true future layer-normed target tokens; baselines ``copy_last`` (the true tokens of the last
  context step) and ``mean`` (the mean training token of each patch).

True future tokens. The roll-out always forecasts "the step after a context window", so the true
tokens of step ``t`` are the target encoder's tokens of ``t`` in the training-length window that
starts ``C`` steps before it (``t`` at window position ``C``, exactly a horizon-1 training
target); the copy-last tokens are those of step ``C - 1`` in the first window. Roll-out clips are
``max(horizons) - 1 + W`` steps long so that every such window fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from jepa_world.probing.clips import BallClips, step_labels
from jepa_world.probing.metrics import bootstrap_ci
from jepa_world.probing.model import ProbeModel
from jepa_world.probing.ridge import RidgeReadout

__all__ = ["RolloutResult", "rollout_baselines", "rollout_steps", "run_rollout_probe"]


@dataclass
class RolloutResult:
    """Flat metrics (no ``rollout/`` prefix) and per-clip errors for plots."""

    metrics: dict[str, float]
    per_clip: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (B, len(horizons))


def _summarise(
    errors: np.ndarray, name: str, horizons: tuple[int, ...], resamples: int, seed: int
) -> dict[str, float]:
    out: dict[str, float] = {}
    for j, k in enumerate(horizons):
        col = errors[:, j]
        key = f"{name}@{k}"
        out[key] = float(col.mean())
        out[f"{key}_ci_low"], out[f"{key}_ci_high"] = bootstrap_ci(
            lambda idx, col=col: float(col[idx].mean()), len(col), resamples, seed
        )
    return out


def rollout_steps(window_steps: int, horizons: tuple[int, ...]) -> int:
    """Clip length in time steps that the roll-out probe needs (see the module docstring)."""
    return max(horizons) - 1 + window_steps


def _check_length(clips: BallClips, tubelet: int, need: int) -> None:
    steps = clips.video.shape[1] // tubelet
    if steps < need:
        raise ValueError(
            f"roll-out clips have {steps} time steps; the probe needs {need} "
            f"({need * tubelet} frames)"
        )


def run_rollout_probe(
    model: ProbeModel,
    clips: BallClips,
    readout: RidgeReadout,
    token_mean: Tensor,
    context_steps: int,
    horizons: tuple[int, ...] = (1, 2, 4, 8, 16),
    window: int | None = None,
    batch_size: int = 32,
    resamples: int = 1000,
    seed: int = 0,
) -> RolloutResult:
    """Model roll-out errors and the latent baselines that live in this model's space."""
    tub, c, w = model.tubelet, context_steps, model.window_steps
    if not 1 <= c < w:
        raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
    _check_length(clips, tub, rollout_steps(w, horizons))
    labels = step_labels(clips, tub)["position"]
    window = c if window is None else window
    ks = np.asarray(horizons)
    starts = [int(k) - 1 for k in ks]  # step C - 1 + k sits at position C of window k - 1
    encode = sorted(set(starts) | {0})
    pos_err, latent_err, copy_latent, mean_latent = [], [], [], []
    for i in range(0, len(clips), batch_size):
        video = clips.video[i : i + batch_size]
        forecast = model.rollout(video[:, : c * tub], int(ks.max()), window)[:, ks - 1]
        per_batch = max(1, batch_size // len(encode))  # windows are encoded together
        windows = torch.cat(
            [
                model.window_targets(video[j : j + per_batch], encode)
                for j in range(0, len(video), per_batch)
            ]
        )
        future = windows[:, [encode.index(s) for s in starts], c]  # (b, H, N, D)
        last = windows[:, [encode.index(0)], c - 1]  # (b, 1, N, D): last context step
        latent_err.append((forecast - future).abs().mean(dim=(2, 3)).numpy())
        copy_latent.append((last - future).abs().mean(dim=(2, 3)).numpy())
        mean_latent.append((token_mean - future).abs().mean(dim=(2, 3)).numpy())
        b, h = forecast.shape[:2]
        pos = readout.predict(forecast.flatten(2).reshape(b * h, -1)).reshape(b, h, 2)
        true_pos = labels[i : i + b, c - 1 + ks]
        pos_err.append(np.linalg.norm(pos - true_pos, axis=-1))
    per_clip = {
        "position_px": np.concatenate(pos_err),
        "latent_err": np.concatenate(latent_err),
        "copy_last/latent_err": np.concatenate(copy_latent),
        "mean/latent_err": np.concatenate(mean_latent),
    }
    metrics: dict[str, float] = {}
    for name in ("position_px", "latent_err"):
        metrics.update(_summarise(per_clip[name], name, horizons, resamples, seed))
    for name in ("copy_last/latent_err", "mean/latent_err"):
        metrics.update(_summarise(per_clip[name], name, horizons, resamples, seed))
    return RolloutResult(metrics=metrics, per_clip=per_clip)


def rollout_baselines(
    clips: BallClips,
    tubelet: int,
    context_steps: int,
    position_mean: np.ndarray,
    horizons: tuple[int, ...] = (1, 2, 4, 8, 16),
    resamples: int = 1000,
    seed: int = 0,
) -> RolloutResult:
    """Position baselines from true state: copy_last, constant_velocity, mean (px per k)."""
    c = context_steps
    _check_length(clips, tubelet, c + max(horizons))
    labels = step_labels(clips, tubelet)
    pos = labels["position"]
    size = clips.video.shape[-1]
    k = np.asarray(horizons, dtype=np.float64)
    true_pos = pos[:, c - 1 + np.asarray(horizons)]  # (B, H, 2)
    last = pos[:, c - 1][:, None]  # (B, 1, 2)
    if c >= 2:
        step = (pos[:, c - 1] - pos[:, c - 2])[:, None]
    else:  # one context step: its observable velocity, scaled to one time step
        step = labels["velocity"][:, 0][:, None] * tubelet
    guesses = {
        "copy_last": np.broadcast_to(last, true_pos.shape),
        "constant_velocity": np.clip(last + k[None, :, None] * step, 0.0, float(size)),
        "mean": np.broadcast_to(np.asarray(position_mean, dtype=np.float64), true_pos.shape),
    }
    per_clip = {
        f"{name}/position_px": np.linalg.norm(guess - true_pos, axis=-1)
        for name, guess in guesses.items()
    }
    metrics: dict[str, float] = {}
    for name, errors in per_clip.items():
        metrics.update(_summarise(errors, name, horizons, resamples, seed))
    return RolloutResult(metrics=metrics, per_clip=per_clip)

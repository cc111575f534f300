"""Roll-out probe: forecast with the predictor alone, read the forecast with the frame probe.

From ``C`` context time steps (``C * tubelet`` frames, encoded by the context encoder) the
predictor rolls forward ``max(horizons)`` steps with no further frames: each call forecasts the
next ``chunk`` steps jointly from the last ``window`` steps of context and earlier forecasts, and
its forecasts are fed back (``chunk = 1``: one step per call). At each horizon ``k`` the per-patch
position read-out of the state probe (fit on layer-normed target tokens, the space the predictor
forecasts in) is applied to the forecast tokens.

Reported per k (means over test clips, 95 % bootstrap intervals over clips):

- ``position_px@k``: distance between the read-out of the forecast and the true position of
  time step ``C - 1 + k``; baselines ``copy_last`` (the true position at the last context step),
  ``constant_velocity`` (true last position plus k times the last true step displacement,
  clamped to the frame; it cannot foresee bounces or gravity) and ``mean`` (the training mean
  position);
- ``latent_err@k``: L1 (mean absolute difference over tokens and dims) between the forecast and
  the true future layer-normed target tokens; baselines ``copy_last`` (the true tokens of the last
  context step) and ``mean`` (the mean training token of each patch).

True future tokens. A target token depends on the window the target encoder saw it in (temporal
attention, position embeddings), so each forecast is compared with the token it was asked for:
the call that forecast step ``C - 1 + k`` held ``w`` steps (context and forecasts) at window
positions ``0 .. w - 1`` and put that step at position ``w + o`` (``o`` its place in the chunk),
so its truth is the target encoder's token at position ``w + o`` of the training-length window
of real frames that starts ``w + o`` steps before it: exactly a training target. With
``chunk = 1`` every truth sits at position ``C`` (a horizon-1 target). The copy-last tokens are
those of step ``C - 1`` in the first window. :func:`rollout_steps` gives the clip length that
fits every such window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.metrics import bootstrap_ci
from jepa_world.evaluation.physics.clips import BallClips, step_labels
from jepa_world.evaluation.physics.model import ProbeModel
from jepa_world.evaluation.ridge import RidgeReadout

__all__ = [
    "RolloutResult",
    "rollout_baselines",
    "rollout_steps",
    "run_rollout_probe",
    "truth_slots",
]


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


def truth_slots(
    context_steps: int,
    horizons: tuple[int, ...],
    window: int | None = None,
    chunk: int = 1,
) -> list[tuple[int, int]]:
    """``(window start, position)`` of each horizon's true token (see the module docstring).

    Mirrors ``Predictor.rollout``: call ``j`` forecasts steps ``j * chunk ..`` after the context
    from the last ``w = min(window, C + j * chunk)`` steps of the sequence.
    """
    c = context_steps
    window = c if window is None else window
    slots = []
    for k in horizons:
        j, o = divmod(int(k) - 1, chunk)
        w = min(window, c + j * chunk)
        step = c - 1 + int(k)  # absolute time step of the forecast
        slots.append((step - (w + o), w + o))
    return slots


def rollout_steps(
    window_steps: int,
    horizons: tuple[int, ...],
    context_steps: int = 1,
    window: int | None = None,
    chunk: int = 1,
) -> int:
    """Clip length in time steps that the roll-out probe needs (see the module docstring).

    With one step per call and window = context it is ``max(horizons) - 1 + W`` for any context.
    """
    starts = [s for s, _ in truth_slots(context_steps, horizons, window, chunk)]
    return max(max(starts), 0) + window_steps


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
    chunk: int = 1,
) -> RolloutResult:
    """Model roll-out errors and the latent baselines that live in this model's space."""
    tub, c, w = model.tubelet, context_steps, model.window_steps
    if not 1 <= c < w:
        raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
    window = c if window is None else window
    if window + chunk > w:
        raise ValueError(
            f"window={window} + chunk={chunk} forecasts past the {w}-step training window"
        )
    slots = truth_slots(c, horizons, window, chunk)
    _check_length(clips, tub, rollout_steps(w, horizons, c, window, chunk))
    labels = step_labels(clips, tub)["position"]
    ks = np.asarray(horizons)
    starts = [s for s, _ in slots]
    encode = sorted(set(starts) | {0})
    pos_err, latent_err, copy_latent, mean_latent = [], [], [], []
    for i in range(0, len(clips), batch_size):
        video = clips.video[i : i + batch_size]
        forecast = model.rollout(video[:, : c * tub], int(ks.max()), window, chunk)[:, ks - 1]
        per_batch = max(1, batch_size // len(encode))  # windows are encoded together
        windows = torch.cat(
            [
                model.window_targets(video[j : j + per_batch], encode)
                for j in range(0, len(video), per_batch)
            ]
        )
        future = torch.stack(
            [windows[:, encode.index(s), p] for s, p in slots], dim=1
        )  # (b, H, N, D)
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

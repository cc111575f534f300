"""Violation-of-expectation surprise (docs/protocols.md) and its metrics.

Model surprise, ``context="fixed"``. A clip of T' time steps is cut into windows of the model's
training length W (stride ``stride`` steps; by default W - C, so that each step is forecast
once). In each window the context encoder sees the first C steps and the predictor forecasts the
remaining W - C steps, exactly as in training; the target is the layer-normed target-encoder
tokens of the whole window. ``context="growing"`` (models trained with the causal objective):
every step t >= C is forecast one step ahead from all of its past (up to W - 1 steps), so what
the model saw before an occlusion still shapes its forecast after it. The error of one
forecast token is the L1 distance (mean absolute difference over the D dims); tokens are reduced
per step by their mean or by the mean of the ``topk`` largest (a localised statistic). The
surprise of time step t is the mean over every window that forecasts t (at the chosen horizons).
Steps no window forecasts (the first C) carry no surprise.

Clip score. Additive over time steps: the sum (or mean) of per-step surprise over the forecast
steps. Never a max over time: a max is not additive and breaks the matching of quadruplets.
Because every clip of a set has the same forecast steps, frames before the first splice cancel
within a quadruplet and ``sum`` and ``mean`` rank clips identically.

Single-clip score for AUROC (``auroc_score``): ``sum``/``mean`` (the clip score), ``max`` (the
largest per-step surprise) or ``peak`` (max minus median over steps: a spike over the clip's own
level). Pixel novelty is always reported under the same score beside it.

Pixel novelty (the baseline that must tie on matched quadruplets): a copy-last-frame predictor in
pixel space; the surprise of frame f is the sum of |x_f - x_(f-1)| over pixels and channels (or,
with ``topk``, over the ``topk`` patches of the model's patch size with the largest sums), kept as
exact integers so that matched quadruplets tie exactly. Its clip score sums frames from the first
frame the model forecasts (``C * tubelet``) on.

Latent copy-last (``copy_last``): the same windows, with the forecast replaced by the last context
step's target tokens.

Field-standard metrics (Garrido et al. 2025; IntPhys 2's evaluator), beside the ones above:

- filtered surprise (:func:`filtered_trace`): the surprise of each step is the minimum, over
  several context lengths C, of the fixed-window surprise with C context steps (over the lengths
  whose windows forecast that step). It is still a per-step series, so its sum is additive and
  ``relative_acc_filtered`` keeps the matching of quadruplets; pixel novelty, the same at every
  C, still ties.
- absolute accuracy (:func:`abs_threshold`, :func:`abs_outcomes`): one clip on its own is called
  impossible when its max per-step surprise exceeds a threshold, the ``percentile``-th percentile
  of the max surprise of possible clips from calibration seeds of their own (never the scored
  clips). Scored clips are half possible, half impossible, so chance is 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.metrics import (
    auroc,
    bootstrap_ci,
    pairwise_outcomes,
    quad_outcomes,
    wilson_interval,
)
from jepa_world.evaluation.physics.model import ProbeModel

__all__ = [
    "SurpriseSettings",
    "SurpriseTrace",
    "abs_outcomes",
    "abs_threshold",
    "clip_scores",
    "field_metrics",
    "filtered_trace",
    "length_surprise",
    "model_surprise",
    "pair_metrics",
    "pixel_surprise",
    "quad_metrics",
    "reduce_tokens",
    "single_clip_scores",
]


@dataclass(frozen=True)
class SurpriseSettings:
    """How surprise is computed (recorded in the report's protocol)."""

    context_steps: int
    stride: int | None = None  # None: window - context_steps (each step forecast once)
    horizons: tuple[int, ...] | None = None
    token_reduction: str = "mean"
    topk: int = 4
    clip_score: str = "sum"
    auroc_score: str = "max"
    context: str = "fixed"

    def __post_init__(self) -> None:
        if self.context not in ("fixed", "growing"):
            raise ValueError(f"context={self.context!r}: choose 'fixed' or 'growing'")
        if self.token_reduction not in ("mean", "topk"):
            raise ValueError(f"token_reduction={self.token_reduction!r}: choose 'mean' or 'topk'")
        if self.clip_score not in ("sum", "mean"):
            raise ValueError(
                f"clip_score={self.clip_score!r}: choose 'sum' or 'mean' (additive over frames; "
                "a max over frames breaks the matching)"
            )
        if self.auroc_score not in ("sum", "mean", "max", "peak"):
            raise ValueError(f"auroc_score={self.auroc_score!r}: choose sum, mean, max or peak")
        if (self.stride is not None and self.stride < 1) or self.topk < 1:
            raise ValueError("stride and topk must be >= 1")
        if self.context_steps < 1:
            raise ValueError(f"context_steps={self.context_steps} must be >= 1")


@dataclass
class SurpriseTrace:
    """Per-step surprise ``(B, S)`` and which steps carry a forecast ``(S,)``."""

    values: np.ndarray
    valid: np.ndarray
    step_frames: int  # frames per step (tubelet for models, 1 for pixel novelty)


def reduce_tokens(err: Tensor, how: str, topk: int) -> Tensor:
    """Reduce per-token errors ``(..., N)`` to ``(...)``: mean, or mean of the top-k."""
    if how == "mean":
        return err.mean(-1)
    k = min(topk, err.shape[-1])
    return err.topk(k, dim=-1).values.mean(-1)


def _window_starts(steps: int, window: int, stride: int) -> list[int]:
    starts = list(range(0, steps - window + 1, stride))
    if starts[-1] != steps - window:
        starts.append(steps - window)  # the last steps are forecast too
    return starts


@torch.inference_mode()
def model_surprise(
    model: ProbeModel, video: np.ndarray, settings: SurpriseSettings, batch_size: int = 32
) -> tuple[SurpriseTrace, SurpriseTrace]:
    """Per-step surprise of ``video`` (B, T, C, H, W): (model forecast, latent copy-last)."""
    if settings.context == "growing":
        return _growing_surprise(model, video, settings, batch_size)
    tub, c = model.tubelet, settings.context_steps
    steps = video.shape[1] // tub
    window = min(model.window_steps, steps)
    if not 1 <= c < window:
        raise ValueError(
            f"context_steps={c} is out of range: allowed [1, {window - 1}] for clips of "
            f"{steps} steps and a model window of {model.window_steps} steps"
        )
    horizons = settings.horizons or tuple(range(1, window - c + 1))
    if max(horizons) > window - c:
        raise ValueError(
            f"horizons={list(horizons)} exceed the {window - c} steps a window forecasts "
            f"(window {window}, context {c})"
        )
    h_index = torch.as_tensor([h - 1 for h in horizons])
    starts = _window_starts(steps, window, settings.stride or window - c)
    # a step's surprise averages the windows that forecast it: fixed weights per step
    count = np.zeros(steps)
    for s in starts:
        count[s + c + h_index.numpy()] += 1
    valid = count > 0
    total = np.zeros((len(video), steps))
    copy_total = np.zeros((len(video), steps))
    clips_per_batch = max(1, batch_size // len(starts))
    frames = window * tub
    for i in range(0, len(video), clips_per_batch):
        chunk = video[i : i + clips_per_batch]
        windows = np.stack([chunk[:, s * tub : s * tub + frames] for s in starts], axis=1)
        b, nw = windows.shape[:2]
        pred, target = model.forecast_windows(windows.reshape(b * nw, *windows.shape[2:]), c)
        future = target[:, c:]
        err = reduce_tokens((pred - future).abs().mean(-1), settings.token_reduction, settings.topk)
        copy = reduce_tokens(
            (target[:, c - 1 : c] - future).abs().mean(-1), settings.token_reduction, settings.topk
        )
        err = err[:, h_index].reshape(b, nw, -1).double().numpy()
        copy = copy[:, h_index].reshape(b, nw, -1).double().numpy()
        for j, s in enumerate(starts):
            cols = s + c + h_index.numpy()
            total[i : i + b, cols] += err[:, j]
            copy_total[i : i + b, cols] += copy[:, j]
    norm = np.where(valid, count, 1.0)
    return (
        SurpriseTrace(total / norm, valid, tub),
        SurpriseTrace(copy_total / norm, valid, tub),
    )


@torch.inference_mode()
def length_surprise(
    model: ProbeModel,
    video: np.ndarray,
    lengths: tuple[int, ...],
    settings: SurpriseSettings,
    batch_size: int = 32,
) -> list[tuple[SurpriseTrace, SurpriseTrace]]:
    """Fixed-window surprise at each context length C of ``lengths``: (model, copy-last) each.

    As ``context="fixed"`` with ``context_steps=C``, every horizon and the default stride
    (window - C), whatever ``settings.context``, ``stride`` and ``horizons`` say (token reduction
    is ``settings``'). Windows shared by several lengths are encoded once when the model offers
    ``forecast_windows_lengths(windows, lengths)`` (targets once, a forecast per length).
    """
    tub = model.tubelet
    steps = video.shape[1] // tub
    window = min(model.window_steps, steps)
    for c in lengths:
        if not 1 <= c < window:
            raise ValueError(
                f"context length {c} is out of range: allowed [1, {window - 1}] for clips of "
                f"{steps} steps and a model window of {model.window_steps} steps"
            )
    starts = {c: _window_starts(steps, window, window - c) for c in lengths}
    union = sorted(set().union(*starts.values()))
    count = {c: np.zeros(steps) for c in lengths}
    for c in lengths:
        for s in starts[c]:
            count[c][s + c : s + window] += 1
    total = {c: np.zeros((len(video), steps)) for c in lengths}
    copy_total = {c: np.zeros((len(video), steps)) for c in lengths}
    how, k = settings.token_reduction, settings.topk
    clips_per_batch = max(1, batch_size // len(union))
    frames = window * tub
    for i in range(0, len(video), clips_per_batch):
        chunk = video[i : i + clips_per_batch]
        windows = np.stack([chunk[:, s * tub : s * tub + frames] for s in union], axis=1)
        b, nw = windows.shape[:2]
        preds, target = _forecast_lengths(
            model, windows.reshape(b * nw, *windows.shape[2:]), lengths
        )
        for c in lengths:
            future = target[:, c:]
            err = reduce_tokens((preds[c] - future).abs().mean(-1), how, k)
            copy = reduce_tokens((target[:, c - 1 : c] - future).abs().mean(-1), how, k)
            err = err.reshape(b, nw, -1).double().numpy()
            copy = copy.reshape(b, nw, -1).double().numpy()
            for j, s in enumerate(union):
                if s in starts[c]:
                    total[c][i : i + b, s + c : s + window] += err[:, j]
                    copy_total[c][i : i + b, s + c : s + window] += copy[:, j]
    out = []
    for c in lengths:
        valid = count[c] > 0
        norm = np.where(valid, count[c], 1.0)
        out.append(
            (
                SurpriseTrace(total[c] / norm, valid, tub),
                SurpriseTrace(copy_total[c] / norm, valid, tub),
            )
        )
    return out


def _forecast_lengths(
    model: ProbeModel, windows: np.ndarray, lengths: tuple[int, ...]
) -> tuple[dict[int, Tensor], Tensor]:
    """Forecasts of each window from each context length, and the windows' targets."""
    many = getattr(model, "forecast_windows_lengths", None)
    if many is not None:
        return many(windows, lengths)
    preds: dict[int, Tensor] = {}
    target = None
    for c in lengths:
        preds[c], target = model.forecast_windows(windows, c)
    return preds, target


def _growing_surprise(
    model: ProbeModel, video: np.ndarray, settings: SurpriseSettings, batch_size: int
) -> tuple[SurpriseTrace, SurpriseTrace]:
    """Surprise of each step t >= C at its one-step forecast from every earlier step."""
    steps = video.shape[1] // model.tubelet
    c = settings.context_steps
    if not 1 <= c < steps:
        raise ValueError(
            f"context_steps={c} is out of range: allowed [1, {steps - 1}] for clips of {steps} "
            "steps"
        )
    if settings.horizons not in (None, (1,)):
        raise ValueError(
            f"horizons={list(settings.horizons)}: a growing context forecasts one step ahead"
        )
    how, k = settings.token_reduction, settings.topk
    values, copies = [], []
    for i in range(0, len(video), batch_size):
        pred, target = model.next_step_forecasts(video[i : i + batch_size])
        err = reduce_tokens((pred[:, 1:] - target[:, 1:]).abs().mean(-1), how, k)
        copy = reduce_tokens((target[:, :-1] - target[:, 1:]).abs().mean(-1), how, k)
        values.append(torch.nn.functional.pad(err, (1, 0)))
        copies.append(torch.nn.functional.pad(copy, (1, 0)))
    valid = np.arange(steps) >= c
    total = torch.cat(values).double().numpy()
    copy_total = torch.cat(copies).double().numpy()
    return (
        SurpriseTrace(np.where(valid, total, 0.0), valid, model.tubelet),
        SurpriseTrace(np.where(valid, copy_total, 0.0), valid, model.tubelet),
    )


def pixel_surprise(
    video: np.ndarray,
    first_frame: int,
    token_reduction: str = "mean",
    topk: int = 4,
    patch: int = 8,
) -> SurpriseTrace:
    """Copy-last-frame pixel novelty per frame, exact integers (as float64 < 2**53)."""
    if video.dtype != np.uint8:
        raise TypeError(f"pixel novelty needs uint8 video, got {video.dtype}")
    b, t, c, h, w = video.shape
    values = np.zeros((b, t), dtype=np.int64)
    for f in range(1, t):
        diff = np.abs(video[:, f].astype(np.int16) - video[:, f - 1].astype(np.int16))
        if token_reduction == "mean":
            values[:, f] = diff.reshape(b, -1).sum(1, dtype=np.int64)
        else:
            hp, wp = h // patch, w // patch
            cells = diff[:, :, : hp * patch, : wp * patch].reshape(b, c, hp, patch, wp, patch)
            per_patch = cells.sum(axis=(1, 3, 5), dtype=np.int64).reshape(b, -1)
            k = min(topk, per_patch.shape[1])
            values[:, f] = np.sort(per_patch, axis=1)[:, -k:].sum(1)
    valid = np.arange(t) >= max(1, first_frame)
    return SurpriseTrace(np.where(valid, values, 0).astype(np.float64), valid, 1)


def clip_scores(trace: SurpriseTrace, kind: str = "sum") -> np.ndarray:
    """Additive clip score over the forecast steps: ``sum`` or ``mean``."""
    total = trace.values[..., trace.valid].sum(-1)
    if kind == "sum":
        return total
    if kind == "mean":
        return total / max(1, int(trace.valid.sum()))
    raise ValueError(f"clip score {kind!r} is not additive: choose 'sum' or 'mean'")


def single_clip_scores(trace: SurpriseTrace, kind: str) -> np.ndarray:
    """Per-clip score for AUROC: ``sum``, ``mean``, ``max`` or ``peak`` (max - median)."""
    if kind in ("sum", "mean"):
        return clip_scores(trace, kind)
    steps = trace.values[..., trace.valid]
    if kind == "max":
        return steps.max(-1)
    if kind == "peak":
        return steps.max(-1) - np.median(steps, axis=-1)
    raise ValueError(f"auroc score {kind!r}: choose sum, mean, max or peak")


def quad_metrics(
    trace: SurpriseTrace,
    possible: np.ndarray,
    settings: SurpriseSettings,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[dict[str, float], np.ndarray]:
    """Relative accuracy (Wilson interval) and clip AUROC (bootstrap over quadruplets).

    ``trace.values`` is (Q, 4, S). The relative accuracy always compares sums: every clip has
    the same forecast steps, so sum and mean rank alike and exact ties stay exact.
    Returns the metrics and the per-quadruplet outcomes (1, 0.5, 0).
    """
    possible = np.asarray(possible, dtype=bool)
    outcomes = quad_outcomes(clip_scores(trace, "sum"), possible)
    q = len(outcomes)
    metrics = {"relative_acc": float(outcomes.mean())}
    metrics["relative_acc_ci_low"], metrics["relative_acc_ci_high"] = wilson_interval(
        float(outcomes.sum()), q
    )
    single = single_clip_scores(trace, settings.auroc_score)  # (Q, 4)
    labels = np.broadcast_to(~possible, single.shape)

    def stat(idx: np.ndarray) -> float:
        return auroc(single[idx].ravel(), labels[idx].ravel())

    metrics["auroc"] = stat(np.arange(q))
    metrics["auroc_ci_low"], metrics["auroc_ci_high"] = bootstrap_ci(stat, q, resamples, seed)
    return metrics, outcomes


def pair_metrics(trace: SurpriseTrace) -> np.ndarray:
    """Per-pair outcomes; ``trace.values`` is (Q, 2, S) ordered [possible, impossible]."""
    scores = clip_scores(trace, "sum")
    return pairwise_outcomes(scores[:, 0], scores[:, 1])


def filtered_trace(traces: list[SurpriseTrace]) -> SurpriseTrace:
    """Per-step minimum over ``traces`` (one per context length) of the steps each forecasts.

    A step counts when at least one trace forecasts it; steps none forecasts carry 0 and no
    forecast. All traces must cover the same clips and steps.
    """
    if not traces:
        raise ValueError("filtered_trace needs at least one trace")
    shape, frames = traces[0].values.shape, traces[0].step_frames
    if any(t.values.shape != shape or t.step_frames != frames for t in traces):
        raise ValueError("filtered_trace: traces differ in shape or frames per step")
    stacked = np.stack([np.where(t.valid, t.values, np.inf) for t in traces])
    valid = np.any([t.valid for t in traces], axis=0)
    values = np.where(valid, stacked.min(0), 0.0)
    return SurpriseTrace(values, valid, frames)


def abs_threshold(trace: SurpriseTrace, percentile: float = 90.0) -> float:
    """The ``percentile``-th percentile (linear interpolation) of the max per-step surprise of
    the calibration clips in ``trace`` (possible clips only: pass only those)."""
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile={percentile} is out of range: allowed [0, 100]")
    scores = single_clip_scores(trace, "max").ravel()
    if len(scores) == 0:
        raise ValueError("abs_threshold needs at least one calibration clip")
    return float(np.percentile(scores, percentile))


def abs_outcomes(scores: np.ndarray, possible: np.ndarray, threshold: float) -> np.ndarray:
    """Per clip 1.0 when it is classified right on its own: impossible and ``score > threshold``,
    or possible and ``score <= threshold``. ``scores`` (Q, M) max surprise, ``possible`` (M,)."""
    scores = np.asarray(scores, dtype=np.float64)
    flagged = scores > threshold
    return (flagged == ~np.asarray(possible, dtype=bool)).astype(np.float64)


def field_metrics(
    trace: SurpriseTrace,
    possible: np.ndarray,
    settings: SurpriseSettings,
    filtered: SurpriseTrace | None = None,
    thresholds: tuple[float, float] | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[dict[str, float], np.ndarray | None]:
    """The field-standard keys of one property (values ``(Q, 4, S)``; see the module docstring).

    ``filtered``: the filtered trace of the same clips -> ``relative_acc_filtered`` (additive
    sum, Wilson interval) and ``auroc_filtered`` (on ``settings.auroc_score``). ``thresholds``
    (plain, filtered) from :func:`abs_threshold` -> ``abs_acc`` on ``trace`` and
    ``abs_acc_filtered`` on ``filtered``; AUROC and abs_acc intervals bootstrap quadruplets.
    Returns the metrics and the per-quadruplet outcomes of ``relative_acc_filtered`` (None
    without ``filtered``).
    """
    possible = np.asarray(possible, dtype=bool)
    q = trace.values.shape[0]
    labels = np.broadcast_to(~possible, trace.values.shape[:2])
    metrics: dict[str, float] = {}
    outcomes = None

    def bootstrapped(key: str, stat) -> None:
        metrics[key] = stat(np.arange(q))
        metrics[f"{key}_ci_low"], metrics[f"{key}_ci_high"] = bootstrap_ci(stat, q, resamples, seed)

    if filtered is not None:
        outcomes = quad_outcomes(clip_scores(filtered, "sum"), possible)
        metrics["relative_acc_filtered"] = float(outcomes.mean())
        low, high = wilson_interval(float(outcomes.sum()), q)
        metrics["relative_acc_filtered_ci_low"], metrics["relative_acc_filtered_ci_high"] = (
            low,
            high,
        )
        single = single_clip_scores(filtered, settings.auroc_score)
        bootstrapped("auroc_filtered", lambda idx: auroc(single[idx].ravel(), labels[idx].ravel()))
    if thresholds is not None:
        plain = abs_outcomes(single_clip_scores(trace, "max"), possible, thresholds[0])
        bootstrapped("abs_acc", lambda idx: float(plain[idx].mean()))
        if filtered is not None:
            filt = abs_outcomes(single_clip_scores(filtered, "max"), possible, thresholds[1])
            bootstrapped("abs_acc_filtered", lambda idx: float(filt[idx].mean()))
    return metrics, outcomes

"""State probe: linear (ridge) read-outs of ball position, velocity and visibility.

Position from per-patch tokens is a sanity check (raw pixels already reach R^2 ~ 0.98); the
read-outs that trivial features fail are position from the pooled embedding and velocity from a
short clip. Read-outs per representation (``tokens`` = (B, T', N, D) for clips of T frames):

- ``position_r2`` / ``position_px``: all N tokens of a time step, concatenated ("per-patch");
- ``position_pooled_r2``: the mean over the N tokens;
- ``velocity_r2``: the pooled features of a short clip. With tubelets (>= 2 frames per token) a
  time step's token already sees two frames; with ``tubelet = 1`` the feature is
  ``[f(t), f(t) - f(t - 1)]``. ``velocity_patch_r2`` is the same from per-patch features;
- ``velocity_diff_r2``: ``[f(t), f(t) - f(t - 1)]`` of pooled features for every tubelet size
  (two consecutive time steps: 2 x tubelet frames); equal to ``velocity_r2`` when ``tubelet = 1``;
- ``visible_r2``: the ball's visible fraction from per-patch features.

Ridge alpha is chosen on the validation clips; train, validation and test clips come from
disjoint seeds; R^2 and px intervals are 95 % percentile bootstraps over test clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.metrics import bootstrap_ci, r2_score
from jepa_world.evaluation.physics.clips import BallClips, step_labels
from jepa_world.evaluation.ridge import RidgeReadout, fit_ridge

__all__ = [
    "StateProbeResult",
    "encode_clips",
    "mean_state_baseline",
    "position_error_px",
    "run_state_probe",
    "state_features",
]

Encoder = Callable[[np.ndarray], Tensor]


def encode_clips(encode: Encoder, video: np.ndarray, batch_size: int) -> Tensor:
    """Run ``encode`` over ``video`` in batches and concatenate: tokens (B, T', N, D) float32."""
    parts = [encode(video[i : i + batch_size]) for i in range(0, len(video), batch_size)]
    return torch.cat(parts).float()


def state_features(tokens: Tensor, tubelet: int) -> dict[str, Tensor]:
    """Feature sets (B, T'', F) of a clip's tokens, with the step offset of each set.

    ``patch`` and ``pooled`` cover every time step; ``motion`` and ``motion_patch`` start at step 1
    when ``tubelet == 1`` (they need the previous frame), ``motion_diff`` always does.
    """
    patch = tokens.flatten(2)
    pooled = tokens.mean(2)
    if tubelet > 1:
        diff = torch.cat([pooled[:, 1:], pooled[:, 1:] - pooled[:, :-1]], dim=-1)
        return {
            "patch": patch,
            "pooled": pooled,
            "motion": pooled,
            "motion_patch": patch,
            "motion_diff": diff,
        }
    return {
        "patch": patch,
        "pooled": pooled,
        "motion": torch.cat([pooled[:, 1:], pooled[:, 1:] - pooled[:, :-1]], dim=-1),
        "motion_patch": torch.cat([patch[:, 1:], patch[:, 1:] - patch[:, :-1]], dim=-1),
    }


def position_error_px(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean Euclidean distance in px between predicted and true (x, y) positions."""
    pred, target = np.asarray(pred), np.asarray(target)
    return float(np.linalg.norm(pred.reshape(-1, 2) - target.reshape(-1, 2), axis=-1).mean())


@dataclass
class _Readout:
    """One read-out task: which features, which labels, which metric names."""

    features: str
    label: str
    key: str
    px_key: str | None = None


READOUTS = (
    _Readout("patch", "position", "position_r2", "position_px"),
    _Readout("pooled", "position", "position_pooled_r2", "position_pooled_px"),
    _Readout("motion", "velocity", "velocity_r2"),
    _Readout("motion_patch", "velocity", "velocity_patch_r2"),
    _Readout("motion_diff", "velocity", "velocity_diff_r2"),
    _Readout("patch", "visible", "visible_r2"),
)


@dataclass
class StateProbeResult:
    """Metrics (flat, without the ``state/`` prefix) plus what the roll-out probe reuses."""

    metrics: dict[str, float]
    position_readout: RidgeReadout  # per-patch tokens -> position: the roll-out's frame probe
    token_mean: Tensor  # (N, D) mean training token per patch (the roll-out's mean baseline)
    notes: dict[str, object] = field(default_factory=dict)


def _labels(clips: BallClips, tubelet: int, label: str, offset: int) -> np.ndarray:
    y = step_labels(clips, tubelet)[label][:, offset:]
    return y if y.ndim == 3 else y[..., None]


def _flat(x: Tensor | np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(-1, x.shape[-1])


def _with_intervals(
    metrics: dict[str, float],
    key: str,
    stat: Callable[[np.ndarray], float],
    n: int,
    resamples: int,
    seed: int,
) -> None:
    metrics[key] = stat(np.arange(n))
    metrics[f"{key}_ci_low"], metrics[f"{key}_ci_high"] = bootstrap_ci(stat, n, resamples, seed)


def _score(
    metrics: dict[str, float],
    task: _Readout,
    pred: np.ndarray,
    truth: np.ndarray,
    resamples: int,
    seed: int,
) -> None:
    """R^2 (and px error for position) of one read-out, with bootstrap intervals over clips."""
    n = len(truth)
    _with_intervals(
        metrics, task.key, lambda i: r2_score(_flat(pred[i]), _flat(truth[i])), n, resamples, seed
    )
    if task.px_key is not None:
        _with_intervals(
            metrics, task.px_key, lambda i: position_error_px(pred[i], truth[i]), n, resamples, seed
        )


def _start(features: str, tubelet: int) -> int:
    """First time step a feature set covers: 1 where it needs the previous step, else 0."""
    if features == "motion_diff" or (features.startswith("motion") and tubelet == 1):
        return 1
    return 0


def _tasks_by_features(tubelet: int) -> dict[str, list[_Readout]]:
    """Group read-outs whose features are the same tensor, so each group costs one fit."""
    same = (
        {"motion": "pooled", "motion_patch": "patch"} if tubelet > 1 else {"motion_diff": "motion"}
    )
    groups: dict[str, list[_Readout]] = {}
    for task in READOUTS:
        groups.setdefault(same.get(task.features, task.features), []).append(task)
    return groups


def run_state_probe(
    encode: Encoder,
    splits: dict[str, BallClips],
    tubelet: int,
    batch_size: int = 32,
    resamples: int = 1000,
    seed: int = 0,
) -> StateProbeResult:
    """Fit every read-out on ``splits["train"]``, choose alpha on ``val``, score on ``test``.

    Ridge picks alpha per output column, so read-outs that share features are fit together.
    """
    for split in ("train", "val", "test"):
        if split not in splits:
            raise ValueError(f"splits lacks {split!r}: need train, val and test clips")
    tokens = {s: encode_clips(encode, splits[s].video, batch_size) for s in splits}
    feats = {s: state_features(tokens[s], tubelet) for s in tokens}
    metrics: dict[str, float] = {}
    notes: dict[str, object] = {}
    position_readout: RidgeReadout | None = None
    for features, tasks in _tasks_by_features(tubelet).items():
        start = _start(features, tubelet)
        labels, kept = [], []
        for task in tasks:
            y = {s: _labels(splits[s], tubelet, task.label, start) for s in splits}
            if np.ptp(_flat(y["test"]), axis=0).max() <= 0:
                notes[task.key] = f"skipped: the test {task.label} is constant"
                continue
            labels.append(y)
            kept.append(task)
        if not kept:
            continue
        y_all = {s: np.concatenate([y[s] for y in labels], axis=-1) for s in splits}
        x = {s: _flat(feats[s][features]) for s in feats}
        readout = fit_ridge(x["train"], _flat(y_all["train"]), x["val"], _flat(y_all["val"]))
        pred_all = readout.predict(x["test"]).reshape(y_all["test"].shape)
        column = 0
        for task, y in zip(kept, labels, strict=True):
            width = y["test"].shape[-1]
            cols = slice(column, column + width)
            column += width
            pred, truth = pred_all[..., cols], y["test"]
            notes[f"{task.key}_relative_alpha"] = readout.relative_alpha[cols].tolist()
            if task.key == "position_r2":
                position_readout = _columns(readout, cols)

            _score(metrics, task, pred, truth, resamples, seed)
    if position_readout is None:
        raise ValueError("the test clips' positions are constant: cannot fit a position read-out")
    return StateProbeResult(
        metrics=metrics,
        position_readout=position_readout,
        token_mean=tokens["train"].mean(dim=(0, 1)),
        notes=notes,
    )


def _columns(readout: RidgeReadout, cols: slice) -> RidgeReadout:
    """The read-out restricted to some output columns."""
    return RidgeReadout(
        mean=readout.mean,
        scale=readout.scale,
        weight=readout.weight[:, cols],
        bias=readout.bias[cols],
        alpha=readout.alpha[cols],
        relative_alpha=readout.relative_alpha[cols],
    )


def mean_state_baseline(
    splits: dict[str, BallClips], tubelet: int, resamples: int = 1000, seed: int = 0
) -> dict[str, float]:
    """The constant predictor: every test step gets the training mean of its label."""
    metrics: dict[str, float] = {}
    for task in READOUTS:
        start = _start(task.features, tubelet)
        train = _labels(splits["train"], tubelet, task.label, start)
        truth = _labels(splits["test"], tubelet, task.label, start)
        pred = np.broadcast_to(_flat(train).mean(0), truth.shape)
        if np.ptp(_flat(truth), axis=0).max() <= 0:
            continue

        _score(metrics, task, pred, truth, resamples, seed)
    return metrics

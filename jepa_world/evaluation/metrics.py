"""Pure metric functions of the evaluation suites and training probes: accuracies, AUROC, R^2
and their intervals.

Everything here is a plain function of numpy arrays (no model, no torch), so each one can be
checked against values computed by hand. Ties are scored 0.5 everywhere: a score that cannot tell
two clips apart must land on chance, never on a lucky side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "QUAD_POSSIBLE",
    "auroc",
    "bootstrap_ci",
    "pairwise_accuracy",
    "pairwise_outcomes",
    "quad_outcomes",
    "r2_score",
    "relative_accuracy",
    "wilson_interval",
]

QUAD_POSSIBLE = (True, True, False, False)
"""Order of the clips in a matched quadruplet: A, B possible; C, D impossible."""


def _as_1d(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def quad_outcomes(
    scores: np.ndarray, possible: Sequence[bool] | np.ndarray = QUAD_POSSIBLE
) -> np.ndarray:
    """Per-quadruplet outcome: 1 when the impossible pair is more surprising, 0.5 on a tie.

    ``scores`` (Q, 4) are additive clip scores (higher = more surprising); ``possible`` (4,) marks
    the two possible clips. Quadruplet q is correct when S(C) + S(D) > S(A) + S(B).
    """
    scores = np.asarray(scores, dtype=np.float64)
    possible = np.asarray(possible, dtype=bool)
    if scores.ndim != 2 or scores.shape[1] != 4:
        raise ValueError(f"scores must be (Q, 4), got shape {scores.shape}")
    if possible.shape != (4,) or possible.sum() != 2:
        raise ValueError(f"possible must be 4 booleans with exactly two True, got {possible}")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or inf")
    impossible = scores[:, ~possible].sum(1)
    plausible = scores[:, possible].sum(1)
    return np.where(impossible > plausible, 1.0, np.where(impossible == plausible, 0.5, 0.0))


def relative_accuracy(
    scores: np.ndarray, possible: Sequence[bool] | np.ndarray = QUAD_POSSIBLE
) -> float:
    """Fraction of quadruplets whose impossible pair has the larger summed score (ties 0.5)."""
    return float(quad_outcomes(scores, possible).mean())


def pairwise_outcomes(possible_scores: np.ndarray, impossible_scores: np.ndarray) -> np.ndarray:
    """Per pair: 1 when the impossible clip is more surprising than its twin, 0.5 on a tie."""
    pos = _as_1d("possible_scores", possible_scores)
    imp = _as_1d("impossible_scores", impossible_scores)
    if pos.shape != imp.shape:
        raise ValueError(f"score arrays differ in length: {pos.shape} vs {imp.shape}")
    return np.where(imp > pos, 1.0, np.where(imp == pos, 0.5, 0.0))


def pairwise_accuracy(possible_scores: np.ndarray, impossible_scores: np.ndarray) -> float:
    """Fraction of matched pairs in which the impossible clip scores higher (ties 0.5)."""
    return float(pairwise_outcomes(possible_scores, impossible_scores).mean())


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve, exactly: P(score of a positive > score of a negative), ties 0.5.

    ``labels`` are booleans (True = positive, here: impossible clip). The Mann-Whitney count is
    computed with sorted negatives, so it is exact for any ties.
    """
    scores = _as_1d("scores", scores)
    labels = np.asarray(labels, dtype=bool)
    if labels.shape != scores.shape:
        raise ValueError(f"labels shape {labels.shape} differs from scores shape {scores.shape}")
    pos, neg = scores[labels], np.sort(scores[~labels])
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("auroc needs at least one positive and one negative label")
    below = np.searchsorted(neg, pos, side="left")
    not_above = np.searchsorted(neg, pos, side="right")
    wins = below.sum() + 0.5 * (not_above - below).sum()
    return float(wins / (len(pos) * len(neg)))


def r2_score(pred: np.ndarray, target: np.ndarray) -> float:
    """Coefficient of determination averaged over output columns (1 - SSE / SST per column).

    Columns whose target is constant have no variance to explain and are left out; when every
    column is constant the score is undefined and a ValueError says so.
    """
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"pred shape {pred.shape} differs from target shape {target.shape}")
    if pred.ndim == 1:
        pred, target = pred[:, None], target[:, None]
    if pred.ndim != 2 or len(pred) < 2:
        raise ValueError(f"r2_score needs (n >= 2, k) arrays, got shape {pred.shape}")
    sst = ((target - target.mean(0)) ** 2).sum(0)
    sse = ((target - pred) ** 2).sum(0)
    keep = sst > 1e-12 * max(1.0, float(np.abs(target).max()) ** 2)
    if not keep.any():
        raise ValueError("r2_score is undefined: the target is constant in every column")
    return float((1.0 - sse[keep] / sst[keep]).mean())


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % for z = 1.96).

    ``successes`` may be fractional (ties counted 0.5). Unlike the normal approximation it stays
    inside [0, 1] and is sensible at 0 % and 100 %.
    """
    if n <= 0:
        raise ValueError(f"n={n} must be > 0")
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} is out of range: allowed [0, n={n}]")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n: int,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(index)`` over ``n`` resampled units.

    ``statistic`` receives an index array (units drawn with replacement: clips, quadruplets) and
    returns the metric on that resample. Resamples on which the statistic is undefined (it raises
    ValueError, e.g. an AUROC without both labels) are skipped.
    """
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    if resamples < 1:
        raise ValueError(f"resamples={resamples} must be >= 1")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level} is out of range: allowed (0, 1)")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        try:
            values.append(statistic(rng.integers(0, n, size=n)))
        except ValueError:
            continue
    if not values:
        raise ValueError("bootstrap_ci: the statistic was undefined on every resample")
    tail = (1.0 - level) / 2
    low, high = np.quantile(np.asarray(values, dtype=np.float64), [tail, 1.0 - tail])
    return float(low), float(high)

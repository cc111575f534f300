"""The model protocol the probes talk to: frames in, features per time step out.

Any object with an ``info`` (:class:`ModelInfo`) and ``features(video)`` (:class:`Features`) can
be probed. Optional methods add probes: ``predict(context, steps)`` (a predictor: roll-out and
violation-of-expectation use it instead of a probe-fitted forecaster), ``encode(obs)`` /
``rollout(z0, actions)`` (a latent world model: planning), ``random_init(seed)`` (an untrained
twin of the same architecture: the ``random_init`` baseline). jepa-world's own exports are one
implementation (:class:`~jepa_world.evaluation.adapters.export.ExportAdapter`).

The protocol is structural (``typing.Protocol``): a user's class needs no base class.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from torch import Tensor

__all__ = [
    "Features",
    "ModelInfo",
    "Predicts",
    "RandomInit",
    "VideoFeatureModel",
    "check_features",
    "has_predictor",
]


@dataclass(frozen=True)
class ModelInfo:
    """What the probes need to know about a model, and what its report records.

    ``frames_per_step``: frames behind one feature time step (a video model's tubelet; 1 for
    per-frame image models). ``clip_frames``: frames the model encodes at once (its training
    clip); longer clips are encoded in windows of this length. ``input_size``: the (H, W) the
    model's frames are resized to, None when frames are passed at the size given.
    ``mean`` / ``std``: the normalisation applied after scaling to [0, 1]. ``mixes_time``: a
    step's features depend on other steps (attention across time). ``context_steps``: the
    context length the model's predictor was trained with (None: half the clip).
    ``preprocessing``: how the worlds' frames are brought to the model (stated in the report).
    ``random_init``: how the untrained twin is built, or why there is none. ``fixed_clip``: the
    model takes clips of exactly ``clip_frames`` frames (fixed position embeddings); shorter
    clips (a context) are padded by repeating their last frame, never with later frames.
    ``config``: the model's own configuration, recorded in the report.
    """

    name: str
    frames_per_step: int = 1
    clip_frames: int = 16
    input_size: tuple[int, int] | None = None
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    mixes_time: bool = False
    context_steps: int | None = None
    preprocessing: str = "none: frames at the size given"
    random_init: str = "not available"
    fixed_clip: bool = False
    config: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready copy (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


class Features(NamedTuple):
    """Features of a clip per time step: ``pooled`` (B, T', D), ``tokens`` (B, T', N, D) or None
    when the model has only a pooled vector per step."""

    pooled: Tensor
    tokens: Tensor | None = None

    def as_tokens(self) -> Tensor:
        """Tokens, or the pooled vector as one token per step ``(B, T', 1, D)``."""
        return self.tokens if self.tokens is not None else self.pooled.unsqueeze(2)


@runtime_checkable
class VideoFeatureModel(Protocol):
    """A model the probes can read: ``features(video)`` for video ``(B, T, C, H, W)``, uint8 or
    float in [0, 1], returns :class:`Features` with ``T' = T // info.frames_per_step`` steps."""

    info: ModelInfo

    def features(self, video: Tensor | np.ndarray) -> Features: ...


@runtime_checkable
class Predicts(Protocol):
    """A model with a predictor: from the tokens of ``C`` context steps ``(B, C, N, D)`` (as
    ``features`` gives them) forecast the next ``steps`` steps ``(B, steps, N, D)`` in the
    layer-normed feature space (the space JEPA predictors are trained to forecast in)."""

    def predict(self, context: Tensor, steps: int) -> Tensor: ...


@runtime_checkable
class RandomInit(Protocol):
    """A model that can build its untrained twin: same constructor, no weights, seeded."""

    def random_init(self, seed: int) -> VideoFeatureModel: ...


def has_predictor(model: Any) -> bool:
    """True when ``model`` implements :class:`Predicts` (and says it has a predictor)."""
    return isinstance(model, Predicts) and getattr(model, "has_predictor", True)


def check_features(features: Any, batch: int, steps: int, name: str) -> Features:
    """``features`` as :class:`Features`, or a one-line ValueError naming the model and shape."""
    if isinstance(features, Tensor):
        features = (
            Features(features.mean(2), features) if features.ndim == 4 else Features(features)
        )
    if not isinstance(features, Features):
        raise ValueError(f"{name}: features() must return Features, got {type(features).__name__}")
    pooled, tokens = features
    want = f"(B={batch}, T'={steps}, D)"
    if (
        not isinstance(pooled, Tensor)
        or pooled.ndim != 3
        or tuple(pooled.shape[:2])
        != (
            batch,
            steps,
        )
    ):
        shape = tuple(pooled.shape) if isinstance(pooled, Tensor) else type(pooled).__name__
        raise ValueError(f"{name}: pooled features have shape {shape}, expected {want}")
    if tokens is not None:
        ok = isinstance(tokens, Tensor) and tokens.ndim == 4
        if (
            not ok
            or tuple(tokens.shape[:2]) != (batch, steps)
            or tokens.shape[-1] != pooled.shape[-1]
        ):
            shape = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
            raise ValueError(
                f"{name}: token features have shape {shape}, expected (B={batch}, T'={steps}, N, "
                f"D={pooled.shape[-1]})"
            )
    return features

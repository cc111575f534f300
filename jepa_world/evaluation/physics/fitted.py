"""A probe model whose forecasts come from a forecaster fitted on its frozen features.

:class:`FittedModel` wraps a probe model (with or without a predictor of its own) and answers the
three forecasting calls the roll-out and VoE probes make (``forecast_windows``,
``next_step_forecasts``, ``rollout``) with a :class:`FittedForecaster`; everything else (the
features, the window, the tubelet) is the wrapped model's. :func:`fit_for_model` fits that
forecaster on the model's layer-normed features of training-world clips under a suite's
:class:`ForecasterBudget`.

Forecasts start from the features of the context frames encoded on their own, so an encoder
that attends across time never sees a frame after the context.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.evaluation.physics.forecaster import (
    FittedForecaster,
    ForecasterBudget,
    fit_forecaster,
)

__all__ = ["FittedModel", "fit_for_model", "forecaster_clips", "has_predictor"]


def has_predictor(model: Any) -> bool:
    """True when ``model`` brings a predictor of its own (else the probes fit a forecaster)."""
    return getattr(model, "predictor", None) is not None


def forecaster_clips(budget: ForecasterBudget, frames: int, size: int) -> np.ndarray:
    """The fitting clips: uint8 video (clips, frames, 3, size, size) of the budget's world."""
    from jepa_world.worlds import create_world

    params = {**budget.world_params, "frames": int(frames), "size": int(size)}
    try:
        world = create_world(budget.world, **params)
    except (TypeError, ValueError) as err:
        raise ValueError(f"forecaster.world_params: {err}") from err
    return world.generate(np.asarray(budget.seeds(), dtype=np.int64))["video"]


def fit_for_model(
    model: Any, video: np.ndarray, budget: ForecasterBudget, batch_size: int = 32
) -> FittedForecaster:
    """Fit a forecaster on ``model.targets`` of ``video`` (the fitting clips), ``budget.seed``."""
    features = torch.cat(
        [model.targets(video[i : i + batch_size]) for i in range(0, len(video), batch_size)]
    )
    return fit_forecaster(features, budget, budget.seed)


class FittedModel:
    """``model`` with its forecasts made by ``forecaster`` (see the module docstring).

    ``objective`` is ``causal`` (next-step forecasts from every earlier step, the VoE ``growing``
    context) when the encoder's tokens do not mix time steps, else ``window``; the roll-out runs
    one step per forecast (``forecast_span`` 1).
    """

    def __init__(self, model: Any, forecaster: FittedForecaster) -> None:
        self.model, self.forecaster = model, forecaster
        self.name = f"{model.name}+forecaster"
        self.objective = "window" if model.mixes_time else "causal"
        self.forecast_span = 1

    def __getattr__(self, name: str) -> Any:
        if name in ("model", "forecaster"):
            raise AttributeError(name)
        return getattr(self.model, name)

    @torch.inference_mode()
    def forecast_windows(self, windows: Tensor, context_steps: int) -> tuple[Tensor, Tensor]:
        """Forecast the steps after ``context_steps`` of each window: (B, W - C, N, D) and the
        window's targets (B, W, N, D)."""
        tub = self.model.tubelet
        targets = self.model.targets(windows)
        w, c = targets.shape[1], context_steps
        if not 1 <= c < w:
            raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
        if self.model.mixes_time:
            context = self.model.targets(windows[:, : c * tub])
        else:
            context = targets[:, :c]
        return self.forecaster.predict(context, w - c), targets

    @torch.inference_mode()
    def forecast_windows_lengths(
        self, windows: np.ndarray | Tensor, lengths: tuple[int, ...]
    ) -> tuple[dict[int, Tensor], Tensor]:
        """:meth:`forecast_windows` for several context lengths, encoding each window once."""
        tub = self.model.tubelet
        targets = self.model.targets(windows)
        w = targets.shape[1]
        contexts = []
        for c in lengths:
            if not 1 <= c < w:
                raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
            if self.model.mixes_time:
                contexts.append(self.model.targets(windows[:, : c * tub]))
            else:
                contexts.append(targets[:, :c])
        rolled = self.forecaster.predict_many(contexts, w - min(lengths))
        return {c: r[:, : w - c] for c, r in zip(lengths, rolled, strict=True)}, targets

    @torch.inference_mode()
    def next_step_forecasts(self, video: np.ndarray | Tensor) -> tuple[Tensor, Tensor]:
        """One-step forecasts of every step from its real past (step 0 NaN) and the targets."""
        if self.model.mixes_time:
            raise ValueError(
                f"{self.model.name}: next-step forecasts over a growing context need an encoder "
                "whose tokens do not mix time steps; this one attends across time"
            )
        targets = self.model.targets(video)
        return self.forecaster.next_steps(targets), targets

    @torch.inference_mode()
    def rollout(
        self, context_video: np.ndarray | Tensor, steps: int, window: int | None, chunk: int = 1
    ) -> Tensor:
        """Encode the context frames, roll the forecaster ``steps`` steps: (B, steps, N, D).
        ``window`` and ``chunk`` belong to a predictor's roll-out and are not used."""
        return self.forecaster.predict(self.model.targets(context_video), steps)

"""What the planning library asks of a world model and of a policy (structural types)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import Tensor

__all__ = ["LatentModel", "Policy"]


@runtime_checkable
class LatentModel(Protocol):
    """What a planner needs from a world model.

    ``encode(obs)``: observations ``(B, ...)`` (for images ``(B, C, H, W)``, uint8 or float in
    [0, 1]) -> latents ``(B, ...)``. ``rollout(z0, actions)``: latents ``(B, ...)`` and actions
    ``(B, H, A)`` -> the predicted latents after each action, ``(B, H, ...)``.
    """

    def encode(self, obs: Tensor) -> Tensor: ...

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor: ...


@runtime_checkable
class Policy(Protocol):
    """Anything that picks an action from the observation and the env's ``info``."""

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray: ...

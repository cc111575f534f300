"""Test-time adaptation and random-init twins for any world model that plans.

:class:`~jepa_world.planning.adaptation.AdaptingModel` refits a per-episode copy of a model's
``action_predictor``. A world model that is not an ActionJEPA export has no such part, but if it
is a torch module whose ``rollout`` is differentiable, the whole module can play that part:
:func:`adaptable` wraps it so its ``rollout`` runs on the per-episode copy while ``encode`` stays
on the original (the latent space, and the goal's embedding, never move). Anything else is not
adaptable, and :func:`adaptable` says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["RolloutModule", "adaptable", "planning_twin"]


class RolloutModule(nn.Module):
    """A world model as the adapted part: ``rollout`` is the model's; its parameters are all of
    the model's (those the roll-out does not use get no gradient and stay where they are)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.inner = model

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        return self.inner.rollout(z0, actions)


class _Adaptable:
    """``encode`` from the original model, ``action_predictor`` its :class:`RolloutModule`."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.action_predictor = RolloutModule(model)

    def encode(self, obs: Tensor) -> Tensor:
        return self.model.encode(obs)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        return self.model.rollout(z0, actions)


def _differentiable(model: nn.Module, obs: np.ndarray, action_dim: int) -> str | None:
    """None when ``rollout`` from ``encode(obs)`` gives a tensor with a gradient path to the
    model's parameters; else the reason it does not."""
    with torch.no_grad():
        z0 = model.encode(torch.as_tensor(obs)[None])
    with torch.enable_grad():
        params = [p for p in model.parameters()]
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(True)
        try:
            out = model.rollout(z0, torch.zeros(1, 1, action_dim, dtype=z0.dtype))
            ok = isinstance(out, Tensor) and out.requires_grad
        finally:
            for p, flag in zip(params, flags, strict=True):
                p.requires_grad_(flag)
    return None if ok else "its rollout() output has no gradient path to its parameters"


def adaptable(model: Any, obs: np.ndarray | None = None, action_dim: int = 2) -> tuple[Any, str]:
    """``(model that AdaptingModel accepts, how)`` or ``(None, why not)``.

    Models with an ``action_predictor`` module adapt it (ActionJEPA exports); torch modules
    with a differentiable ``rollout`` adapt a copy of the whole module (checked on ``obs`` when
    given); anything else is not applicable.
    """
    if isinstance(getattr(model, "action_predictor", None), nn.Module):
        return model, "the action predictor (a per-episode copy)"
    if not isinstance(model, nn.Module):
        return None, (
            f"not applicable: {type(model).__name__} is not a torch nn.Module, so there are no "
            "parameters to adapt"
        )
    if not any(True for _ in model.parameters()):
        return None, f"not applicable: {type(model).__name__} has no parameters"
    if obs is not None:
        reason = _differentiable(model, obs, action_dim)
        if reason is not None:
            return None, f"not applicable: {reason}"
    return _Adaptable(model), "the whole model's rollout (a per-episode copy of the module)"


def planning_twin(model: Any, seed: int) -> tuple[Any | None, str]:
    """The random-init twin of a planning model: an ActionJEPA's architecture with fresh
    weights, the model's own ``random_init(seed)``, or a copy with ``reset_parameters``; None and
    the reason when none of these exists."""
    from jepa_world.evaluation.adapters.py_adapter import reset_twin
    from jepa_world.evaluation.models import random_init_world_model

    try:
        return random_init_world_model(model, seed, "action_predictor"), "the export's architecture"
    except TypeError:
        pass
    build = getattr(model, "random_init", None)
    if callable(build):
        return build(seed), "the model's random_init(seed)"
    twin = reset_twin(model, seed)
    if twin is None:
        return None, (
            f"skipped: {type(model).__name__} has no random_init(seed) and no submodule with "
            "reset_parameters"
        )
    return twin, "a copy with every submodule's reset_parameters() after torch.manual_seed"

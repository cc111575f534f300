"""The model a suite evaluates: one loader for export folders and loaded models, and one builder
of the ``random_init`` baseline (the same architecture with fresh, seeded weights).

A random-init model measures what architecture and evaluation give for free: any score a trained
model reaches must stand beside the scores of untrained twins. Its weights depend only on the
seed and the configs, in a fixed construction order (encoder first, then the predictor part), and
building one leaves the global torch random state as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "PREDICTOR_PARTS",
    "LoadedModel",
    "load_model",
    "random_init_world_model",
    "unwrap_encoder",
]

PREDICTOR_PARTS = ("predictor", "action_predictor")
"""The predictors a world model may carry: the masked-token one and the action-conditioned one."""


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to evaluate, with what a report records about it.

    ``model`` is a ``hub.WorldModel`` for an export folder, else the object given; ``config`` is
    the export's config.json (plus its ``path``) or the configs of the given model's modules;
    ``name`` is the export folder's name, or ``"model"``.
    """

    model: Any
    config: dict[str, Any] = field(default_factory=dict)
    name: str = "model"


def unwrap_encoder(encoder: nn.Module) -> nn.Module:
    """The plain VideoEncoder inside a hub.FrozenEncoder (or the encoder itself)."""
    inner = getattr(encoder, "encoder", None)
    return inner if isinstance(inner, nn.Module) and hasattr(inner, "forward_features") else encoder


def _module_configs(model: Any) -> dict[str, Any]:
    """The configs of a loaded model's encoder and predictors (the ones it has)."""
    config: dict[str, Any] = {"encoder": dict(unwrap_encoder(model.encoder).config)}
    for part in PREDICTOR_PARTS:
        module = getattr(model, part, None)
        if module is not None:
            config[part] = dict(module.config)
    return config


def load_model(model: str | os.PathLike | Any) -> LoadedModel:
    """An export folder (config.json + safetensors) -> its ``hub.WorldModel``; a loaded model
    (anything with an ``encoder``) passes through with its modules' configs; any other object
    passes through as it is (the kind decides whether it can evaluate it)."""
    if isinstance(model, (str, os.PathLike)):
        from jepa_world.hub import CONFIG_NAME, load_world_model

        path = Path(model)
        world_model = load_world_model(path)
        config = json.loads((path / CONFIG_NAME).read_text(encoding="utf-8"))
        config["path"] = str(path)
        return LoadedModel(world_model, config, path.name)
    encoder = getattr(model, "encoder", None)
    if isinstance(encoder, nn.Module) and hasattr(unwrap_encoder(encoder), "config"):
        config = _module_configs(model)
        config.update(getattr(model, "config", None) or {})
        return LoadedModel(model, config, "model")
    return LoadedModel(model, {}, type(model).__name__)


def random_init_world_model(
    model: Any,
    seed: int,
    part: str = "predictor",
    device: torch.device | str | None = None,
) -> Any:
    """An untrained, frozen ``hub.WorldModel`` of ``model``'s architecture: its encoder (used as
    both target and context encoder: at initialisation an EMA target equals its online encoder)
    and its ``part`` (``predictor`` or ``action_predictor``), built in that order right after
    ``torch.manual_seed(seed)``. The global torch random state is restored afterwards.

    ``model`` is anything with ``encoder`` and ``part`` modules that carry a ``config``.
    """
    from jepa_world.hub import FrozenEncoder, WorldModel
    from jepa_world.models import create_action_predictor, create_encoder, create_predictor

    if part not in PREDICTOR_PARTS:
        raise ValueError(f"part={part!r}: choose one of {PREDICTOR_PARTS}")
    encoder_config = getattr(getattr(model, "encoder", None), "config", None)
    part_config = getattr(getattr(model, part, None), "config", None)
    if encoder_config is None or part_config is None:
        raise TypeError(f"random_init needs a model with an encoder and a {part.replace('_', ' ')}")
    create = create_predictor if part == "predictor" else create_action_predictor
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = create_encoder(**encoder_config)
        predictor = create(**part_config)
    if device is not None:
        encoder.to(device)
        predictor.to(device)
    frozen = FrozenEncoder(encoder)
    parts = {part: predictor}
    return WorldModel(frozen, frozen, parts.get("predictor"), parts.get("action_predictor"))

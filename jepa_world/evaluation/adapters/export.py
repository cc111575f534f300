"""jepa-world's own exports as one implementation of the probe protocol.

``features`` is the frozen encoder of :func:`jepa_world.load_encoder` (tokens bit for bit, pooled
= their mean, as ``embed`` gives); ``predict`` rolls the exported predictor; ``encode`` /
``rollout`` are the action predictor's (planning); ``random_init`` builds the same architecture
from the export's configs with fresh, seeded weights. An export with an encoder only is probed
like any encoder without a predictor.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_world.evaluation.adapters.protocol import Features, ModelInfo

__all__ = ["ExportAdapter", "load_export"]


class ExportAdapter:
    """A jepa-world export (or a loaded ``hub.WorldModel`` / ``FrozenEncoder``) behind the probe
    protocol. ``world_model`` is the loaded ``WorldModel`` (None for an encoder-only export)."""

    def __init__(
        self,
        encoder: Any,
        world_model: Any = None,
        config: dict[str, Any] | None = None,
        name: str = "model",
        random_init_note: str | None = None,
    ) -> None:
        from jepa_world.evaluation.models import unwrap_encoder

        self.encoder = encoder  # hub.FrozenEncoder
        self.world_model = world_model
        self.config = dict(config or {})
        inner = unwrap_encoder(encoder)
        meta = self.config.get("metadata") if isinstance(self.config.get("metadata"), dict) else {}
        context = meta.get("context_steps") if isinstance(meta, dict) else None
        self.info = ModelInfo(
            name=name,
            frames_per_step=int(inner.tubelet_size),
            clip_frames=int(inner.frames),
            input_size=None,
            mean=tuple(float(m) for m in inner.config.get("mean", (0.0, 0.0, 0.0))),
            std=tuple(float(s) for s in inner.config.get("std", (1.0, 1.0, 1.0))),
            mixes_time=bool(getattr(inner, "mixes_time", True)),
            context_steps=context if isinstance(context, int) and context >= 1 else None,
            preprocessing=(
                f"none: the worlds render at the encoder's {inner.img_size}x{inner.img_size}; "
                "normalised with the export's mean/std"
            ),
            random_init=random_init_note
            or "the export's architecture (config.json) built with fresh weights after "
            "torch.manual_seed(seed): encoder, then predictor",
            config=self.config,
        )

    # ----------------------------------------------------------------- protocol
    @property
    def has_predictor(self) -> bool:
        return getattr(self.world_model, "predictor", None) is not None

    @property
    def action_predictor(self) -> Any:
        """The action predictor (None without one): planning asks for it."""
        return getattr(self.world_model, "action_predictor", None)

    @torch.inference_mode()
    def features(self, video: Tensor | np.ndarray) -> Features:
        tokens = self.encoder(video)
        return Features(tokens.mean(dim=2), tokens)

    @torch.inference_mode()
    def predict(self, context: Tensor, steps: int) -> Tensor:
        """Roll the exported predictor ``steps`` steps from context tokens ``(B, C, N, D)``."""
        if not self.has_predictor:
            raise ValueError(f"{self.info.name}: this export has no video predictor")
        grid = self.encoder.grid
        return self.world_model.predictor.rollout(context, steps, (grid[1], grid[2]))

    def encode(self, obs: Tensor | np.ndarray) -> Tensor:
        return self.world_model.encode(obs)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        return self.world_model.rollout(z0, actions)

    def random_init(self, seed: int, part: str | None = None) -> ExportAdapter:
        """The same architecture with fresh weights (see ``random_init_world_model``)."""
        from jepa_world.evaluation.models import random_init_world_model
        from jepa_world.hub import FrozenEncoder
        from jepa_world.models import create_encoder

        if part is None:
            part = "predictor" if self.has_predictor else "action_predictor"
        if self.world_model is None or getattr(self.world_model, part, None) is None:
            config = self.encoder.config
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                encoder = FrozenEncoder(create_encoder(**config))
            return ExportAdapter(
                encoder, None, {"encoder": config, "seed": seed}, f"random_init[{seed}]"
            )
        twin = random_init_world_model(self.world_model, seed, part)
        config = {"encoder": twin.encoder.config, "seed": seed}
        return ExportAdapter(twin.encoder, twin, config, f"random_init[{seed}]")

    def targets(self, video: Tensor | np.ndarray) -> Tensor:
        """Layer-normed tokens (the space the predictor forecasts in)."""
        tokens = self.features(video).tokens
        return F.layer_norm(tokens, tokens.shape[-1:])


def load_export(path: str | os.PathLike) -> ExportAdapter:
    """An export folder as an :class:`ExportAdapter`: the whole world model when it has a
    predictor or an action predictor, else the encoder alone."""
    from jepa_world.hub import (
        ACTION_PREDICTOR_NAME,
        CONFIG_NAME,
        PREDICTOR_NAME,
        load_encoder,
        load_world_model,
    )

    path = Path(path)
    if not (path / CONFIG_NAME).is_file():
        load_encoder(path)  # raises the loader's one-line error (no folder, not an export)
    try:
        config = json.loads((path / CONFIG_NAME).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        config = None
    if not isinstance(config, dict):
        load_encoder(path)  # raises the loader's one-line error for a bad config.json
        config = {}
    has_parts = (config.get("predictor") is not None and (path / PREDICTOR_NAME).is_file()) or (
        config.get("action_predictor") is not None and (path / ACTION_PREDICTOR_NAME).is_file()
    )
    config["path"] = str(path)
    if not has_parts:
        return ExportAdapter(load_encoder(path), None, config, path.name)
    world_model = load_world_model(path)
    return ExportAdapter(world_model.encoder, world_model, config, path.name)

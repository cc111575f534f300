"""Training: the Lightning tasks, their callbacks, checkpoints and the LightningCLI.

``jepa_world.training.JEPA`` (video JEPA) and ``jepa_world.training.ActionJEPA`` (action-conditioned
world model) are the recipes' ``model.class_path``; callbacks are
``jepa_world.training.callbacks.<Name>``. Imported lazily, so that ``import jepa_world.training``
(and :mod:`jepa_world.training.runtime`) does not pull in Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["JEPA", "ActionJEPA"]

_EXPORTS = {
    "JEPA": "jepa_world.training.video_jepa",
    "ActionJEPA": "jepa_world.training.action_jepa",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

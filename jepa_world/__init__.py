"""jepa-world: JEPA-style video world models.

Importing the package stays cheap: the frozen-model API is loaded lazily so that
``import jepa_world`` pulls in neither Lightning nor wandb.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_encoder", "load_world_model", "save_pretrained"]


def __getattr__(name: str) -> Any:
    if name in {"load_encoder", "load_world_model", "save_pretrained"}:
        from jepa_world import hub

        return getattr(hub, name)
    raise AttributeError(f"module 'jepa_world' has no attribute {name!r}")

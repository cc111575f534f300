"""Probe any model: the probe protocol and the adapters that put models behind it.

:class:`VideoFeatureModel` is what the probes ask of a model (``info`` + ``features``), with
optional ``predict`` (:class:`Predicts`), ``encode`` / ``rollout`` (planning) and
``random_init`` (:class:`RandomInit`). :func:`load_adapter` turns one model string into such a
model: an export folder (:class:`~.export.ExportAdapter`), ``timm:<name>``,
``torchvision:<name>``, ``hf:<folder or id>`` or ``py:<module>:<factory>``. Submodules load on
first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ExportAdapter",
    "Features",
    "HFAdapter",
    "ModelInfo",
    "Predicts",
    "RandomInit",
    "TimmAdapter",
    "TorchvisionAdapter",
    "VideoFeatureModel",
    "load_adapter",
    "parse_model_string",
    "random_twin",
]

_EXPORTS = {
    "Features": "protocol",
    "ModelInfo": "protocol",
    "Predicts": "protocol",
    "RandomInit": "protocol",
    "VideoFeatureModel": "protocol",
    "ExportAdapter": "export",
    "TimmAdapter": "timm_adapter",
    "TorchvisionAdapter": "torchvision_adapter",
    "HFAdapter": "hf",
    "load_adapter": "resolve",
    "parse_model_string": "resolve",
    "random_twin": "resolve",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"jepa_world.evaluation.adapters.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'jepa_world.evaluation.adapters' has no attribute {name!r}")

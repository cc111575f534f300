"""Evaluation suites: how much a frozen world model captured, against baselines.

``load_suite(suite)`` reads and validates a suite of any kind (``probes/physics.yaml``: state
read-outs, predictor roll-out, violation-of-expectation surprise; ``probes/two_rooms.yaml``:
planning to goal images); ``run_suite(model, suite, out=None)`` runs it on an exported model and
returns the :class:`Report` (flat ``metrics``, protocol, curves; ``.table()``, ``.write(out)``,
``.log_to(loggers)``). Any model can be probed: :class:`VideoFeatureModel` is the protocol the
probes talk to, and :func:`load_adapter` turns a model string (an export folder, ``timm:<name>``,
``torchvision:<name>``, ``hf:<folder or id>``, ``py:<module>:<factory>``) into one.
Submodules load lazily, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Features",
    "ModelInfo",
    "Report",
    "Suite",
    "VideoFeatureModel",
    "check_suite",
    "load_adapter",
    "load_suite",
    "run_suite",
]

_EXPORTS = {
    "Report": "jepa_world.evaluation.report",
    "Suite": "jepa_world.evaluation.suite",
    "load_suite": "jepa_world.evaluation.suite",
    "check_suite": "jepa_world.evaluation.command",
    "run_suite": "jepa_world.evaluation.command",
    "Features": "jepa_world.evaluation.adapters.protocol",
    "ModelInfo": "jepa_world.evaluation.adapters.protocol",
    "VideoFeatureModel": "jepa_world.evaluation.adapters.protocol",
    "load_adapter": "jepa_world.evaluation.adapters.resolve",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'jepa_world.evaluation' has no attribute {name!r}")

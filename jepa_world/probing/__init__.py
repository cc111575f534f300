"""Probe suites: how much causal structure a frozen world model captured, against baselines.

``run_suite(model, suite, out=None)`` runs a suite (``probes/physics.yaml``: state read-outs,
predictor roll-out, violation-of-expectation surprise) on an exported model and returns the report
(flat ``metrics`` dict, protocol, curves); ``load_suite(path)`` validates a suite without running
it. Submodules load lazily, so importing this package (or ``jepa_world.probing.planning``) stays
cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_suite", "log_to_logger", "markdown_table", "run_suite", "write_report"]

_EXPORTS = {
    "run_suite": "jepa_world.probing.runner",
    "load_suite": "jepa_world.probing.suite",
    "log_to_logger": "jepa_world.probing.report",
    "markdown_table": "jepa_world.probing.report",
    "write_report": "jepa_world.probing.report",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'jepa_world.probing' has no attribute {name!r}")

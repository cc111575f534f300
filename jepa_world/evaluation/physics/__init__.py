"""The physics suite (``kind: physics``): state read-outs, predictor roll-out and
violation-of-expectation surprise of a frozen world model, beside its baselines.

``parse`` validates a suite mapping (:mod:`.spec`); ``run`` runs it (:mod:`.runner`, loaded on
first use so that reading a suite needs no model code).
"""

from __future__ import annotations

from typing import Any

from jepa_world.evaluation.physics.spec import PhysicsSpec, parse

__all__ = ["PhysicsSpec", "parse", "run"]


def run(model: Any, spec: PhysicsSpec, out: Any = None, log: Any = None) -> Any:
    """Run a parsed physics suite on ``model``; return its :class:`PhysicsReport`."""
    from jepa_world.evaluation.physics.runner import run as run_physics

    return run_physics(model, spec, out, log)

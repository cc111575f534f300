"""The planning suite (``kind: planning``): plan to goal images in Two Rooms with a world model.

``probes/two_rooms.yaml`` is the shipped suite; ``jepa-world probe --suite two_rooms --model DIR
--out OUT`` runs it (through :func:`jepa_world.evaluation.run_suite`). :func:`parse` checks a
suite's ``planning`` section (:mod:`.spec`), :func:`run` runs the model's episodes and the
baselines' (:mod:`.runner`) and returns a :class:`~.report.PlanningReport`. The Two Rooms
specifics (success rules, the simulator as a model, greedy and random baselines, episodes) are in
:mod:`.two_rooms` and :mod:`.episodes`; :mod:`.gym` plans in any gymnasium env with the same MPC
loop. A suite whose top level says ``world: push`` (``probes/push.yaml``) runs the push task and
the intervention probe instead (:mod:`.push_suite`, :mod:`.push`, :mod:`.intervention`).
Submodules load on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["parse", "run"]


def parse(data: Mapping[str, Any], source: str = "<dict>") -> Any:
    """Validate a planning suite mapping (:func:`.spec.parse`; with ``world: push``,
    :func:`.push_suite.parse`)."""
    if isinstance(data, Mapping) and data.get("world", "two_rooms") == "push":
        from jepa_world.evaluation.planning.push_suite import parse as parse_push

        return parse_push(data, source)
    if isinstance(data, Mapping) and "world" in data:
        if data["world"] != "two_rooms":
            raise ValueError(
                f"world={data['world']!r}: a planning suite's world is two_rooms or push"
            )
        data = {k: v for k, v in data.items() if k != "world"}
    from jepa_world.evaluation.planning.spec import parse as parse_planning

    return parse_planning(data, source)


def run(model: Any, spec: Any, out: Any = None, log: Any = None) -> Any:
    """Run a parsed planning suite on ``model``; return its report (:func:`.runner.run`, or
    :func:`.push_suite.run` for a push suite)."""
    if getattr(spec, "world", None) == "push":
        from jepa_world.evaluation.planning.push_suite import run as run_push

        return run_push(model, spec, out, log)
    from jepa_world.evaluation.planning.runner import run as run_planning

    return run_planning(model, spec, out, log)

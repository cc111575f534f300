"""Run any suite: ``jepa-world probe`` and the end-of-fit ``ProbeSuite`` callback both come here.

The suite's ``kind:`` picks the module that runs it; the suite is validated completely before the
model is loaded, and the report is written here, the same way for every kind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from jepa_world.evaluation.report import Log, Report, print_to_stderr, quiet
from jepa_world.evaluation.suite import Suite, kind_module, load_suite

__all__ = ["check_suite", "probe", "run_suite"]


def check_suite(suite: str | os.PathLike | Mapping[str, Any] | Suite) -> Suite:
    """Parse and validate a suite of any kind without running it (errors name the bad key)."""
    return load_suite(suite)


def run_suite(
    model: Any,
    suite: str | os.PathLike | Mapping[str, Any] | Suite,
    out: str | os.PathLike | None = None,
    log: Log | None = None,
) -> Report:
    """Run a suite on a model and its baselines; return the report (written to ``out`` if given).

    ``model``: an export folder (``jepa-world export`` / the ``encoder`` folder of a run), a
    loaded ``jepa_world.hub.WorldModel``, a model string (``timm:resnet18``, ...; see
    :func:`jepa_world.evaluation.load_adapter`) or any object of the probe protocol (each kind
    also takes its own model views). ``suite``: a
    YAML path, a shipped suite name (``physics``, ``two_rooms``) or a mapping with ``kind:``.
    ``log`` receives progress lines.
    """
    log = log or quiet
    parsed = load_suite(suite)
    report = kind_module(parsed.kind).run(model, parsed.spec, out, log)
    if out is not None:
        report.write(out)
        log(f"[{parsed.kind}] wrote {out}")
    return report


def probe(suite: str, model: str, out: str) -> None:
    """Run a suite on a model and write its report.

    Writes OUT/report.json (flat metrics, protocol, model config), OUT/report.md (the model
    against its baselines, with 95 % intervals) and PNG plots, then prints the table. A malformed
    suite is rejected, naming the key, before any work starts.

    Args:
        suite: suite YAML file, or the name of a shipped suite (``physics``, ``two_rooms`` or
            ``probes/physics.yaml``).
        model: a model string (:func:`jepa_world.evaluation.load_adapter`): an export folder
            (config.json + safetensors), ``timm:<name>``, ``torchvision:<name>``,
            ``hf:<folder or id>`` or ``py:<module>:<factory>``, options after ``?``.
        out: output folder for the report.
    """
    report = run_suite(model, suite, out, log=print_to_stderr)
    print(report.table())
    print(
        f"\nreport: {out}/report.json, {out}/report.md (total {report['timing']['total_s']:.1f} s)"
    )

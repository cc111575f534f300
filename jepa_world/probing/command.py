"""One entry point for every suite kind: ``jepa-world probe`` and the end-of-fit callback use it.

A suite with a top-level ``planning`` section is a planning suite (``probes/two_rooms.yaml``);
anything else is a physics probe suite (``probes/physics.yaml``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_suite(suite: str | Path | Mapping[str, Any]) -> None:
    """Parse and validate a suite without running it (errors name the bad key)."""
    from jepa_world.probing.planning_suite import is_planning_suite, load_planning_suite
    from jepa_world.probing.suite import load_suite

    if is_planning_suite(suite):
        load_planning_suite(suite)
    else:
        load_suite(suite)


def run_any_suite(
    suite: str | Path | Mapping[str, Any],
    model: Any,
    out: str | Path | None,
    log: Log | None = None,
) -> tuple[dict[str, Any], str]:
    """Run a physics or planning suite on a model; return the report and its markdown table."""
    from jepa_world.probing.planning_suite import (
        is_planning_suite,
        planning_table,
        run_planning_suite,
    )

    if is_planning_suite(suite):
        report = run_planning_suite(model, suite, out=out, log=log)
        return report, planning_table(report)
    from jepa_world.probing.report import markdown_table
    from jepa_world.probing.runner import run_suite

    report = run_suite(model, suite, out=out, log=log)
    return report, markdown_table(report)


def probe(suite: str, model: str, out: str) -> None:
    """Run a probe suite on an exported model and write its report.

    Writes OUT/report.json (flat metrics, protocol, model config), OUT/report.md (model against
    baselines, with 95 % intervals) and PNG plots, then prints the table. A malformed suite is
    rejected, naming the key, before any work starts.

    Args:
        suite: suite YAML file, or the name of a shipped suite (``physics``, ``two_rooms`` or
            ``probes/physics.yaml``).
        model: exported model folder (config.json + safetensors, with a predictor).
        out: output folder for the report.
    """
    report, table = run_any_suite(suite, model, out, log=_stderr)
    print(table)
    print(
        f"\nreport: {out}/report.json, {out}/report.md (total {report['timing']['total_s']:.1f} s)"
    )

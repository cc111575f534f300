"""Run a planning suite as `jepa-world probe` does and check the keys every planning report has."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from jepa_world.evaluation.planning.episodes import METRIC_KEYS


def probe_planning_suite(
    suite: dict[str, Any], export: Path, tmp_path: Path, capsys: Any, baselines: Iterable[str]
) -> tuple[dict[str, Any], Path]:
    """Probe ``export`` with ``suite``; assert the printed table and every metric key, for the
    model and each baseline. Returns the written report and its folder."""
    from jepa_world.evaluation.command import probe  # what `jepa-world probe` runs

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(suite))
    out = tmp_path / "report"
    probe(str(path), str(export), str(out))
    assert "| planning/success_rate |" in capsys.readouterr().out
    written = json.loads((out / "report.json").read_text())
    metrics = written["metrics"]
    names = list(baselines)
    for key in METRIC_KEYS:
        assert key in metrics, key
        for name in names:
            assert f"baselines/{name}/{key}" in metrics, (name, key)
    return written, out

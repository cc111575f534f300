"""The one Report type: table layout, files, logging and number formatting for every kind."""

from __future__ import annotations

import json
import math
from pathlib import Path

from jepa_world.evaluation.report import Report, format_number


class FakeLogger:
    def __init__(self):
        self.metrics, self.images, self.steps = {}, [], []

    def log_metrics(self, metrics, step=None):
        self.metrics.update(metrics)
        self.steps.append(step)

    def log_image(self, key, images):
        self.images.append((key, images))


class TwoColumnReport(Report):
    title = "Toy report"

    def columns(self):
        return ["model", "floor"]

    def rows(self):
        m = self["metrics"]
        return [(k, [format_number(m[k]), format_number(m.get(f"floor/{k}"))]) for k in ("a", "b")]

    def summary_lines(self):
        return ["Two metrics."]

    def footer_lines(self):
        return ["Notes: none", ""]

    def plots(self):
        def draw(path: Path) -> Path:
            path.write_bytes(b"\x89PNG fake")
            return path

        return {"picture": ("picture.png", draw)}


def test_format_number():
    assert format_number(None) == "—" and format_number(math.nan) == "—"
    assert format_number(3) == "3" and format_number(0.12345) == "0.123"
    assert format_number(123.456) == "123.5" and format_number(-150.0) == "-150.0"


def test_report_is_a_dict_with_a_table():
    report = TwoColumnReport(suite="toy", metrics={"a": 0.5, "b": 2, "floor/a": 0.25})
    assert report["metrics"]["a"] == 0.5 and isinstance(report, dict)
    assert report.table().splitlines() == [
        "| metric | model | floor |",
        "| --- | --- | --- |",
        "| a | 0.500 | 0.250 |",
        "| b | 2 | — |",
    ]
    assert Report(suite="x", metrics={"m": 1.0}).table().splitlines()[2] == "| m | 1.000 |"


def test_write_and_log_to(tmp_path):
    report = TwoColumnReport(suite="toy", metrics={"a": 0.5, "b": 2, "flag": True})
    paths = report.write(tmp_path / "out")
    assert set(paths) == {"json", "md", "picture"}
    written = json.loads(paths["json"].read_text())
    assert written["metrics"] == {"a": 0.5, "b": 2, "flag": True}
    assert written["files"]["picture"] == str(tmp_path / "out" / "picture.png")
    assert written["out"] == str(tmp_path / "out")
    md = paths["md"].read_text().splitlines()
    assert md[0] == "# Toy report: toy" and md[2] == "Two metrics."
    assert "Notes: none" in md and md[-1] == "![picture](picture.png)"
    logger = FakeLogger()
    report.log_to([None, logger], step=7)
    assert logger.metrics == {"probe/a": 0.5, "probe/b": 2.0} and logger.steps == [7]
    assert logger.images == [("probe/picture", [str(tmp_path / "out" / "picture.png")])]
    report.log_to(None)

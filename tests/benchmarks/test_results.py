"""benchmarks/results.py on tiny inputs: runs suites, keeps reports, rewrites only its block."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results():
    spec = importlib.util.spec_from_file_location(
        "results_script", ROOT / "benchmarks" / "results.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["results_script"] = module
    spec.loader.exec_module(module)
    return module


def test_results_writes_one_table_per_suite_and_keeps_the_hand_written_page(
    results, tiny_model_dir, tiny_physics_suite, tmp_path, monkeypatch
):
    suite = tmp_path / "s.yaml"
    suite.write_text(yaml.safe_dump(tiny_physics_suite(horizons=[1, 8])))
    monkeypatch.setitem(results.SUITES, "physics", str(suite))
    page = tmp_path / "results.md"
    page.write_text("# Results\n\nMeasured by hand.\n")
    args = [
        "--models",
        str(tiny_model_dir),
        "--suites",
        "physics",
        "--reports",
        str(tmp_path / "reports"),
        "--page",
        str(page),
        "--threads",
        "1",
    ]
    results.main(args)
    text = page.read_text()
    assert text.startswith("# Results\n\nMeasured by hand.\n")
    assert results.BEGIN in text and results.END in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {tiny_model_dir} |"))
    assert "state/position_r2" in text and "[" in row and results.commit()[:7] in row
    assert any(
        line.startswith("| random_init (baseline of") and " ± " in line
        for line in text.splitlines()
    )
    assert any(line.startswith("| pixels (baseline of") for line in text.splitlines())
    record = json.loads(next((tmp_path / "reports").glob("*/physics/record.json")).read_text())
    assert record["machine"] and record["metrics"]["state/position_r2"] <= 1.0

    # a second run reuses the kept report and replaces only the generated block
    page.write_text(text + "\nMore by hand.\n")
    before = record["wall_s"]
    results.main(args)
    again = page.read_text()
    assert again.count(results.BEGIN) == 1 and again.endswith("\nMore by hand.\n")
    kept = json.loads(next((tmp_path / "reports").glob("*/physics/record.json")).read_text())
    assert kept["wall_s"] == before


def test_planning_rows_only_for_models_that_plan(results, tiny_model_dir):
    assert not results.plans(str(tiny_model_dir))
    assert results.slug("timm:resnet18?size=64") == "timm_resnet18_size_64"


def test_added_rows_follow_the_kept_rows_in_page_order(results, tmp_path):
    page = tmp_path / "results.md"
    block = results.render(
        [
            {
                "label": "first",
                "model": "a",
                "suite": "physics",
                "commit": "c",
                "machine": "m",
                "metrics": {"state/position_r2": 0.9},
            },
            {
                "label": "second",
                "model": "b",
                "suite": "physics",
                "commit": "c",
                "machine": "m",
                "metrics": {"state/position_r2": 0.8},
            },
        ]
    )
    page.write_text("# Results\n\n" + block + "\n")
    assert [r for r in results.page_rows(page) if r in ("first", "second")] == ["first", "second"]
    records = [
        {"label": "new", "model": "c"},
        {"label": "second", "model": "b"},
        {"label": "first", "model": "a"},
    ]
    rows = results.page_rows(page)
    added = sorted(records, key=results.row_order([("c", "c")], rows, added=True))
    assert [r["label"] for r in added] == ["first", "second", "new"]
    listed = sorted(records, key=results.row_order([("c", "c"), ("b", "b")], rows, added=False))
    assert [r["label"] for r in listed] == ["new", "second", "first"]


def test_default_model_strings_are_relative_to_the_checkout(results, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert results.local(ROOT / "runs" / "two_rooms" / "encoder") == "runs/two_rooms/encoder"
    monkeypatch.chdir(tmp_path)
    assert results.local(ROOT / "runs") == str(ROOT / "runs")


def test_physics_rows_only_for_models_of_rgb_frames(results, tiny_model_dir, tmp_path):
    assert results.sees_rgb(str(tiny_model_dir)) and results.sees_rgb("timm:resnet18")
    two_rooms = tmp_path / "two_rooms"
    two_rooms.mkdir()
    (two_rooms / "config.json").write_text(
        json.dumps({"input": {"channels": 2, "size": 65}, "action_predictor": {}})
    )
    assert not results.sees_rgb(str(two_rooms)) and results.plans(str(two_rooms))

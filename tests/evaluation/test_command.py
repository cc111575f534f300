"""``jepa-world probe`` and ``check_suite``: any kind, validated before any work."""

from __future__ import annotations

import pytest

from jepa_world.evaluation import check_suite, run_suite


def test_check_suite_validates_without_running():
    suite = check_suite("physics")
    assert suite.kind == "physics"
    with pytest.raises(ValueError, match="missing key kind"):
        check_suite({"name": "x", "probes": {}})


def test_run_suite_rejects_a_bad_suite_before_loading_the_model():
    with pytest.raises(ValueError, match="missing key kind"):
        run_suite("/no/such/model", {"probes": {}})


def test_an_export_too_short_for_its_own_forecast_span_is_blamed(tiny_causal_dir, tmp_path, capsys):
    """config.json's frames cut to the forecast span: the error names that file and its fields,
    not the suite's ``probes.rollout.window`` (the suite sets no window)."""
    import json
    import shutil

    from jepa_world.cli import main

    export = tmp_path / "short"
    shutil.copytree(tiny_causal_dir, export)
    config = json.loads((export / "config.json").read_text())
    config["encoder"]["frames"] = config["input"]["frames"] = 2  # metadata.forecast_span is 2
    config["metadata"]["context_steps"] = 1  # the context still fits: only the span does not
    (export / "config.json").write_text(json.dumps(config))
    suite = {
        "kind": "physics",
        "name": "rollout_only",
        "probes": {
            "state": {
                "train": {"seed_start": 3_000_000_000, "clips": 4},
                "val": {"seed_start": 3_001_000_000, "clips": 2},
                "test": {"seed_start": 3_002_000_000, "clips": 2},
            },
            "rollout": {"test": {"seed_start": 3_003_000_000, "clips": 2}},
        },
        "baselines": {"random_init": {"seeds": [0, 1, 2, 3, 4]}},
    }
    with pytest.raises(ValueError, match=r"short/config\.json: encoder\.frames=2") as error:
        run_suite(export, suite)
    assert "metadata.forecast_span" in str(error.value)
    assert "probes.rollout.window" not in str(error.value)
    path = tmp_path / "suite.yaml"
    path.write_text(json.dumps(suite))
    with pytest.raises(SystemExit) as exit_info:
        main(["probe", "--suite", str(path), "--model", str(export), "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and "config.json" in err[0]

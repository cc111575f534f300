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

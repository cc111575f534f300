"""The step schedules: warm-up + cosine learning rate, cosine ramps."""

from __future__ import annotations

import math

import pytest

from jepa_world.training.schedules import cosine_ramp, warmup_cosine


def test_warmup_cosine_by_hand():
    assert warmup_cosine(0, 4, 12, 0.1) == pytest.approx(0.25)
    assert warmup_cosine(3, 4, 12, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(4, 4, 12, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(8, 4, 12, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert warmup_cosine(12, 4, 12, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(100, 4, 12, 0.1) == pytest.approx(0.1)  # stays at the floor


def test_cosine_ramp_by_hand():
    assert cosine_ramp(0, 10, 0.996, 1.0) == pytest.approx(0.996)
    assert cosine_ramp(5, 10, 0.996, 1.0) == pytest.approx(0.998)
    assert cosine_ramp(10, 10, 0.996, 1.0) == pytest.approx(1.0)
    assert cosine_ramp(3, 10, 0.5, 0.5) == 0.5
    assert math.isclose(cosine_ramp(20, 10, 0.0, 1.0), 1.0)

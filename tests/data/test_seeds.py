from __future__ import annotations

import pytest

from jepa_world.data.seeds import PROBE_SEED_START, SEED_RANGES, seed_range


def test_ranges_are_disjoint_and_below_probe_seeds() -> None:
    spans = sorted(SEED_RANGES.values())
    assert spans[0][0] == 0
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert spans[-1][1] <= PROBE_SEED_START
    assert seed_range("val") == (10**9, 2 * 10**9)


def test_unknown_split() -> None:
    with pytest.raises(ValueError, match="split='probe'"):
        seed_range("probe")

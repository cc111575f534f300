from __future__ import annotations

import subprocess
import sys

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


def test_split_seeds_reject_an_unknown_split() -> None:
    from jepa_world.data.stream import split_seeds

    with pytest.raises(ValueError, match="split='probe'"):
        split_seeds("probe", 4)


def test_seeds_import_loads_no_lightning() -> None:
    """Probe suites read the seed ranges without paying for (or needing) Lightning."""
    code = (
        "import sys, jepa_world.data.seeds, jepa_world.data\n"
        "assert jepa_world.data.PROBE_SEED_START == jepa_world.data.seeds.PROBE_SEED_START\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_lazy_names_resolve() -> None:
    import jepa_world.data as data
    from jepa_world.data.shards import ShardDataModule

    assert data.ShardDataModule is ShardDataModule
    assert set(data.__all__) <= set(dir(data)) | set(data._LAZY)
    with pytest.raises(AttributeError, match="no_such_name"):
        data.no_such_name  # noqa: B018

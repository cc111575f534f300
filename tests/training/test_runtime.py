"""Process settings of command-line runs: allocator tuning and subnormal flushing."""

from __future__ import annotations

import sys

from jepa_world.training.runtime import flush_denormal_floats, keep_large_allocations_on_the_heap


def test_malloc_tuning_applies_on_glibc_and_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("JEPA_WORLD_SYSTEM_MALLOC", "1")
    assert keep_large_allocations_on_the_heap() is False
    monkeypatch.delenv("JEPA_WORLD_SYSTEM_MALLOC")
    if sys.platform.startswith("linux"):
        assert keep_large_allocations_on_the_heap() is True
        # memory served from the heap works as usual
        assert bytearray(64 << 20)[-1] == 0


def test_subnormal_floats_flush_to_zero_and_can_be_kept(monkeypatch):
    import torch

    tiny = torch.tensor([1e-40], dtype=torch.float32)  # subnormal in float32
    monkeypatch.setenv("JEPA_WORLD_KEEP_DENORMALS", "1")
    assert flush_denormal_floats() is False
    try:
        monkeypatch.delenv("JEPA_WORLD_KEEP_DENORMALS")
        if flush_denormal_floats():  # x86 with SSE3: subnormals compute as zero
            assert (tiny * 1.0).item() == 0.0
    finally:
        torch.set_flush_denormal(False)
    assert (tiny * 1.0).item() > 0.0

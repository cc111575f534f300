"""Adapter tests: every model is tiny and random, and no test may touch the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def toy_models_importable(monkeypatch):
    """``py:toy_models:...`` models load from this folder."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail the test if anything opens a network connection (a download, a hub lookup)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def video():
    """Two 8-frame 64 x 64 uint8 clips (what the worlds render)."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(2, 8, 3, 64, 64), dtype=np.uint8)

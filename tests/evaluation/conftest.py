"""Tiny exported world models shared by the evaluation tests (``tiny_model_dir`` is in
tests/conftest.py): 64 px, as the intuitive world's continuity design needs the room."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from jepa_world.hub import save_pretrained
from jepa_world.models import create_encoder, create_predictor


class TinyCausalWorldModel(nn.Module):
    """One keypoint token per frame and a causal predictor, as the causal objective trains."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = create_encoder(
            "cnn_keypoints",
            img_size=64,
            frames=8,
            embed_dim=16,
            keypoints=4,
            width=8,
            depth=0,
            appearance=True,
        )
        self.predictor = create_predictor(16, self.encoder.grid, depth=1, num_heads=2, pred_dim=16)


@pytest.fixture(scope="session")
def tiny_causal_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny_causal") / "model"
    metadata = {"context_steps": 2, "objective": "causal", "forecast_span": 2}
    return save_pretrained(TinyCausalWorldModel(), path, metadata=metadata)


@pytest.fixture(scope="session")
def tiny_causal_model(tiny_causal_dir):
    from jepa_world.evaluation.physics.model import load_probe_model

    return load_probe_model(tiny_causal_dir)


@pytest.fixture(scope="session")
def tiny_probe_model(tiny_model_dir):
    from jepa_world.evaluation.physics.model import load_probe_model

    return load_probe_model(tiny_model_dir)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors gain nothing from a second thread, and on a busy 2-core box two OpenMP
    threads spin at every barrier (measured: the end-to-end suite 15 s -> 110 s at load 6)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

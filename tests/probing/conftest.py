"""A tiny exported world model (img 32, 8 frames, depth 1) shared by the probing tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from jepa_world.hub import save_pretrained
from jepa_world.models import create_encoder, create_predictor


class TinyWorldModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = create_encoder(
            "vit_micro", img_size=32, frames=8, embed_dim=32, depth=1, num_heads=2
        )
        self.predictor = create_predictor(32, self.encoder.grid, depth=1, num_heads=2, pred_dim=32)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "model"
    return save_pretrained(TinyWorldModel(), path, metadata={"context_steps": 2})


@pytest.fixture(scope="session")
def tiny_probe_model(tiny_model_dir):
    from jepa_world.probing.model import load_probe_model

    return load_probe_model(tiny_model_dir)

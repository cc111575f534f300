"""Fixtures of the training tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def tiny_action_jepa():
    """Factory of seeded tiny ActionJEPAs on 4-frame 65x65 Two Rooms clips (overrides by kwarg)."""

    def make(**overrides):
        from jepa_world.training import ActionJEPA

        torch.manual_seed(0)
        kwargs = {
            "encoder_kwargs": {"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0},
            "predictor_kwargs": {"hidden": 16, "depth": 1},
            "frames": 4,
            "rollout_steps": 1,
            "idm_hidden": 8,
        }
        return ActionJEPA(**{**kwargs, **overrides})

    return make

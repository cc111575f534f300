"""The one MPC loop in a gymnasium env other than Two Rooms: Pendulum, planned from frames."""

from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("gymnasium")
pytest.importorskip("pygame")


@pytest.fixture(scope="module")
def pendulum_export(tmp_path_factory, tiny_action_jepa):
    """An untrained ActionJEPA for 32 px Pendulum frames (3 channels, 1-D torque), exported."""
    from jepa_world.hub import save_pretrained

    model = tiny_action_jepa(img_size=32, in_chans=3, action_dim=1)
    with torch.no_grad():
        model.action_predictor.net[-1].weight.normal_(std=0.1)
    return save_pretrained(model, tmp_path_factory.mktemp("pendulum") / "encoder")


def test_gym_planning_keeps_to_the_env_action_space(pendulum_export):
    from jepa_world.evaluation.planning.gym import run_gym_planning
    from jepa_world.planning import PlannerConfig

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    config = PlannerConfig(horizon=3, samples=8, iterations=2, elites=2, init_std=2.0)
    result = run_gym_planning(pendulum_export, "Pendulum-v1", steps=3, config=config)
    assert result["low"] == [-2.0] and result["high"] == [2.0]  # Pendulum's torque bounds
    assert len(result["latent_distance"]) == 3 and result["ms_per_plan"] > 0
    actions = torch.tensor(result["actions"])
    assert actions.shape == (3, 1) and (actions.abs() <= 2.0).all()
    default = run_gym_planning(pendulum_export, "Pendulum-v1", steps=2)  # the small default budget
    assert len(default["actions"]) == 2

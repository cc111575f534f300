"""The intervention probe: its metric on effects and on hand-made models whose effect is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.planning.intervention import (
    ActionBlind,
    effect_metrics,
    make_cases,
    run_intervention,
)
from jepa_world.worlds import push as world


def _weights(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> dict[int, np.ndarray]:
    """Per-pixel coverage of each body (the renderer blends its colour over the background)."""
    grey = (np.abs(r - g) < 12) & (np.abs(g - b) < 12) & (r > 45)
    red = ~grey & (r > g) & (g < 110) & (b < 110)  # (235, 35, 35)
    green = ~grey & (g > b) & (r < 110) & (b < 110)  # (40, 200, 40)
    blue = ~grey & (b > g) & (r < 110) & (g < 160)  # (40, 90, 255)
    return {
        0: grey * np.clip((r - 40) / 185, 0, 1),  # agent (225, 225, 225)
        1: red * np.clip((r - 40) / 195, 0, 1),
        2: green * np.clip((g - 40) / 160, 0, 1),
        3: blue * np.clip((b - 40) / 215, 0, 1),
    }


def centroids(frames: np.ndarray) -> np.ndarray:
    """(N, 8): agent and ball centres read off the frames by colour (0 where a ball is absent)."""
    f = frames.astype(np.float64)
    grid = np.arange(world.SIZE) + 0.5
    out = np.zeros((len(f), 8))
    for slot, mask in _weights(f[:, 0], f[:, 1], f[:, 2]).items():
        mass = mask.sum(axis=(1, 2))
        on = mass > 1.0
        x = (mask.sum(axis=1) * grid).sum(axis=1) / np.maximum(mass, 1e-9)
        y = (mask.sum(axis=2) * grid).sum(axis=1) / np.maximum(mass, 1e-9)
        out[:, 2 * slot] = np.where(on, x, 0.0)
        out[:, 2 * slot + 1] = np.where(on, y, 0.0)
    return out


class SimulatorModel:
    """A hand-made world model: its latent is where the bodies are (exact for the cases' start
    frames, read off the frame by colour otherwise), its roll-out the true simulator from rest.
    ``swap`` moves ball 0's effect onto ball 1 and back (in two-ball scenes: the wrong ball)."""

    def __init__(self, cases, swap: bool = False) -> None:
        self.swap = swap
        self.known = {
            frame.tobytes(): np.concatenate([agent, position.ravel()])
            for frame, agent, position in zip(
                cases.frames, cases.agent, cases.position, strict=True
            )
        }

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        frames = obs.numpy()
        z = centroids(frames)
        for i, frame in enumerate(frames):
            z[i] = self.known.get(frame.tobytes(), z[i])
        return torch.from_numpy(z)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        z = z0.double().numpy()
        balls = z[:, 2:].reshape(-1, world.MAX_BALLS, 2)
        present = (balls != 0).any(axis=-1)
        state = world.PushState(z[:, :2].copy(), balls.copy(), np.zeros_like(balls), present)
        traj, _ = world.simulate(state, actions.double().numpy())
        pos = traj["position"][:, 1:]  # (B, H, K, 2)
        if self.swap:
            moved = pos - balls[:, None]
            pos = balls[:, None] + moved[:, :, [1, 0, 2]]
        out = np.concatenate([traj["agent"][:, 1:], pos.reshape(*pos.shape[:2], -1)], axis=-1)
        return torch.from_numpy(out)


@pytest.fixture(scope="module")
def cases():
    return make_cases(24, seed=3_036_000_000)


def test_metric_on_known_effects():
    true = np.zeros((4, 2, 2))
    true[:, 0] = [[3.0, 0.0], [0.0, 4.0], [-2.0, 1.0], [1.0, -1.0]]
    touched = np.array([[True, False]] * 4)
    untouched = ~touched
    exact = effect_metrics(true, true, touched, untouched)
    assert exact["touched_r2"] == 1.0 and exact["untouched_spurious_px"] == 0.0
    nothing = effect_metrics(np.zeros_like(true), true, touched, untouched)
    t = true[:, 0]
    assert nothing["touched_r2"] == pytest.approx(1 - (t**2).sum() / ((t - t.mean(0)) ** 2).sum())
    assert nothing["touched_r2"] <= 0 and nothing["untouched_spurious_px"] == 0.0
    wrong = effect_metrics(true[:, ::-1], true, touched, untouched)
    assert wrong["touched_r2"] == nothing["touched_r2"]
    assert wrong["untouched_spurious_px"] == pytest.approx(np.linalg.norm(t, axis=1).mean())
    with pytest.raises(ValueError, match="touched"):
        effect_metrics(true, true, np.zeros_like(touched), untouched)


def test_cases_touch_a_and_leave_b_alone(cases):
    rows = np.arange(len(cases.frames))
    assert cases.touched[rows, cases.ball_a].all()
    assert not cases.touched[rows, cases.ball_b].any()
    assert cases.untouched[rows, cases.ball_b].all()
    assert (cases.true_effect[rows, cases.ball_b] == 0).all()
    assert np.linalg.norm(cases.true_effect[rows, cases.ball_a], axis=-1).min() > 0
    assert (cases.steps == 10).all() and cases.actions.shape[1] == 10


def test_hand_made_models_score_what_their_effects_say(cases):
    two = cases.subset((centroids(cases.frames)[:, 6:] == 0).all(axis=1))  # red and green only
    assert len(two.frames) >= 4
    exact = SimulatorModel(two)
    models = {"exact": exact, "blind": ActionBlind(exact), "wrong": SimulatorModel(two, swap=True)}
    found = run_intervention(models, two, probe_clips=24, probe_seed=0)
    t = two.true_effect[two.touched]
    no_effect_r2 = 1 - (t**2).sum() / ((t - t.mean(0)) ** 2).sum()
    assert found["exact"]["touched_r2"] > 0.99
    assert found["exact"]["untouched_spurious_px"] < 0.1
    assert found["blind"]["touched_r2"] == pytest.approx(no_effect_r2) and no_effect_r2 <= 0
    assert found["blind"]["untouched_spurious_px"] == 0.0
    assert found["wrong"]["touched_r2"] == pytest.approx(no_effect_r2, abs=0.02)
    assert found["wrong"]["untouched_spurious_px"] == pytest.approx(
        np.linalg.norm(t, axis=-1).mean(), abs=0.1
    )

"""Roll-out probe: the true-state baselines by hand, the model roll-out's keys."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_world.evaluation.physics.clips import BallClips, make_ball_clips
from jepa_world.evaluation.physics.rollout import (
    rollout_baselines,
    rollout_steps,
    run_rollout_probe,
    truth_slots,
)
from jepa_world.evaluation.physics.state import run_state_probe


def test_position_baselines_by_hand():
    frames, v = 12, np.array([1.5, -0.5])
    position = 20.0 + v * np.arange(frames)[:, None]
    position = np.broadcast_to(position, (3, frames, 2)).copy()
    clips = BallClips(
        np.zeros((3, frames, 3, 64, 64), np.uint8),
        position,
        np.broadcast_to(v, position.shape).copy(),
        np.ones((3, frames)),
        np.arange(3),
    )
    result = rollout_baselines(clips, 1, 2, np.array([20.0, 20.0]), (1, 2, 4), resamples=20)
    m = result.metrics
    speed = float(np.linalg.norm(v))
    for k in (1, 2, 4):
        assert m[f"constant_velocity/position_px@{k}"] == pytest.approx(0.0, abs=1e-9)
        assert m[f"copy_last/position_px@{k}"] == pytest.approx(k * speed)
    truth = position[0, 1 + 4]
    assert m["mean/position_px@4"] == pytest.approx(np.linalg.norm(truth - [20.0, 20.0]))
    # a ball about to leave the frame: the extrapolation is clamped to it
    fast = BallClips(
        clips.video, 60.0 + 3.0 * (position - 20.0), clips.velocity, clips.visible, clips.seeds
    )
    far = rollout_baselines(fast, 1, 2, np.zeros(2), (4,), resamples=20).per_clip
    guess = np.clip(fast.position[:, 1] + 4 * (fast.position[:, 1] - fast.position[:, 0]), 0, 64)
    expected = np.linalg.norm(guess - fast.position[:, 5], axis=-1)
    np.testing.assert_allclose(far["constant_velocity/position_px"][:, 0], expected)
    with pytest.raises(ValueError, match="needs 13"):
        rollout_baselines(clips, 1, 2, np.zeros(2), (1, 11))


PARAMS = {"occluders": (0, 0)}


@pytest.fixture(scope="module")
def tiny_state(tiny_probe_model):
    """The tiny model's state probe (its position read-out reads the forecasts) and test clips."""
    m = tiny_probe_model
    splits = {
        "train": make_ball_clips(PARAMS, m.frames, m.size, range(100, 112)),
        "val": make_ball_clips(PARAMS, m.frames, m.size, range(200, 204)),
        "test": make_ball_clips(PARAMS, m.frames, m.size, range(300, 306)),
    }
    return run_state_probe(m.targets, splits, m.tubelet, resamples=20), splits["test"]


def test_model_rollout_reports_every_horizon(tiny_probe_model, tiny_state):
    m = tiny_probe_model
    state, test_clips = tiny_state
    horizons = (1, 2, 4)
    frames = rollout_steps(m.window_steps, horizons) * m.tubelet
    clips = make_ball_clips(PARAMS, frames, m.size, range(400, 405))
    result = run_rollout_probe(
        m, clips, state.position_readout, state.token_mean, 2, horizons, resamples=20
    )
    for k in horizons:
        for key in ("position_px", "latent_err", "copy_last/latent_err", "mean/latent_err"):
            assert np.isfinite(result.metrics[f"{key}@{k}"])
    assert result.per_clip["latent_err"].shape == (5, 3)
    with pytest.raises(ValueError, match="time steps"):
        run_rollout_probe(m, test_clips, state.position_readout, state.token_mean, 2, (1, 8))


def test_truth_slots_by_hand():
    # one step per call: every truth is a horizon-1 target (position C of window k - 1)
    assert truth_slots(2, (1, 2, 4)) == [(0, 2), (1, 2), (3, 2)]
    assert rollout_steps(4, (1, 2, 4)) == rollout_steps(4, (1, 2, 4), 2) == 7
    # two steps per call, window 2: steps 2, 3 at positions 2, 3 of window 0; step 5 is the
    # second of the second call, made from steps 2, 3 at positions 0, 1 -> position 3 of window 2
    assert truth_slots(2, (1, 2, 4), window=2, chunk=2) == [(0, 2), (0, 3), (2, 3)]
    assert rollout_steps(4, (1, 2, 4), 2, 2, 2) == 6
    # a window longer than the context grows with the forecasts until it is full
    assert truth_slots(1, (1, 2, 3), window=2, chunk=1) == [(0, 1), (0, 2), (1, 2)]


def test_chunked_rollout_first_chunk_is_scored_against_training_targets(
    tiny_probe_model, tiny_state
):
    """With chunk = W - C, the first chunk is exactly a training forecast, so its latent error is
    the one of ``forecast_windows`` against the window's own targets."""
    m = tiny_probe_model
    c, horizons = 2, (1, 2, 4)
    chunk = m.window_steps - c
    state = tiny_state[0]
    frames = rollout_steps(m.window_steps, horizons, c, c, chunk) * m.tubelet
    clips = make_ball_clips(PARAMS, frames, m.size, range(400, 405))
    result = run_rollout_probe(
        m, clips, state.position_readout, state.token_mean, c, horizons, chunk=chunk,
        resamples=20,
    )  # fmt: skip
    pred, targets = m.forecast_windows(clips.video[:, : m.frames], c)
    expected = (pred - targets[:, c:]).abs().mean(dim=(2, 3)).numpy()  # steps C, C + 1
    np.testing.assert_allclose(result.per_clip["latent_err"][:, :2], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="past the 4-step training window"):
        run_rollout_probe(m, clips, state.position_readout, state.token_mean, c, horizons, chunk=3)

"""State probe: labels per time step, read-outs on features that do and do not hold the state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.physics.clips import BallClips, make_ball_clips, step_labels
from jepa_world.evaluation.physics.state import mean_state_baseline, run_state_probe


def _linear_clips(n: int, frames: int, seed: int) -> BallClips:
    """Balls in straight lines; the frame's first pixels spell out the position (a cheat code)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(20, 40, size=(n, 1, 2))
    vel = rng.uniform(-3, 3, size=(n, 1, 2))
    position = start + vel * np.arange(frames)[None, :, None]
    velocity = np.broadcast_to(vel, position.shape).copy()
    video = np.zeros((n, frames, 3, 8, 8), dtype=np.uint8)
    video[:, :, 0, 0, :2] = np.round(4 * position).astype(np.uint8)  # quarter-pixel steps
    visible = rng.uniform(0, 1, size=(n, frames))
    return BallClips(video, position, velocity, visible, np.arange(n))


def _cheat_encoder(video: np.ndarray) -> torch.Tensor:
    """Tokens (B, T, 1, 2) = the spelled-out position of each frame (tubelet 1)."""
    return torch.from_numpy(video[:, :, 0, 0, :2].astype(np.float32) / 4)[:, :, None, :]


def test_step_labels_follow_the_tubelet():
    clips = _linear_clips(2, 4, 0)
    one = step_labels(clips, 1)
    np.testing.assert_allclose(one["position"], clips.position)
    two = step_labels(clips, 2)
    np.testing.assert_allclose(two["position"], clips.position.reshape(2, 2, 2, 2).mean(2))
    np.testing.assert_allclose(two["velocity"], clips.velocity[:, 1::2])  # motion inside a tubelet
    assert two["visible"].shape == (2, 2)


def test_state_probe_reads_state_that_is_there():
    splits = {"train": _linear_clips(40, 6, 0), "val": _linear_clips(10, 6, 1)}
    splits["test"] = _linear_clips(20, 6, 2)
    result = run_state_probe(_cheat_encoder, splits, tubelet=1, resamples=50)
    m = result.metrics
    assert m["position_r2"] > 0.99 and m["position_pooled_r2"] > 0.99
    assert m["position_px"] < 0.2
    # tubelet 1: velocity from [f(t), f(t) - f(t-1)] sees the displacement
    assert m["velocity_r2"] > 0.98
    assert m["position_r2_ci_low"] <= m["position_r2"] <= m["position_r2_ci_high"]
    assert abs(m["visible_r2"]) < 0.3  # visibility is noise here
    assert result.token_mean.shape == (1, 2)
    mean = mean_state_baseline(splits, tubelet=1, resamples=50)
    assert abs(mean["position_r2"]) < 0.1 and mean["position_px"] > 5


def test_state_probe_on_physics2d_pixels_runs_and_needs_all_splits():
    from jepa_world.evaluation.physics.baselines import pixel_tokens

    def encode(video):
        return pixel_tokens(video, 8, 2)

    seeds = {"train": range(3 * 10**9, 3 * 10**9 + 24), "val": range(10, 16), "test": range(20, 30)}
    splits = {k: make_ball_clips({"occluders": (0, 0)}, 4, 32, list(v)) for k, v in seeds.items()}
    result = run_state_probe(encode, splits, tubelet=2, resamples=20)
    assert {"position_r2", "position_pooled_r2", "velocity_r2", "velocity_patch_r2"} <= set(
        result.metrics
    )
    assert "visible_r2" not in result.metrics  # no occluders: visibility is constant
    assert "skipped" in result.notes["visible_r2"]
    with pytest.raises(ValueError, match="'val'"):
        run_state_probe(encode, {"train": splits["train"], "test": splits["test"]}, 2)


def test_velocity_from_two_time_steps_needs_the_difference_of_tubelet_tokens():
    """Tubelet 2, tokens that hold only each step's position: a single token cannot give the
    velocity, the difference of two consecutive tokens can."""

    def encode(video: np.ndarray) -> torch.Tensor:
        pos = video[:, :, 0, 0, :2].astype(np.float32) / 4  # (B, T, 2)
        steps = pos.reshape(len(pos), -1, 2, 2).mean(2)  # position per tubelet of 2 frames
        return torch.from_numpy(steps)[:, :, None, :]

    splits = {"train": _linear_clips(60, 8, 0), "val": _linear_clips(20, 8, 1)}
    splits["test"] = _linear_clips(30, 8, 2)
    m = run_state_probe(encode, splits, tubelet=2, resamples=20).metrics
    assert m["velocity_diff_r2"] > 0.98
    assert m["velocity_r2"] < 0.8  # position alone only correlates with velocity here
    mean = mean_state_baseline(splits, tubelet=2, resamples=20)
    assert abs(mean["velocity_diff_r2"]) < 0.1

"""The identity-switch rate on hand-made unit tracks over two balls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jepa_world.evaluation.physics.identity import (
    assign_keypoints,
    assign_masks,
    extrapolation_errors,
    identity_metrics,
    measure_identity,
    switch_counts,
    switch_rate,
)

T = 5
RADIUS = 4.0


def two_balls():
    """Ball 0 moves right 2 px a frame and stays in view; ball 1 sits still and is hidden
    (visible 0.2) at frame 3."""
    centres = np.zeros((1, T, 2, 2))
    centres[0, :, 0] = [[10.0 + 2 * t, 10.0] for t in range(T)]
    centres[0, :, 1] = [40.0, 40.0]
    radius = np.full((1, T, 2), RADIUS)
    present = np.ones((1, T, 2), dtype=bool)
    visible = np.ones((1, T, 2))
    visible[0, 3, 1] = 0.2
    return centres, radius, present, visible


def tracks(centres):
    """Unit 0 follows ball 0 (1 px off centre); unit 1 is on ball 0 at frames 0-1, then on
    ball 1; unit 2 sits in an empty corner."""
    positions = np.zeros((1, T, 3, 2))
    positions[0, :, 0] = centres[0, :, 0] + [1.0, 0.0]
    positions[0, :, 1] = [centres[0, t, 0 if t < 2 else 1] for t in range(T)]
    positions[0, :, 2] = [60.0, 4.0]
    return positions


# Hand-computed: unit 0: 4 pairs, 0 switches. Unit 1: pair (0, 1) on ball 0, kept; pair (1, 2)
# on ball 0 (in view at 1 and 2), switched to ball 1; pairs (2, 3) and (3, 4) start on ball 1,
# which is hidden at frame 3, so they do not count: 2 pairs, 1 switch. Unit 2: on nothing, no
# pairs. Pooled: 1 / 6.
EXPECTED_ASSIGNMENT = [[0, 0, -1], [0, 0, -1], [0, 1, -1], [0, 1, -1], [0, 1, -1]]


def test_keypoint_tracks_give_the_hand_computed_rates():
    centres, radius, present, visible = two_balls()
    assignment = assign_keypoints(tracks(centres), centres, radius, present)
    assert assignment[0].tolist() == EXPECTED_ASSIGNMENT
    switches, pairs = switch_counts(assignment, visible)
    assert switches[0].tolist() == [0, 1, 0]
    assert pairs[0].tolist() == [4, 2, 0]
    assert switch_rate(assignment, visible) == pytest.approx(1 / 6)
    metrics = identity_metrics(assignment, visible)
    assert metrics["pairs"] == 6
    assert metrics["on_ball"] == pytest.approx(10 / 15)


def test_keypoint_wandering_over_its_ball_gives_the_hand_computed_extrapolation_error():
    centres, radius, present, visible = two_balls()
    centres[0, :, 0, 1] += [0.0, 0.0, 1.0, 3.0, 6.0]  # ball 0 accelerates down from frame 1
    positions = np.concatenate([tracks(centres), np.zeros((1, T, 1, 2))], axis=2)
    # unit 3 stays on ball 0 but alternates 1 px left and right of its centre
    positions[0, :, 3] = centres[0, :, 0] + np.array([[1.0, 0.0], [-1.0, 0.0]] * 3)[:T]
    assignment = assign_keypoints(positions, centres, radius, present)
    errors = extrapolation_errors(positions, assignment, centres, visible)
    # Triplets (0,1,2), (1,2,3), (2,3,4) count for units 0 and 3; none for unit 1 (it changes
    # ball, then its ball is hidden at frame 3) or unit 2 (on nothing). The ball's second
    # differences are 1, 1, 1 px; unit 0 (fixed offset) has the same, unit 3 adds 4 px in x.
    assert errors["triplets"] == 6
    assert errors["ball_const_vel_px"] == pytest.approx(1.0)
    assert errors["unit_const_vel_px"] == pytest.approx((3 * 1.0 + 3 * math.sqrt(17.0)) / 6)
    none = extrapolation_errors(positions[:, :, 2:3], assignment[:, :, 2:3], centres, visible)
    assert none["triplets"] == 0 and math.isnan(none["unit_const_vel_px"])


def test_keypoint_is_on_a_ball_within_radius_plus_two_pixels():
    centres, radius, present, _ = two_balls()
    positions = np.zeros((1, T, 2, 2))
    positions[0, :, 0] = centres[0, :, 1] + [RADIUS + 1.9, 0.0]
    positions[0, :, 1] = centres[0, :, 1] + [0.0, RADIUS + 2.1]
    assignment = assign_keypoints(positions, centres, radius, present)
    assert assignment[0, :, 0].tolist() == [1] * T
    assert assignment[0, :, 1].tolist() == [-1] * T
    absent = present.copy()
    absent[..., 1] = False  # an absent ball is never assigned
    assert (assign_keypoints(positions, centres, radius, absent) == -1).all()


def test_unit_on_nothing_all_along_has_no_rate():
    centres, radius, present, visible = two_balls()
    assignment = assign_keypoints(tracks(centres)[:, :, 2:], centres, radius, present)
    assert math.isnan(switch_rate(assignment, visible))


def disc_mask(centre, size=64, spill=0.0):
    ys, xs = np.mgrid[:size, :size] + 0.5
    on = ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= RADIUS**2).astype(np.float64)
    return on + spill * (1 - on)


def test_slot_masks_give_the_same_assignment_as_the_keypoint_tracks():
    centres, radius, present, visible = two_balls()
    masks = np.zeros((1, T, 3, 64, 64))
    for t in range(T):
        masks[0, t, 0] = disc_mask(centres[0, t, 0], spill=1e-4)  # soft mask, mostly on ball 0
        masks[0, t, 1] = disc_mask(centres[0, t, 0 if t < 2 else 1])
        masks[0, t, 2, :8, 56:] = 1.0  # the empty corner
    assignment = assign_masks(masks, centres, radius, present)
    assert assignment[0].tolist() == EXPECTED_ASSIGNMENT
    assert switch_rate(assignment, visible) == pytest.approx(1 / 6)


def test_slot_whose_mask_is_mostly_background_is_on_nothing():
    centres, radius, present, _ = two_balls()
    masks = np.zeros((1, T, 1, 64, 64))
    disc = disc_mask(centres[0, 0, 1]).sum()  # 52 pixels of ball 1
    assert disc == 52
    masks[0, :, 0] = disc_mask(centres[0, 0, 1], spill=0.01)  # background holds 40.44 < 52
    assert (assign_masks(masks, centres, radius, present) == 1).all()
    masks[0, :, 0] = disc_mask(centres[0, 0, 1], spill=0.1)  # background holds 404.4 > 52
    assert (assign_masks(masks, centres, radius, present) == -1).all()


def test_measure_identity_reads_an_encoders_units():
    class Centre(torch.nn.Module):
        """Every unit at the frame centre."""

        def unit_positions(self, video):
            b, t = video.shape[:2]
            return torch.full((b, t, 2, 2), 16.0)

    metrics = measure_identity(Centre(), size=32, frames=4, seeds=range(8))
    assert metrics is not None
    assert set(metrics) == {
        "switch_rate",
        "pairs",
        "on_ball",
        "unit_const_vel_px",
        "ball_const_vel_px",
        "triplets",
    }
    assert measure_identity(torch.nn.Linear(1, 1), size=32, frames=4, seeds=range(2)) is None


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="positions must have 4 dims"):
        assign_keypoints(
            np.zeros((2, 3)), np.zeros((1, 1, 1, 2)), np.ones((1, 1, 1)), np.ones((1, 1, 1))
        )
    with pytest.raises(ValueError, match="differ in"):
        switch_counts(np.zeros((1, 4, 2)), np.ones((1, 3, 2)))

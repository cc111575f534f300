"""Surprise: token reduction, pixel novelty by hand, model windows, VoE metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.physics.voe import (
    SurpriseSettings,
    SurpriseTrace,
    abs_outcomes,
    abs_threshold,
    clip_scores,
    field_metrics,
    filtered_trace,
    length_surprise,
    model_surprise,
    pair_metrics,
    pixel_surprise,
    quad_metrics,
    reduce_tokens,
    single_clip_scores,
)


def test_reduce_tokens():
    err = torch.tensor([[1.0, 4.0, 2.0, 3.0]])
    assert reduce_tokens(err, "mean", 2).item() == 2.5
    assert reduce_tokens(err, "topk", 2).item() == 3.5
    assert reduce_tokens(err, "topk", 10).item() == 2.5  # k capped at N


def test_pixel_surprise_by_hand():
    video = np.zeros((1, 4, 1, 4, 4), dtype=np.uint8)
    video[0, 1, 0, 0, 0] = 10  # frame 1 differs from 0 by 10 in one pixel
    video[0, 2, 0, :2, :2] = 5  # frame 2 vs 1: |5-10| + 3 * 5 = 20, all in the top-left patch
    video[0, 3] = video[0, 2]
    trace = pixel_surprise(video, first_frame=1, token_reduction="mean")
    np.testing.assert_array_equal(trace.values[0], [0, 10, 20, 0])
    np.testing.assert_array_equal(trace.valid, [False, True, True, True])
    late = pixel_surprise(video, first_frame=2)
    assert clip_scores(late).tolist() == [20.0]
    topk = pixel_surprise(video, first_frame=1, token_reduction="topk", topk=1, patch=2)
    np.testing.assert_array_equal(topk.values[0], [0, 10, 20, 0])
    with pytest.raises(TypeError, match="uint8"):
        pixel_surprise(video.astype(np.float32), 1)


def test_clip_and_single_clip_scores():
    trace = SurpriseTrace(np.array([[9.0, 1.0, 2.0, 6.0]]), np.array([False, True, True, True]), 1)
    assert clip_scores(trace, "sum").tolist() == [9.0]
    assert clip_scores(trace, "mean").tolist() == [3.0]
    assert single_clip_scores(trace, "max").tolist() == [6.0]
    assert single_clip_scores(trace, "peak").tolist() == [4.0]  # 6 - median(1, 2, 6)
    with pytest.raises(ValueError, match="additive"):
        clip_scores(trace, "max")
    with pytest.raises(ValueError, match="additive"):
        SurpriseSettings(context_steps=1, clip_score="max")


def test_mean_and_max_scores_by_hand():
    values = np.array([[[0.0, 2.0, 4.0, 3.0]], [[5.0, 1.0, 1.0, 1.0]]])  # (2 clips, 1, 4 steps)
    trace = SurpriseTrace(values, np.array([False, True, True, True]), 1)
    np.testing.assert_array_equal(clip_scores(trace, "sum"), [[9.0], [3.0]])
    np.testing.assert_array_equal(clip_scores(trace, "mean"), [[3.0], [1.0]])
    # the max ignores steps without a forecast (clip 1's 5.0 at step 0)
    np.testing.assert_array_equal(single_clip_scores(trace, "max"), [[4.0], [1.0]])


def test_filtered_surprise_is_the_per_step_minimum_over_context_lengths():
    short = SurpriseTrace(
        np.array([[0.0, 3.0, 1.0, 4.0, 2.0]]), np.array([False, True, True, True, True]), 2
    )
    long = SurpriseTrace(
        np.array([[0.0, 0.0, 0.0, 2.0, 5.0]]), np.array([False, False, False, True, True]), 2
    )
    f = filtered_trace([short, long])
    np.testing.assert_array_equal(f.valid, [False, True, True, True, True])
    # steps 1, 2: only the short context forecasts them; steps 3, 4: min(4, 2), min(2, 5)
    np.testing.assert_array_equal(f.values, [[0.0, 3.0, 1.0, 2.0, 2.0]])
    assert f.step_frames == 2
    assert clip_scores(f).tolist() == [8.0] and single_clip_scores(f, "max").tolist() == [3.0]
    with pytest.raises(ValueError, match="at least one"):
        filtered_trace([])
    with pytest.raises(ValueError, match="differ"):
        filtered_trace([short, SurpriseTrace(short.values, short.valid, 1)])


def test_abs_threshold_and_accuracy_by_hand():
    calibration = SurpriseTrace(
        np.arange(1.0, 11.0)[:, None] * np.array([[0.0, 0.5, 1.0]]),
        np.array([False, True, True]),
        1,
    )  # max surprise of the 10 possible calibration clips: 1, 2, ..., 10
    assert abs_threshold(calibration, 90) == pytest.approx(9.1)  # linear: 9 + 0.1 * (10 - 9)
    assert abs_threshold(calibration, 50) == pytest.approx(5.5)
    possible = np.array([True, True, False, False])
    scores = np.array([[9.0, 9.5, 9.2, 3.0], [1.0, 2.0, 12.0, 9.1]])
    # 9.0 possible ok, 9.5 possible flagged, 9.2 impossible flagged, 3.0 impossible missed;
    # 1.0 ok, 2.0 ok, 12.0 flagged, 9.1 not above the threshold: missed
    np.testing.assert_array_equal(abs_outcomes(scores, possible, 9.1), [[1, 0, 1, 0], [1, 1, 1, 0]])
    with pytest.raises(ValueError, match="percentile"):
        abs_threshold(calibration, 101)


def test_field_metrics_by_hand():
    valid = np.array([False, True, True])
    # two quadruplets [A, B, C, D]; per-step surprise at steps 1, 2
    plain = np.array(
        [
            [[0, 1, 1], [0, 1, 2], [0, 4, 1], [0, 1, 1]],  # sums A 2, B 3, C 5, D 2: correct
            [[0, 2, 2], [0, 1, 1], [0, 1, 1], [0, 1, 2]],  # sums 4, 2, 2, 3: wrong (5 < 6)
        ],
        dtype=float,
    )
    filtered = plain.copy()
    filtered[1, 3, 2] = 6.0  # D's last step: sums 4, 2, 2, 7: correct when filtered
    settings = SurpriseSettings(context_steps=1, auroc_score="max")
    possible = np.array([True, True, False, False])
    metrics, outcomes = field_metrics(
        SurpriseTrace(plain, valid, 1),
        possible,
        settings,
        SurpriseTrace(filtered, valid, 1),
        thresholds=(2.5, 3.5),
        resamples=20,
    )
    np.testing.assert_array_equal(outcomes, [1.0, 1.0])
    assert metrics["relative_acc_filtered"] == 1.0
    # filtered max per clip: q0 [1, 2, 4, 1], q1 [2, 1, 1, 6]; impossible (C, D) against
    # possible (A, B): pairs won 4 > 1, 4 > 2, 1 vs 1 tie, 1 < 2 | 1 < 2, 1 vs 1 tie, 6 > 2, 6 > 1
    # over all 8 clips: positives {4, 1, 1, 6}, negatives {1, 2, 2, 1}
    wins = sum((p > n) + 0.5 * (p == n) for p in (4, 1, 1, 6) for n in (1, 2, 2, 1))
    assert metrics["auroc_filtered"] == pytest.approx(wins / 16)
    # plain max [1, 2, 4, 1] and [2, 1, 1, 2] against 2.5: right on A, B, C | A, B: 5 of 8
    assert metrics["abs_acc"] == pytest.approx(5 / 8)
    # filtered max [1, 2, 4, 1] and [2, 1, 1, 6] against 3.5: right on A, B, C | A, B, D: 6 of 8
    assert metrics["abs_acc_filtered"] == pytest.approx(6 / 8)
    assert metrics["abs_acc_ci_low"] <= metrics["abs_acc"] <= metrics["abs_acc_ci_high"]
    bare, none = field_metrics(SurpriseTrace(plain, valid, 1), possible, settings)
    assert bare == {} and none is None


def test_quad_and_pair_metrics_on_synthetic_traces():
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, size=(40, 4, 6))
    values[:, 2:, 3] += 5.0  # impossible clips spike at step 3 (more than any noise sum)
    trace = SurpriseTrace(values, np.array([False, True, True, True, True, True]), 2)
    settings = SurpriseSettings(context_steps=1, auroc_score="max")
    metrics, outcomes = quad_metrics(trace, np.array([True, True, False, False]), settings, 50)
    assert metrics["relative_acc"] == 1.0 and outcomes.shape == (40,)
    assert metrics["auroc"] == 1.0
    assert metrics["relative_acc_ci_low"] < 1.0 == metrics["relative_acc_ci_high"]
    pairs = SurpriseTrace(values[:, 1:3], trace.valid, 2)  # [possible, impossible]
    assert pair_metrics(pairs).mean() == 1.0


def test_model_surprise_windows(tiny_probe_model):
    m = tiny_probe_model
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, size=(3, 12, 3, 64, 64), dtype=np.uint8)  # 6 steps
    video[1, :8] = video[0, :8]  # clip 1 equals clip 0 before frame 8 (step 4)
    settings = SurpriseSettings(context_steps=2)
    trace, copy = model_surprise(m, video, settings, batch_size=4)
    assert trace.values.shape == (3, 6) and trace.step_frames == 2
    np.testing.assert_array_equal(trace.valid, [False, False, True, True, True, True])
    assert (trace.values[:, 2:] > 0).all() and (copy.values[:, 2:] > 0).all()
    # the window [0, 4) sees only frames < 8: its forecasts of steps 2, 3 are identical
    np.testing.assert_allclose(trace.values[0, 2:4], trace.values[1, 2:4], rtol=1e-5)
    assert not np.allclose(trace.values[0, 4:], trace.values[1, 4:])
    dense, _ = model_surprise(m, video, SurpriseSettings(context_steps=2, stride=1, horizons=(1,)))
    # horizon 1 only: no window that fits the clip forecasts the last step one step ahead
    np.testing.assert_array_equal(dense.valid, [False, False, True, True, True, False])
    with pytest.raises(ValueError, match="horizons"):
        model_surprise(m, video, SurpriseSettings(context_steps=2, horizons=(3,)))


@pytest.fixture(scope="module")
def intuitive():
    from jepa_world.worlds import create_world

    return create_world("intuitive", size=64, frames=24)


@pytest.mark.parametrize("reduction", ["mean", "topk"])
def test_pixel_novelty_ties_exactly_on_every_matched_quadruplet(intuitive, reduction):
    from jepa_world.evaluation.physics.spec import PROPERTIES

    seeds = np.arange(3_010_000_000, 3_010_000_006)
    settings = SurpriseSettings(context_steps=2, token_reduction=reduction)
    for prop in PROPERTIES:
        data = intuitive.quadruplets(prop, seeds)
        video = data["video"]
        q = len(video)
        for first_frame in (1, 4):  # any additive window of frames ties
            trace = pixel_surprise(
                video.reshape(q * 4, *video.shape[2:]), first_frame, reduction, topk=4
            )
            scores = clip_scores(trace).reshape(q, 4)
            np.testing.assert_array_equal(scores[:, 2] + scores[:, 3], scores[:, 0] + scores[:, 1])
            shaped = SurpriseTrace(trace.values.reshape(q, 4, -1), trace.valid, 1)
            metrics, outcomes = quad_metrics(shaped, data["possible"], settings, resamples=10)
            assert metrics["relative_acc"] == 0.5 and (outcomes == 0.5).all(), prop


def test_pixel_novelty_ties_under_the_filtered_score(intuitive):
    """Pixel novelty is the same at every context length, so its filtered trace (counted from
    the shortest context) still ties on every matched quadruplet; its max does not."""
    from jepa_world.evaluation.physics.spec import PROPERTIES

    seeds = np.arange(3_010_000_000, 3_010_000_006)
    settings = SurpriseSettings(context_steps=2)
    for prop in PROPERTIES:
        data = intuitive.quadruplets(prop, seeds)
        video = data["video"]
        q = len(video)
        flat = video.reshape(q * 4, *video.shape[2:])
        traces = [pixel_surprise(flat, c) for c in (2, 4, 6, 8)]
        shaped = [SurpriseTrace(t.values.reshape(q, 4, -1), t.valid, 1) for t in traces]
        filtered = filtered_trace(shaped)
        np.testing.assert_array_equal(filtered.values, shaped[0].values)
        _, outcomes = field_metrics(shaped[0], data["possible"], settings, filtered)
        assert (outcomes == 0.5).all(), prop


def test_length_surprise_equals_fixed_windows_at_each_length(tiny_probe_model, tiny_causal_model):
    """Windows shared by several context lengths are encoded once; the surprise equals the
    fixed-window surprise at each length on its own."""
    rng = np.random.default_rng(1)
    for m, frames in ((tiny_probe_model, 12), (tiny_causal_model, 24)):
        video = rng.integers(0, 256, size=(3, frames, 3, 64, 64), dtype=np.uint8)
        window = min(m.window_steps, frames // m.tubelet)
        lengths = tuple(range(1, window))
        base = SurpriseSettings(context_steps=1, context="growing", horizons=(1,))
        got = length_surprise(m, video, lengths, base, batch_size=4)
        for c, (trace, copy) in zip(lengths, got, strict=True):
            ref, ref_copy = model_surprise(m, video, SurpriseSettings(context_steps=c), 4)
            np.testing.assert_array_equal(trace.valid, ref.valid)
            np.testing.assert_allclose(trace.values, ref.values, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(copy.values, ref_copy.values, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="context length 4 is out of range"):
        length_surprise(tiny_probe_model, video[:, :12], (4,), base)


def test_pixel_novelty_flags_open_view_pairs(intuitive):
    outcomes = []
    for kind in ("teleport", "vanish", "colour_flip"):
        video = intuitive.open_view_pairs(kind, np.arange(3_020_000_000, 3_020_000_006))["video"]
        q = len(video)
        trace = pixel_surprise(video.reshape(q * 2, *video.shape[2:]), 4)
        outcomes.append(pair_metrics(SurpriseTrace(trace.values.reshape(q, 2, -1), trace.valid, 1)))
    assert np.concatenate(outcomes).mean() >= 0.8  # the easy subset: pixels already see it


def test_growing_context_scores_each_step_from_all_of_its_past(tiny_causal_model, intuitive):
    """Growing context: every step from C on is forecast one step ahead from every earlier
    step; its latent copy-last (a function of consecutive frames) ties on matched quadruplets,
    as pixel novelty does, so only memory can break the tie."""
    m = tiny_causal_model  # 8-frame window, 24-frame clips: windows slide past the first
    data = intuitive.quadruplets("permanence", np.arange(3_010_000_000, 3_010_000_004))
    video = data["video"]
    q = len(video)
    settings = SurpriseSettings(context_steps=2, context="growing")
    trace, copy = model_surprise(m, video.reshape(q * 4, *video.shape[2:]), settings, 8)
    assert trace.values.shape == (q * 4, 24) and trace.step_frames == 1
    np.testing.assert_array_equal(trace.valid, np.arange(24) >= 2)
    assert (trace.values[:, 2:] > 0).all() and (trace.values[:, :2] == 0).all()
    pred, target = m.next_step_forecasts(video[0, :1])
    step5 = (pred[:, 5] - target[:, 5]).abs().mean().item()
    assert trace.values[0, 5] == pytest.approx(step5, rel=1e-5)
    copies = clip_scores(copy).reshape(q, 4)
    np.testing.assert_allclose(copies[:, 2] + copies[:, 3], copies[:, 0] + copies[:, 1], rtol=1e-6)
    with pytest.raises(ValueError, match="one step ahead"):
        model_surprise(
            m, video[0], SurpriseSettings(context_steps=2, context="growing", horizons=(2,))
        )
    with pytest.raises(ValueError, match="context='window'"):
        SurpriseSettings(context_steps=2, context="window")

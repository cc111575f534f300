"""The fitted forecaster: recovers known dynamics, stays honest on noise, rolls out, validates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.physics.forecaster import (
    FittedForecaster,
    ForecasterBudget,
    fit_forecaster,
)

SMALL = ForecasterBudget(steps=150, batch_size=32, width=16, depth=1, heads=2, context_steps=3)


def linear_features(clips: int, steps: int = 12, n: int = 3, d: int = 8) -> torch.Tensor:
    """x_(t+1) = Q x_t per token with a fixed random rotation Q (norms stay put)."""
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen))
    xs = [torch.randn(clips, n, d, generator=gen)]
    for _ in range(steps - 1):
        xs.append(xs[-1] @ q.T)
    return torch.stack(xs, dim=1)


def test_recovers_known_linear_dynamics():
    feats = linear_features(40)
    train, test = feats[:32], feats[32:]
    fitted = fit_forecaster(train, SMALL, seed=0)
    assert isinstance(fitted, FittedForecaster)
    scale = test.abs().mean().item()  # ~0.8: the error a copy of nothing would make
    roll = fitted.predict(test[:, :3], 9)
    assert roll.shape == (8, 9, 3, 8)
    err = (roll - test[:, 3:]).abs().mean(dim=(0, 2, 3))
    assert err.max().item() < 0.02 * scale  # nine autoregressive steps, still near zero
    one_step = fitted.next_steps(test)
    assert torch.isnan(one_step[:, 0]).all()
    assert (one_step[:, 1:] - test[:, 1:]).abs().mean().item() < 0.02 * scale
    # a context shorter than K (left-padded with its first step) is forecast as well
    short = fitted.predict(test[:, :1], 2)
    assert (short - test[:, 1:3]).abs().mean().item() < 0.05 * scale


def test_fails_honestly_on_noise():
    """On i.i.d. noise the best forecast is the mean: held-out error stays at the noise level
    (E|x| of a standard normal, 0.798), never below it."""
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn(64, 12, 3, 8, generator=gen)
    fitted = fit_forecaster(noise[:48], SMALL, seed=0)
    test = noise[48:]
    level = (test[:, 1:] - test[:, 1:].mean()).abs().mean().item()
    err = (fitted.next_steps(test)[:, 1:] - test[:, 1:]).abs().mean().item()
    assert level * 0.98 <= err <= level * 1.25
    roll = fitted.predict(test[:, :3], 5)
    assert (roll - test[:, 3:8]).abs().mean().item() >= level * 0.98


def test_same_seed_same_forecaster_and_seed_matters():
    feats = torch.randn(16, 8, 2, 4, generator=torch.Generator().manual_seed(2))
    a = fit_forecaster(feats, SMALL, seed=3).predict(feats[:, :3], 4)
    b = fit_forecaster(feats, SMALL, seed=3).predict(feats[:, :3], 4)
    c = fit_forecaster(feats, SMALL, seed=4).predict(feats[:, :3], 4)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_depth_zero_is_the_linear_autoregression_alone():
    feats = linear_features(24, n=1)
    budget = ForecasterBudget(steps=1, depth=0, context_steps=2)
    fitted = fit_forecaster(feats, budget, seed=0)
    assert fitted.history == []  # nothing to train by gradient: closed form only
    err = (fitted.predict(feats[:, :2], 4) - feats[:, 2:6]).abs().max().item()
    assert err < 0.01  # the small ridge is the only bias


def test_bad_inputs_and_budgets_fail_with_one_line():
    feats = torch.randn(4, 6, 2, 4)
    fitted = fit_forecaster(feats, ForecasterBudget(steps=2, depth=0), seed=0)
    with pytest.raises(ValueError, match=r"N=2, D=4"):
        fitted.predict(torch.randn(4, 3, 2, 5), 2)
    with pytest.raises(ValueError, match="T >= 2"):
        fit_forecaster(feats[:, :1], SMALL, seed=0)
    with pytest.raises(ValueError, match=r"\(B, T, N, D\)"):
        fit_forecaster(feats[0], SMALL, seed=0)
    with pytest.raises(ValueError, match="forecaster.seed_start"):
        ForecasterBudget(seed_start=3_000_000_000)
    with pytest.raises(ValueError, match="leave the training seed range"):
        ForecasterBudget(seed_start=999_999_990, clips=20)
    with pytest.raises(ValueError, match="forecaster.width=10 must be divisible"):
        ForecasterBudget(width=10, heads=4)
    with pytest.raises(ValueError, match="forecaster.lr"):
        ForecasterBudget(lr=0.0)


def test_fitted_model_forecasts_from_the_context_alone(tiny_probe_model):
    """A fitted forecaster behind the probe-model calls: shapes, and no frame after the
    context reaches a forecast (the ViT encoder mixes time, so the context is encoded alone)."""
    from jepa_world.evaluation.physics.fitted import FittedModel, fit_for_model, forecaster_clips

    m = tiny_probe_model
    budget = ForecasterBudget(clips=8, steps=5, batch_size=8, width=16, depth=1, heads=2)
    video = forecaster_clips(budget, m.frames, m.size)
    assert video.shape == (8, m.frames, 3, 64, 64) and video.dtype == np.uint8
    fm = FittedModel(m, fit_for_model(m, video, budget, batch_size=4))
    assert fm.objective == "window" and fm.tubelet == m.tubelet and fm.forecast_span == 1
    windows = video[:3].copy()
    pred, target = fm.forecast_windows(windows, 2)
    assert pred.shape == (3, m.window_steps - 2, m.num_patches, target.shape[-1])
    changed = windows.copy()
    changed[:, 2 * m.tubelet :] = 255 - changed[:, 2 * m.tubelet :]
    torch.testing.assert_close(fm.forecast_windows(changed, 2)[0], pred)
    many, _ = fm.forecast_windows_lengths(windows, (1, 2))
    torch.testing.assert_close(many[2], pred)
    assert fm.rollout(windows[:, : 2 * m.tubelet], 3, None).shape == (3, 3, *pred.shape[2:])
    with pytest.raises(ValueError, match="do not mix time steps"):
        fm.next_step_forecasts(windows)


def test_transformer_memory_reaches_further_back_than_the_linear_part():
    """K steps of memory, L < K of them in the closed-form linear part: the forecast of step 6
    depends on step 0 with K = 7, not with K = 2 (a ball seen before an occluder hid it)."""
    feats = torch.randn(32, 8, 2, 4, generator=torch.Generator().manual_seed(6))
    common = dict(steps=20, batch_size=16, width=16, depth=1, heads=2, linear_steps=2)
    long = fit_forecaster(feats, ForecasterBudget(context_steps=7, **common), seed=0)
    short = fit_forecaster(feats, ForecasterBudget(context_steps=2, **common), seed=0)
    assert long.net.linear.in_features == 2 * 4  # the linear part reads linear_steps steps
    clip = feats[:1]
    changed = clip.clone()
    changed[:, 0] += 1.0
    for fitted, remembers in ((long, True), (short, False)):
        before, after = fitted.next_steps(clip)[:, 6], fitted.next_steps(changed)[:, 6]
        assert (
            (before - after).abs().max().item() > 1e-4 if remembers else torch.equal(before, after)
        )

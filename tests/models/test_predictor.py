"""Predictor: shapes, block-causal attention checked numerically, roll-out, config rebuild."""

from __future__ import annotations

import pytest
import torch

from jepa_world.masking import future_mask, gather_tokens
from jepa_world.models import create_predictor

GRID = (4, 2, 2)  # T', Hp, Wp -> 16 tokens, 4 per step
D = 32


def predictor(**kw):
    torch.manual_seed(0)
    return create_predictor(D, GRID, depth=2, pred_dim=16, num_heads=2, **kw).eval()


def scrambled(model):
    """Large random weights: at init the signal between tokens is too faint to test causality."""
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.3)
    return model


def test_default_pred_dim_is_half_the_encoder_width_at_least_64():
    with torch.device("meta"):
        check_default_pred_dim()


def check_default_pred_dim():
    assert create_predictor(384).pred_dim == 192
    assert create_predictor(96).pred_dim == 64
    assert create_predictor(384, num_heads=5).pred_dim % 10 == 0


def test_shapes_with_shared_and_per_sample_indices():
    model = predictor()
    mask = future_mask(GRID, context_steps=2, batch_size=3)
    context = torch.randn(3, 8, D)
    shared = model(context, mask.context[0], mask.target[0], GRID)
    per_sample = model(context, mask.context, mask.target, GRID)
    assert shared.shape == per_sample.shape == (3, 8, D)
    torch.testing.assert_close(shared, per_sample)
    assert torch.equal(model(context, mask.context, mask.target), per_sample)  # default grid


def test_block_causal_context_change_leaves_earlier_predictions_unchanged():
    """Targets at every time step; perturbing context at time 2 moves only targets at t >= 2."""
    model = scrambled(predictor())
    context_index = torch.tensor([0, 1, 4, 6, 9, 10])  # times 0, 0, 1, 1, 2, 2
    target_index = torch.tensor([2, 3, 5, 7, 8, 11, 12, 15])  # times 0, 0, 1, 1, 2, 2, 3, 3
    target_time = target_index // 4
    context = torch.randn(2, 6, D)
    changed = context.clone()
    changed[:, 4] = torch.randn(
        2, D
    )  # token 9 lives at time 2 (a shift would be layer-normed away)
    before = model(context, context_index, target_index, GRID)
    after = model(changed, context_index, target_index, GRID)
    earlier = target_time < 2
    torch.testing.assert_close(before[:, earlier], after[:, earlier], rtol=0, atol=1e-6)
    assert (before[:, ~earlier] - after[:, ~earlier]).abs().amax(dim=-1).min() > 1e-2


def test_full_attention_lets_later_context_reach_earlier_targets():
    model = scrambled(predictor(causal=False))
    context_index, target_index = torch.tensor([0, 12]), torch.tensor([1])
    context = torch.randn(1, 2, D)
    changed = context.clone()
    changed[:, 1] = torch.randn(1, D)  # time 3 context, time 0 target
    before = model(context, context_index, target_index, GRID)
    assert (before - model(changed, context_index, target_index, GRID)).abs().amax() > 1e-2


def test_backward_reaches_every_parameter():
    model = predictor().train()
    mask = future_mask(GRID, 1, 2)
    tokens = torch.randn(2, *GRID[:1], 4, D)
    pred = model(gather_tokens(tokens, mask.context), mask.context, mask.target, GRID)
    pred.square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name


def test_rollout_shapes_and_first_step_matches_forward():
    model = predictor()
    context = torch.randn(2, 2, 4, D)
    out = model.rollout(context, steps=3, grid_hw=(2, 2))
    assert out.shape == (2, 3, 4, D)
    first = model(context.reshape(2, 8, D), torch.arange(8), torch.arange(8, 12), (3, 2, 2))
    torch.testing.assert_close(out[:, 0], first)
    windowed = model.rollout(context, steps=5, grid_hw=(2, 2), window=2)
    assert windowed.shape == (2, 5, 4, D)
    assert torch.isfinite(windowed).all()


def test_chunked_rollout_is_the_training_forecast_then_feeds_it_back():
    """chunk=2 forecasts two steps jointly from the real context (exactly the training-shaped
    call), then forecasts the next two from its own forecast (window 2)."""
    model = scrambled(predictor())
    context = torch.randn(2, 2, 4, D)
    out = model.rollout(context, steps=4, grid_hw=(2, 2), window=2, chunk=2)
    assert out.shape == (2, 4, 4, D)
    index = torch.arange(16)
    joint = model(context.reshape(2, 8, D), index[:8], index[8:], GRID).view(2, 2, 4, D)
    torch.testing.assert_close(out[:, :2], joint)
    again = model(joint.reshape(2, 8, D), index[:8], index[8:], GRID).view(2, 2, 4, D)
    torch.testing.assert_close(out[:, 2:], again)
    # one step at a time differs from the joint forecast beyond the first step
    single = model.rollout(context, steps=2, grid_hw=(2, 2), window=2)
    torch.testing.assert_close(single[:, 0], joint[:, 0])
    assert not torch.allclose(single[:, 1], joint[:, 1])
    # an odd remainder is forecast as a shorter last chunk
    assert model.rollout(context, steps=3, grid_hw=(2, 2), window=2, chunk=2).shape[1] == 3
    with pytest.raises(ValueError, match="chunk"):
        model.rollout(context, steps=2, grid_hw=(2, 2), chunk=0)
    with pytest.raises(ValueError, match="smaller window or chunk"):
        model.rollout(context, steps=64, grid_hw=(2, 2), window=2, chunk=64)


def test_rollout_needs_a_window_beyond_max_frames():
    model = create_predictor(D, depth=1, pred_dim=16, num_heads=2, max_frames=3)
    with pytest.raises(ValueError, match="max_frames=3"):
        model.rollout(torch.randn(1, 2, 4, D), steps=2, grid_hw=(2, 2))
    assert model.rollout(torch.randn(1, 2, 4, D), steps=2, grid_hw=(2, 2), window=2).shape[1] == 2


def test_config_rebuilds_the_same_predictor():
    model = predictor(causal=False)
    rebuilt = create_predictor(**model.config)
    assert rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict(), strict=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(torch.randn(1, 2, D + 1), torch.arange(2), torch.arange(2, 4)), "D=32"),
        (lambda m: m(torch.randn(1, 2, D), torch.arange(3), torch.arange(3, 4)), "3 entries"),
        (lambda m: m(torch.randn(1, 2, D), torch.arange(2), torch.tensor([16])), "out of range"),
        (lambda m: m(torch.randn(1, 2, D), torch.arange(2), torch.tensor([3.0])), "integer"),
        (lambda m: m.rollout(torch.randn(1, 2, 5, D), 1, (2, 2)), "N = Hp\\*Wp = 4"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(predictor())


def test_invalid_construction():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        create_predictor(D, pred_dim=30, num_heads=4)
    with pytest.raises(ValueError, match="max_frames=2"):
        create_predictor(D, (3, 2, 2), max_frames=2)


def test_residual_predictor_starts_at_copy_last():
    """With a zero output head, a residual predictor returns the last context step's
    layer-normed tokens at each target's patch: forecasting starts from copy-last."""
    import torch
    import torch.nn.functional as F

    from jepa_world.models import create_predictor

    grid = (3, 2, 2)
    pred = create_predictor(16, grid, depth=1, pred_dim=16, num_heads=2, residual=True)
    torch.nn.init.zeros_(pred.output_proj.weight)
    torch.nn.init.zeros_(pred.output_proj.bias)
    context = torch.randn(2, 8, 16)  # time steps 0 and 1, 4 patches each
    out = pred(context, torch.arange(8), torch.arange(8, 12), grid)
    last = F.layer_norm(context[:, 4:8], (16,))
    assert torch.allclose(out, last, atol=1e-6)
    assert pred.config["residual"] is True


@pytest.mark.parametrize("horizon", [1, 2])
def test_teacher_forcing_targets_see_only_context_horizon_steps_earlier(horizon):
    """Teacher forcing: context at every step, targets at steps h..T'-1; changing the context
    at time 1 moves only targets at times >= 1 + h."""
    model = scrambled(predictor())
    steps, n = GRID[0], GRID[1] * GRID[2]
    context_index = torch.arange((steps - horizon) * n)
    target_index = torch.arange(horizon * n, steps * n)
    context = torch.randn(2, len(context_index), D)
    changed = context.clone()
    changed[:, n : 2 * n] = torch.randn(2, n, D)  # time 1
    before = model(context, context_index, target_index, GRID, horizon=horizon)
    after = model(changed, context_index, target_index, GRID, horizon=horizon)
    unaffected = target_index // n < 1 + horizon
    torch.testing.assert_close(before[:, unaffected], after[:, unaffected], rtol=0, atol=1e-6)
    assert (before[:, ~unaffected] - after[:, ~unaffected]).abs().amax(dim=-1).min() > 1e-2


def test_teacher_forcing_residual_starts_from_the_step_horizon_earlier():
    grid = (4, 1, 1)
    pred = create_predictor(16, grid, depth=1, pred_dim=16, num_heads=2, residual=True)
    torch.nn.init.zeros_(pred.output_proj.weight)
    torch.nn.init.zeros_(pred.output_proj.bias)
    context = torch.randn(2, 2, 16)  # times 0, 1
    out = pred(context, torch.arange(2), torch.arange(2, 4), grid, horizon=2)  # targets 2, 3
    torch.testing.assert_close(out, torch.nn.functional.layer_norm(context, (16,)))


def test_teacher_forcing_needs_a_causal_predictor():
    with pytest.raises(ValueError, match="causal"):
        predictor(causal=False)(torch.randn(1, 4, D), torch.arange(4), torch.arange(4, 8), GRID, 1)
    with pytest.raises(ValueError, match="horizon"):
        predictor()(torch.randn(1, 4, D), torch.arange(4), torch.arange(4, 8), GRID, horizon=0)

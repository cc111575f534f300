"""JEPA's causal (teacher-forcing) objective, checked on a tiny keypoint model directly."""

from __future__ import annotations

import pytest
import torch

from jepa_world.training import JEPA

KEYPOINTS = {"embed_dim": 16, "keypoints": 4, "width": 8, "depth": 0}


def causal_jepa(**overrides) -> JEPA:
    torch.manual_seed(0)
    kwargs = {
        "encoder": "cnn_keypoints",
        "encoder_kwargs": KEYPOINTS,
        "frames": 6,
        "img_size": 32,
        "predictor_depth": 1,
        "predictor_dim": 16,
        "predictor_heads": 2,
        "context_steps": 2,
        "objective": "causal",
        "horizons": (1, 2),
    }
    return JEPA(**{**kwargs, **overrides})


def test_causal_loss_trains_every_horizon_and_reaches_every_parameter():
    model = causal_jepa()
    video = torch.rand(2, 6, 3, 32, 32)
    loss, pred_loss, reg, target = model.compute_loss(video)
    assert torch.isfinite(loss) and reg == 0 and target.shape == (2, 6, 16)
    loss.backward()
    for name, param in model.named_parameters():
        if not name.startswith("target_encoder"):
            assert param.grad is not None, name
    tokens = model.encoder.forward_features(video)
    targets = model.target_tokens(video)
    expected = torch.stack(
        [
            (model.forecast_ahead(tokens, h) - targets[:, h:].flatten(1, 2)).abs().mean()
            for h in (1, 2)
        ]
    ).mean()
    torch.testing.assert_close(pred_loss, expected)
    assert model.forecast_ahead(tokens, 2).shape == (2, 4, 16)


def test_causal_forecast_of_a_step_ignores_its_frame_and_later_ones():
    model = causal_jepa().eval()
    video = torch.rand(1, 6, 3, 32, 32)
    changed = video.clone()
    changed[:, 3:] = torch.rand(1, 3, 3, 32, 32)
    for h in (1, 2):
        before = model.forecast_ahead(model.encoder.forward_features(video), h)
        after = model.forecast_ahead(model.encoder.forward_features(changed), h)
        # row r forecasts step r + h from steps <= r: rows 0..2 never see frames 3..5
        torch.testing.assert_close(before[:, :3], after[:, :3])
        assert not torch.allclose(before[:, 3:], after[:, 3:])


def test_causal_validation_compares_with_the_previous_step():
    model = causal_jepa().eval()
    video = torch.rand(2, 6, 3, 32, 32)
    pred_loss, copy_loss = model._evaluate(video)
    targets = model.target_tokens(video)
    expected = (targets[:, :-1] - targets[:, 1:]).abs().mean()
    torch.testing.assert_close(copy_loss, expected)
    assert torch.isfinite(pred_loss)


def test_export_metadata_names_the_objective_and_span():
    assert causal_jepa().export_metadata() == {
        "context_steps": 2,
        "objective": "causal",
        "forecast_span": 2,
    }
    window = causal_jepa(objective="window")
    assert window.export_metadata()["forecast_span"] == 6 - 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"encoder": "vit_micro", "encoder_kwargs": None}, "attends across time"),
        ({"predictor_causal": False}, "predictor_causal=True"),
        ({"tube_mask_prob": 0.5}, "tube_mask_prob=0"),
        ({"horizons": (6,)}, "horizons=\\[6\\]"),
        ({"horizons": ()}, "non-empty"),
        ({"objective": "future"}, "objective='future'"),
    ],
)
def test_bad_causal_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        causal_jepa(**overrides)

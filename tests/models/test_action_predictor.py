"""Action-conditioned predictors: shapes, causality, roll-out = teacher forcing on own output."""

from __future__ import annotations

import pytest
import torch

from jepa_world.models import ACTION_PREDICTORS, create_action_predictor

SMALL = {
    "mlp": {"kind": "mlp", "hidden": 32},
    "mlp_gated": {"kind": "mlp", "hidden": 32, "gated": True},
    "mlp_move_gate": {"kind": "mlp", "hidden": 32, "move_gate": True},
    "gru": {"kind": "gru", "hidden": 32},
    "transformer": {"kind": "transformer", "dim": 16, "depth": 1},
}
KINDS = sorted(SMALL)  # every kind, and every variant that changes the maths


def build(kind: str, latent_dim: int = 6, action_dim: int = 2, **kw):
    torch.manual_seed(0)
    predictor = create_action_predictor(
        latent_dim=latent_dim, action_dim=action_dim, **{**SMALL[kind], **kw}
    )
    for p in predictor.parameters():  # the output layer starts at zero: make it do something
        torch.nn.init.normal_(p, std=0.3)
    return predictor.eval()


def test_every_kind_is_checked():
    assert {v["kind"] for v in SMALL.values()} == set(ACTION_PREDICTORS)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_config_rebuild(kind):
    predictor = build(kind)
    z, a = torch.randn(3, 5, 6), torch.randn(3, 5, 2)
    assert predictor(z, a).shape == (3, 5, 6)
    assert predictor.rollout(z[:, 0], a).shape == (3, 5, 6)
    rebuilt = create_action_predictor(**predictor.config)
    rebuilt.load_state_dict(predictor.state_dict(), strict=True)
    assert torch.equal(rebuilt(z, a), predictor(z, a))


@pytest.mark.parametrize("kind", KINDS)
def test_untrained_predictor_copies_the_last_latent(kind):
    predictor = create_action_predictor(latent_dim=6, action_dim=2, **SMALL[kind])
    z0 = torch.randn(2, 6)
    out = predictor.rollout(z0, torch.randn(2, 4, 2))
    assert torch.equal(out, z0[:, None].expand(-1, 4, -1))


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_forcing_is_causal(kind):
    """Row t depends on z_{<=t} and a_{<=t} only: changing step 3 onwards leaves rows 0-2 alone."""
    predictor = build(kind)
    z, a = torch.randn(2, 6, 6), torch.randn(2, 6, 2)
    with torch.no_grad():
        before = predictor(z, a)
        z2, a2 = z.clone(), a.clone()
        z2[:, 3:] += 1.0
        a2[:, 3:] -= 1.0
        after = predictor(z2, a2)
    assert torch.allclose(before[:, :3], after[:, :3], atol=1e-6)
    assert not torch.allclose(before[:, 3:], after[:, 3:])


@pytest.mark.parametrize("kind", KINDS)
def test_rollout_feeds_its_own_predictions_back(kind):
    """Roll-out step t equals teacher forcing on [z0, predictions...] (same weights, same maths)."""
    predictor = build(kind)
    z0, a = torch.randn(2, 6), torch.randn(2, 4, 2)
    with torch.no_grad():
        rolled = predictor.rollout(z0, a)
        inputs = torch.cat([z0[:, None], rolled[:, :-1]], dim=1)
        forced = predictor(inputs, a)
    assert torch.allclose(rolled, forced, atol=1e-5)
    assert not torch.allclose(rolled[:, -1], z0)


@pytest.mark.parametrize("kind", KINDS)
def test_actions_matter(kind):
    predictor = build(kind)
    z0 = torch.randn(1, 6)
    with torch.no_grad():
        a = predictor.rollout(z0, torch.zeros(1, 3, 2))
        b = predictor.rollout(z0, torch.ones(1, 3, 2))
    assert not torch.allclose(a, b)


def test_transformer_slides_a_window_past_max_steps():
    predictor = build("transformer", max_steps=3)
    with torch.no_grad():
        out = predictor.rollout(torch.randn(2, 6), torch.randn(2, 7, 2))
    assert out.shape == (2, 7, 6) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="exceeds max_steps=3"):
        predictor(torch.randn(1, 4, 6), torch.randn(1, 4, 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p(torch.randn(2, 5, 7), torch.randn(2, 5, 2)), r"z must be \(B, T, D=6\)"),
        (lambda p: p(torch.randn(2, 5, 6), torch.randn(2, 4, 2)), r"actions must be \(B, T, A=2\)"),
        (lambda p: p.rollout(torch.randn(2, 5, 6), torch.randn(2, 3, 2)), r"z0 must be \(B, D=6\)"),
        (lambda p: p.rollout(torch.randn(2, 6), torch.randn(3, 3, 2)), r"actions must be \(B=2"),
        (lambda p: p.rollout(torch.randn(2, 6), torch.randn(2, 0, 2)), "at least one step"),
    ],
)
def test_bad_shapes_name_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call(build("mlp"))


def test_bad_kind_and_arguments():
    with pytest.raises(ValueError, match="unknown action predictor 'lstm'"):
        create_action_predictor("lstm", latent_dim=4, action_dim=2)
    with pytest.raises(TypeError, match="action predictor 'mlp'"):
        create_action_predictor("mlp", latent_dim=4, action_dim=2, dim=8)
    with pytest.raises(ValueError, match="latent_dim=0 is out of range"):
        create_action_predictor("mlp", latent_dim=0, action_dim=2)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        create_action_predictor("transformer", latent_dim=4, action_dim=2, dim=10, num_heads=4)


def test_gate_scales_the_change_of_the_plain_mlp():
    """Gated: z' = z + f * sigmoid(g), f and g the two halves of the same MLP's output."""
    gated = build("mlp_gated")
    z, a = torch.randn(3, 6), torch.randn(3, 2)
    with torch.no_grad():
        out = gated.net(torch.cat([z, a], dim=-1))
        change, gate = out[:, :6], out[:, 6:]
        assert torch.allclose(gated.step(z, a), z + change * torch.sigmoid(gate), atol=1e-6)
    with pytest.raises(ValueError, match="gated='yes' must be true or false"):
        create_action_predictor("mlp", latent_dim=6, action_dim=2, gated="yes")


def test_move_gate_moves_along_the_action_by_one_gated_fraction():
    """move_gate: z' = z + sigmoid(g) * tanh(J) a, J (D x A) and g the MLP's outputs; a still action
    changes nothing; the config records the option (older configs, without it, still build)."""
    predictor = build("mlp_move_gate")
    z, a = torch.randn(3, 6), torch.randn(3, 2)
    with torch.no_grad():
        out = predictor.net(torch.cat([z, a], dim=-1))
        jacobian, gate = torch.tanh(out[:, :12]).view(3, 6, 2), out[:, 12:]
        expected = z + torch.sigmoid(gate) * torch.einsum("bda,ba->bd", jacobian, a)
        assert torch.allclose(predictor.step(z, a), expected, atol=1e-6)
        assert torch.equal(predictor.step(z, torch.zeros(3, 2)), z)
    assert predictor.config["move_gate"] is True
    assert "move_gate" not in create_action_predictor(latent_dim=6, action_dim=2).config
    with pytest.raises(ValueError, match="move_gate=1 must be true or false"):
        create_action_predictor("mlp", latent_dim=6, action_dim=2, move_gate=1)
    with pytest.raises(ValueError, match="gated and move_gate are alternatives"):
        create_action_predictor("mlp", latent_dim=6, action_dim=2, gated=True, move_gate=True)

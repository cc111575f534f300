"""The refit stage: frozen encoder, fresh predictor, fresh training windows, module's own losses."""

from __future__ import annotations

import re

import pytest
import torch

from jepa_world.data.seeds import SEED_RANGES
from jepa_world.data.stream import stream_seeds
from jepa_world.training.refit import (
    check_refit_kwargs,
    encode_windows,
    refit_action_predictor,
    refit_seeds,
)
from jepa_world.worlds.two_rooms import TwoRoomsWalks

SMALL = {"windows": 48, "steps": 60, "batch_size": 8, "holdout": 8, "lr": 3e-3}


@pytest.fixture()
def world():
    return TwoRoomsWalks(frames=4, walk_length=8)


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_refit_trains_the_predictor_alone_and_lowers_its_loss(tiny_action_jepa, world):
    model = tiny_action_jepa()
    encoder_before = _state(model.encoder)
    predictor_before = _state(model.action_predictor)
    result = refit_action_predictor(model, world, **SMALL)
    for key, value in model.encoder.state_dict().items():
        assert torch.equal(value, encoder_before[key]), key
    after = model.action_predictor.state_dict()
    assert any(not torch.equal(after[k], predictor_before[k]) for k in after)
    assert result.updates == SMALL["steps"] and result.windows == SMALL["windows"]
    assert result.last_loss < result.first_loss
    assert set(result.heldout) == {"pred_loss", "rollout_loss"}
    assert all(torch.isfinite(torch.tensor(v)) for v in result.heldout.values())
    assert model.training  # the module's mode is restored
    metrics = result.metrics()
    assert metrics["refit/updates"] == SMALL["steps"] and "refit/heldout_pred_loss" in metrics


def test_refit_starts_from_scratch_so_the_old_predictor_does_not_matter(tiny_action_jepa, world):
    first, second = tiny_action_jepa(), tiny_action_jepa()
    with torch.no_grad():
        for p in second.action_predictor.parameters():
            p.add_(torch.randn_like(p))
    small = {**SMALL, "steps": 5}
    refit_action_predictor(first, world, **small)
    refit_action_predictor(second, world, **small)
    a, b = first.action_predictor.state_dict(), second.action_predictor.state_dict()
    for key in a:
        assert torch.allclose(a[key], b[key]), key


def test_refit_windows_are_training_seeds_the_stream_does_not_reach():
    seeds = refit_seeds(100)
    start, stop = SEED_RANGES["train"]
    assert seeds.min() >= start and seeds.max() == stop - 1 and len(set(seeds.tolist())) == 100
    early = stream_seeds(1000, 0, 1, 256)
    assert not set(early.tolist()) & set(seeds.tolist())


def test_encode_windows_matches_the_module_encoder(tiny_action_jepa, world):
    model = tiny_action_jepa()
    seeds = refit_seeds(5)
    z, a, mask = encode_windows(model, world, seeds, chunk=2)
    assert mask is None  # Two Rooms windows are one walk each
    batch = world.generate(seeds)
    expected = model.encode(torch.from_numpy(batch["video"]).float() / 255)
    assert z.shape == (5, 4, model.encoder.num_features) and a.shape == (5, 4, 2)
    assert torch.allclose(z, expected, atol=1e-5)
    assert torch.equal(a, torch.from_numpy(batch["actions"]))


@pytest.mark.parametrize(
    "refit, error, message",
    [
        ({"steps": 0}, ValueError, "steps=0"),
        ({"windows": 10, "holdout": 10}, ValueError, "holdout=10"),
        ({"lr": -1.0}, ValueError, "lr=-1.0"),
        ({"min_lr_ratio": 2}, ValueError, "min_lr_ratio=2"),
        ({"windws": 5}, ValueError, "unknown key(s) ['windws']"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ([1, 2], TypeError, "mapping"),
        ({"predictor_kwargs": [3]}, TypeError, "predictor_kwargs must be a mapping"),
        ({"rollout_steps": -1}, ValueError, "rollout_steps=-1"),
    ],
)
def test_bad_refit_config_is_named_before_training(tiny_action_jepa, refit, error, message):
    with pytest.raises(error, match=re.escape(message)):
        check_refit_kwargs(refit)
    with pytest.raises(error):
        tiny_action_jepa(refit=refit)


@pytest.mark.parametrize(
    "override, message",
    [({"dept": 3}, "dept"), ({"latent_dim": 4}, "latent_dim"), ({"kind": "lstm"}, "lstm")],
)
def test_a_bad_refit_predictor_is_named_when_the_module_is_built(
    tiny_action_jepa, override, message
):
    with pytest.raises(ValueError, match=message):
        tiny_action_jepa(refit={"predictor_kwargs": override})


def test_refit_predictor_kwargs_reshape_the_predictor(tiny_action_jepa, world):
    model = tiny_action_jepa()
    old = model.action_predictor
    refit_action_predictor(model, world, **SMALL, predictor_kwargs={"depth": 2, "hidden": 12})
    new = model.action_predictor
    assert new is not old
    assert {**old.config, "depth": 2, "hidden": 12} == new.config
    assert sum(p.numel() for p in new.parameters()) != sum(p.numel() for p in old.parameters())
    z = torch.randn(3, model.encoder.num_features)
    assert model.action_predictor.rollout(z, torch.zeros(3, 2, 2)).shape == (3, 2, z.shape[1])


def test_a_world_without_actions_is_named(tiny_action_jepa):
    from jepa_world.worlds.physics2d import Physics2D

    with pytest.raises(ValueError, match="no actions"):
        encode_windows(tiny_action_jepa(), Physics2D(frames=4), refit_seeds(2))


class _EpisodicWorld:
    """Clips that cross an episode start at frame 2 (as gym recordings do)."""

    frames = 4

    def generate(self, seeds):
        import numpy as np

        rng = np.random.default_rng(int(seeds[0]))
        n = len(seeds)
        start = np.zeros((n, 4), np.float32)
        start[:, 2] = 1.0
        return {
            "video": rng.integers(0, 256, (n, 4, 2, 65, 65), dtype=np.uint8),
            "actions": rng.normal(size=(n, 4, 2)).astype(np.float32),
            "state": {"episode_start": start},
        }


def test_episode_starts_are_masked_out_of_the_refit(tiny_action_jepa):
    model = tiny_action_jepa()
    _, _, mask = encode_windows(model, _EpisodicWorld(), refit_seeds(3))
    assert mask.tolist() == [[True, False, True]] * 3
    result = refit_action_predictor(
        model, _EpisodicWorld(), windows=6, steps=2, batch_size=2, holdout=2, crop=3
    )
    assert all(torch.isfinite(torch.tensor(v)) for v in result.heldout.values())


def test_a_crop_longer_than_the_windows_is_named_before_encoding(tiny_action_jepa, world):
    with pytest.raises(ValueError, match=r"crop=10 is out of range: allowed \[2, 4\]"):
        refit_action_predictor(tiny_action_jepa(), world, windows=4, holdout=1, crop=10)


def test_refit_rollout_steps_sets_the_refit_roll_out_alone(tiny_action_jepa, world):
    model = tiny_action_jepa()
    before = model.hparams.rollout_steps
    seen: list[int] = []
    inner = model._rollout_loss

    def spy(z, target, actions, mask, k):
        seen.append(k)
        return inner(z, target, actions, mask, k)

    model._rollout_loss = spy
    refit_action_predictor(model, world, **{**SMALL, "steps": 3}, rollout_steps=3, crop=4)
    assert set(seen) == {3} and len(seen) == 4  # 3 updates + the held-out score
    assert model.hparams.rollout_steps == before  # the module's own roll-out is untouched


def test_a_refit_roll_out_longer_than_the_windows_is_named(tiny_action_jepa, world):
    with pytest.raises(ValueError, match=r"rollout_steps=4 is out of range: allowed \[0, 3\]"):
        refit_action_predictor(tiny_action_jepa(), world, windows=4, holdout=1, rollout_steps=4)
    with pytest.raises(ValueError, match=r"crop=3 is out of range: allowed \[4, 4\]"):
        refit_action_predictor(
            tiny_action_jepa(), world, windows=4, holdout=1, rollout_steps=3, crop=3
        )

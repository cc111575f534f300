"""One model loader and one random-init builder for every suite kind."""

from __future__ import annotations

import pytest
import torch

from jepa_world.evaluation.models import load_model, random_init_world_model


def _states(*modules) -> list[dict[str, torch.Tensor]]:
    return [m.state_dict() for m in modules]


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_load_model_reads_an_export_folder_and_passes_models_through(tiny_model_dir):
    from jepa_world.hub import WorldModel

    loaded = load_model(tiny_model_dir)
    assert isinstance(loaded.model, WorldModel)
    assert loaded.name == tiny_model_dir.name
    assert loaded.config["path"] == str(tiny_model_dir)
    assert loaded.config["metadata"]["context_steps"] == 2
    again = load_model(loaded.model)
    assert again.model is loaded.model and again.name == "model"
    assert again.config["encoder"]["img_size"] == 64 and "predictor" in again.config
    assert "action_predictor" not in again.config
    other = object()
    assert load_model(other).model is other  # the kind decides what it can evaluate


def test_random_init_follows_the_seeded_construction_order(tiny_model_dir):
    """Encoder, then predictor, right after ``torch.manual_seed(seed)``: the baseline's weights
    depend on the seed and the configs only, and the global random state is left alone."""
    from jepa_world.models import create_encoder, create_predictor

    model = load_model(tiny_model_dir).model
    state = torch.random.get_rng_state()
    twin = random_init_world_model(model, 3)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(3)
    encoder = create_encoder(**model.encoder.config)
    predictor = create_predictor(**model.predictor.config)
    assert _equal(twin.encoder.encoder.state_dict(), encoder.state_dict())
    assert _equal(twin.predictor.state_dict(), predictor.state_dict())
    assert twin.context_encoder is twin.encoder and twin.action_predictor is None
    assert not any(p.requires_grad for p in twin.parameters())
    other = random_init_world_model(model, 4)
    assert not _equal(other.predictor.state_dict(), twin.predictor.state_dict())


def test_random_init_of_an_action_predictor(tiny_action_jepa, tmp_path):
    from jepa_world.hub import save_pretrained
    from jepa_world.models import create_action_predictor, create_encoder

    model = load_model(save_pretrained(tiny_action_jepa(), tmp_path / "export")).model
    twin = random_init_world_model(model, 1, "action_predictor")
    torch.manual_seed(1)
    encoder = create_encoder(**model.encoder.config)
    action = create_action_predictor(**model.action_predictor.config)
    assert _equal(twin.encoder.encoder.state_dict(), encoder.state_dict())
    assert _equal(twin.action_predictor.state_dict(), action.state_dict())
    assert twin.predictor is None
    with pytest.raises(TypeError, match="random_init needs a model with an encoder and a pred"):
        random_init_world_model(model, 1, "predictor")
    with pytest.raises(ValueError, match="part='decoder'"):
        random_init_world_model(model, 1, "decoder")

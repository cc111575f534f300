"""jepa-world exports through the protocol: the features load_encoder gives, bit for bit, and
the same physics report as before the protocol existed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.adapters import ExportAdapter, VideoFeatureModel, load_adapter
from jepa_world.hub import load_encoder, save_pretrained


def test_export_features_equal_load_encoder_bit_for_bit(tiny_model_dir, video):
    adapter = load_adapter(str(tiny_model_dir))
    assert isinstance(adapter, ExportAdapter) and isinstance(adapter, VideoFeatureModel)
    encoder = load_encoder(tiny_model_dir)
    features = adapter.features(video)
    assert torch.equal(features.tokens, encoder(video))
    assert torch.equal(features.pooled, encoder.embed(video))
    floats = torch.from_numpy(video).float() / 255
    assert torch.equal(adapter.features(floats).tokens, encoder(floats))
    info = adapter.info
    assert (info.frames_per_step, info.clip_frames, info.input_size) == (2, 8, None)
    assert info.context_steps == 2 and adapter.has_predictor


def test_export_twins_are_seeded_and_probe_views_are_native(tiny_model_dir, video):
    from jepa_world.evaluation.physics.model import ProbeModel, load_probe_model, random_init_like

    adapter = load_adapter(str(tiny_model_dir))
    a, b, c = adapter.random_init(0), adapter.random_init(0), adapter.random_init(1)
    assert torch.equal(a.features(video).tokens, b.features(video).tokens)
    assert not torch.equal(a.features(video).tokens, c.features(video).tokens)
    view = load_probe_model(adapter)
    assert isinstance(view, ProbeModel)  # its predictor is called the way it was trained
    twin = random_init_like(view, 0)
    assert torch.equal(twin.targets(video), a.targets(video))


def test_encoder_only_exports_are_probed_like_any_encoder(tmp_path, video):
    from jepa_world.evaluation.physics.model import AdapterProbeModel, load_probe_model
    from jepa_world.models import create_encoder

    torch.manual_seed(0)
    encoder = create_encoder(
        "vit_micro", img_size=64, patch_size=16, frames=8, embed_dim=32, depth=1, num_heads=2
    )
    path = save_pretrained(encoder, tmp_path / "encoder_only")
    view = load_probe_model(str(path))
    assert isinstance(view, AdapterProbeModel) and view.predictor is None
    assert view.targets(video).shape == (2, 4, 16, 32)


def test_report_through_the_protocol_equals_the_direct_probe_model(
    tiny_model_dir, tiny_physics_suite
):
    """The suite on the export folder (model string -> ExportAdapter -> probe view) gives the
    same metrics, bit for bit, as the probe model built straight from load_world_model."""
    from jepa_world.evaluation import run_suite
    from jepa_world.evaluation.physics.model import ProbeModel
    from jepa_world.hub import load_world_model

    suite = tiny_physics_suite(horizons=[1, 2])
    world = load_world_model(tiny_model_dir)
    direct = ProbeModel(
        world.encoder,
        world.context_encoder,
        world.predictor,
        {"path": str(tiny_model_dir)},
        context_steps=2,
    )
    via_string = run_suite(str(tiny_model_dir), suite)["metrics"]
    via_model = run_suite(direct, suite)["metrics"]
    assert via_string.keys() == via_model.keys()
    mismatched = [k for k in via_string if not np.array_equal(via_string[k], via_model[k])]
    assert not mismatched


@pytest.mark.parametrize("kind", ["path", "world_model"])
def test_exports_and_loaded_world_models_resolve_to_the_same_adapter(tiny_model_dir, kind, video):
    from jepa_world.hub import load_world_model

    model = str(tiny_model_dir) if kind == "path" else load_world_model(tiny_model_dir)
    adapter = load_adapter(model)
    assert torch.equal(adapter.features(video).tokens, load_encoder(tiny_model_dir)(video))

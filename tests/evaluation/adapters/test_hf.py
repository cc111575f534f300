"""HF transformers video models from tiny configs: V-JEPA 2 (with its predictor) and VideoMAE
(encoder-only), loaded from local folders only."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from jepa_world.evaluation.adapters import HFAdapter, load_adapter  # noqa: E402
from jepa_world.evaluation.adapters.protocol import has_predictor  # noqa: E402

TINY_VJEPA2 = {
    "crop_size": 32,
    "patch_size": 16,
    "frames_per_clip": 8,
    "tubelet_size": 2,
    "hidden_size": 32,
    "num_attention_heads": 2,
    "num_hidden_layers": 1,
    "pred_hidden_size": 32,
    "pred_num_attention_heads": 2,
    "pred_num_hidden_layers": 1,
    "num_pooler_layers": 1,
}


@pytest.fixture(scope="module")
def vjepa2_dir(tmp_path_factory):
    torch.manual_seed(123)  # not a twin's seed
    path = tmp_path_factory.mktemp("hf") / "vjepa2"
    transformers.VJEPA2Model(transformers.VJEPA2Config(**TINY_VJEPA2)).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def videomae_dir(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.VideoMAEConfig(
        image_size=32,
        patch_size=16,
        num_frames=8,
        tubelet_size=2,
        hidden_size=32,
        num_attention_heads=2,
        num_hidden_layers=1,
        intermediate_size=64,
    )
    path = tmp_path_factory.mktemp("hf") / "videomae"
    transformers.VideoMAEModel(config).save_pretrained(path)
    return path


def test_vjepa2_features_predictor_and_twins(vjepa2_dir, video):
    model = load_adapter(f"hf:{vjepa2_dir}")
    assert isinstance(model, HFAdapter) and has_predictor(model)
    info = model.info
    assert (info.frames_per_step, info.clip_frames, info.input_size) == (2, 8, (32, 32))
    out = model.features(video)
    assert out.tokens.shape == (2, 4, 4, 32) and out.pooled.shape == (2, 4, 32)
    assert torch.equal(out.tokens, model.features(video).tokens)
    forecast = model.predict(out.tokens[:, :2], 5)  # longer than one window: fed back
    assert forecast.shape == (2, 5, 4, 32) and torch.isfinite(forecast).all()
    assert torch.equal(forecast[:, :2], model.predict(out.tokens[:, :2], 2))
    twin, again = model.random_init(0), model.random_init(0)
    assert torch.equal(twin.features(video).tokens, again.features(video).tokens)
    assert not torch.equal(twin.features(video).tokens, out.tokens)
    assert has_predictor(twin)


def test_videomae_is_encoder_only(videomae_dir, video):
    from jepa_world.evaluation.physics.model import load_probe_model

    model = load_adapter(f"hf:{videomae_dir}")
    assert not has_predictor(model)
    assert model.features(video).tokens.shape == (2, 4, 4, 32)
    view = load_probe_model(model)
    assert view.predictor is None and view.window_steps == 4
    assert view.targets(video[:, :8]).shape == (2, 4, 4, 32)


def test_an_id_missing_from_the_cache_is_refused_without_a_download(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    with pytest.raises(ValueError, match="huggingface-cli download facebook/vjepa2-vitl-fpc64-256"):
        load_adapter("hf:facebook/vjepa2-vitl-fpc64-256")

"""timm image models per frame: shapes, determinism, seeded twins, no download."""

from __future__ import annotations

import pytest
import torch

from jepa_world.evaluation.adapters import TimmAdapter, load_adapter
from jepa_world.evaluation.adapters.timm_adapter import image_tokens


def test_resnet_features_per_frame_and_deterministic(video):
    model = load_adapter("timm:resnet18")
    assert isinstance(model, TimmAdapter)
    assert model.info.input_size is None  # a CNN takes the worlds' 64 px frames as they are
    assert model.info.frames_per_step == 1 and not model.info.mixes_time
    first = model.features(video)
    assert first.tokens.shape == (2, 8, 4, 512) and first.pooled.shape == (2, 8, 512)
    assert torch.equal(first.tokens, model.features(video).tokens)
    assert torch.equal(first.pooled, first.tokens.mean(2))
    assert "weights" in model.info.config and "random" in model.info.config["weights"]


def test_size_option_resizes_and_twins_are_seeded(video):
    model = load_adapter("timm:resnet18?size=96&frames=4")
    assert model.info.input_size == (96, 96) and model.info.clip_frames == 4
    assert model.features(video[:, :2]).tokens.shape == (2, 2, 9, 512)
    a, b, c = model.random_init(0), model.random_init(0), model.random_init(1)
    assert torch.equal(a.features(video[:, :2]).tokens, b.features(video[:, :2]).tokens)
    assert not torch.equal(a.features(video[:, :2]).tokens, c.features(video[:, :2]).tokens)
    assert a.info.name == "random_init[0]"


def test_local_weights_load_through_timms_overlay(tmp_path, video):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(3)
    source = timm.create_model("resnet18", pretrained=False, num_classes=0)
    path = tmp_path / "resnet18.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    model = load_adapter(f"timm:resnet18?file={path}")
    want = source.eval().forward_features(torch.from_numpy(video[0, :2]).float() / 255)
    assert model.info.config["weights"] == f"local file {path}"
    assert model.features(video).tokens.shape == (2, 8, 4, 512)
    mean = torch.tensor(model.info.mean).view(-1, 1, 1)
    std = torch.tensor(model.info.std).view(-1, 1, 1)
    x = (torch.from_numpy(video[0, :2]).float() / 255 - mean) / std
    got = model.model.forward_features(x)
    assert not torch.equal(got, want)  # normalisation applied by the adapter
    assert torch.allclose(
        model.features(video).tokens[0, :2], got.flatten(2).transpose(1, 2), atol=1e-5
    )


def test_vit_prefix_tokens_are_dropped():
    out = torch.zeros(2, 1 + 16, 8)
    assert image_tokens(out, 8, 1, "vit").shape == (2, 16, 8)
    assert image_tokens(torch.zeros(2, 8, 3, 3), 8, 0, "cnn").shape == (2, 9, 8)
    assert image_tokens(torch.zeros(2, 3, 3, 8), 8, 0, "nhwc").shape == (2, 9, 8)
    with pytest.raises(ValueError, match=r"odd: forward_features gave shape \(2, 5\)"):
        image_tokens(torch.zeros(2, 5), 8, 0, "odd")

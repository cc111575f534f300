"""torchvision video models (weights=None): shapes, temporal stride, determinism, twins."""

from __future__ import annotations

import numpy as np
import torch

from jepa_world.evaluation.adapters import TorchvisionAdapter, load_adapter


def test_r3d_tokens_per_temporal_step_and_seeded_twins():
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, size=(1, 16, 3, 64, 64), dtype=np.uint8)
    model = load_adapter("torchvision:r3d_18?size=32")
    assert isinstance(model, TorchvisionAdapter)
    assert model.info.frames_per_step == 8 and model.info.clip_frames == 16
    assert model.info.mixes_time and model.info.input_size == (32, 32)
    out = model.features(video)
    assert out.tokens.shape == (1, 2, 4, 512) and out.pooled.shape == (1, 2, 512)
    assert torch.equal(out.tokens, model.features(video).tokens)
    twin, again = model.random_init(0), model.random_init(0)
    assert torch.equal(twin.features(video).tokens, again.features(video).tokens)
    assert not torch.equal(twin.features(video).tokens, out.tokens)


def test_s3d_reads_its_crop_size_from_the_weights_entry():
    model = TorchvisionAdapter("s3d", size=None, frames=16)
    assert model.info.input_size == (224, 224)  # S3D's head needs its crop size
    small = TorchvisionAdapter("s3d", size=32, frames=16)
    video = torch.zeros(1, 16, 3, 64, 64)
    assert small.features(video).tokens.shape[:2] == (1, 16 // small.info.frames_per_step)

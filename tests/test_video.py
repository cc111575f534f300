"""Video conversion: uint8 or float in [0, 1]; float video in another range is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.video import RANGE_TOLERANCE, to_float_video


def test_uint8_is_scaled_and_float_in_range_passes_unchanged():
    video = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    assert torch.equal(to_float_video(video), video.float() / 255)
    floats = torch.rand(2, 3, 8, 8)
    assert torch.equal(to_float_video(floats), floats)
    overshoot = floats * (1 + RANGE_TOLERANCE) - RANGE_TOLERANCE / 2  # resampling ringing
    assert torch.equal(to_float_video(overshoot.numpy()), overshoot)


@pytest.mark.parametrize(
    ("video", "says"),
    [
        (np.random.default_rng(0).uniform(0, 255, (2, 3, 8, 8)), "divide it by 255"),
        (torch.randn(2, 3, 8, 8) * 2, "undo the normalisation"),
        (torch.full((2, 3, 8, 8), float("nan")), "NaN or inf"),
    ],
    ids=["0..255", "normalised", "nan"],
)
def test_float_video_out_of_range_is_refused_in_one_line(video, says):
    with pytest.raises(ValueError, match=r"float video must be in \[0, 1\]") as error:
        to_float_video(video)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_the_frozen_encoder_refuses_float_video_in_0_255(tmp_path):
    from jepa_world.hub import load_encoder, save_pretrained
    from jepa_world.models import create_encoder

    torch.manual_seed(0)
    encoder = create_encoder(
        "cnn_keypoints", img_size=32, frames=4, embed_dim=8, keypoints=4, width=8, depth=0
    )
    frozen = load_encoder(save_pretrained(encoder, tmp_path / "export"))
    video = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    assert torch.equal(frozen(video), frozen(video.float() / 255))
    with pytest.raises(ValueError, match=r"got values in \[0, 255\]: divide it by 255"):
        frozen(video.float())

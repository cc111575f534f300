"""The tracked-keypoint encoder: the prior keeps a keypoint on its object; a tiny JEPA fit on it
exports and reloads bit for bit."""

from __future__ import annotations

import pytest
import torch

from jepa_world.hub import load_world_model, save_pretrained
from jepa_world.models import create_encoder
from jepa_world.training import JEPA

TINY = {"img_size": 32, "frames": 4, "embed_dim": 16, "keypoints": 2, "width": 8, "depth": 0}


class _Maps(torch.nn.Module):
    """Stands in for the conv stack: fixed heat maps per frame ``(T, K, h, w)``."""

    def __init__(self, maps: torch.Tensor) -> None:
        super().__init__()
        self.maps = maps

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.maps.repeat(len(frames) // len(self.maps), 1, 1, 1)


def two_peaks(h: int = 16, w: int = 16) -> torch.Tensor:
    """Two frames, one map: peaks at cells (8, 3) and (8, 12); the left one is higher at frame 0,
    the right one at frame 1 (as when one heat map responds to two similar balls)."""
    maps = torch.zeros(2, 1, h, w)
    maps[0, 0, 8, 3], maps[0, 0, 8, 12] = 1.0, 0.9
    maps[1, 0, 8, 3], maps[1, 0, 8, 12] = 0.9, 1.0
    return maps


def test_the_prior_keeps_a_keypoint_on_its_object_where_a_plain_keypoint_jumps():
    torch.manual_seed(0)
    kwargs = {**TINY, "frames": 2, "keypoints": 1, "temperature": 0.03}
    plain = create_encoder("cnn_keypoints", **kwargs)
    tracked = create_encoder("tracked_keypoints", **kwargs, prior_width=0.25)
    xs = torch.linspace(-1, 1, 16)
    video = torch.zeros(1, 2, 3, 32, 32)
    for enc in (plain, tracked):
        enc.features = _Maps(two_peaks())
    jumped = plain.keypoint_features(video[0])[:, 0, 0]  # x at frames 0 and 1, frames alone
    torch.testing.assert_close(jumped, xs[[3, 12]], atol=0.1, rtol=0)
    _, xy = tracked.track(tracked.normalize(video))
    torch.testing.assert_close(xy[0, :, 0, 0], xs[[3, 3]], atol=0.1, rtol=0)


def test_unit_positions_are_heat_map_cell_centres_in_pixels():
    torch.manual_seed(0)
    enc = create_encoder("tracked_keypoints", **{**TINY, "frames": 2, "keypoints": 1})
    maps = torch.full((2, 1, 16, 16), -1e4)
    maps[:, 0, 5, 2] = 0.0  # row 5, column 2 of 16 cells over 32 px: pixel centre (5, 11)
    enc.features = _Maps(maps)
    positions = enc.unit_positions(torch.zeros(1, 2, 3, 32, 32))
    torch.testing.assert_close(positions[0, :, 0], torch.tensor([[5.0, 11.0], [5.0, 11.0]]))


def test_tokens_are_per_keypoint_and_never_see_later_frames():
    torch.manual_seed(0)
    enc = create_encoder("tracked_keypoints", **TINY).eval()
    assert enc.grid == (4, 1, 2)
    video = torch.rand(1, 4, 3, 32, 32)
    changed = video.clone()
    changed[:, 2:] = torch.rand(1, 2, 3, 32, 32)
    with torch.no_grad():
        a, b = enc(video), enc(changed)
    assert a.shape == (1, 4, 2, 16)
    assert torch.equal(a[:, :2], b[:, :2]) and not torch.equal(a[:, 2:], b[:, 2:])
    pooled = create_encoder("tracked_keypoints", **TINY, tokens="frame")
    assert pooled.grid == (4, 1, 1) and pooled(video).shape == (1, 4, 1, 16)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="prior_width"):
        create_encoder("tracked_keypoints", **TINY, prior_width=0.0)
    with pytest.raises(ValueError, match="tokens='pixels'"):
        create_encoder("tracked_keypoints", **TINY, tokens="pixels")


def test_tiny_fit_exports_and_reloads_bit_exact(tmp_path):
    torch.manual_seed(0)
    model = JEPA(
        encoder="tracked_keypoints",
        encoder_kwargs={k: v for k, v in TINY.items() if k not in ("img_size", "frames")},
        frames=4,
        img_size=32,
        predictor_depth=1,
        predictor_dim=16,
        predictor_heads=2,
        context_steps=2,
        objective="causal",
        horizons=(1, 2),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    video = torch.rand(2, 4, 3, 32, 32)
    for _ in range(3):
        loss = model.compute_loss(video)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    model.eval()
    world = load_world_model(save_pretrained(model, tmp_path / "export"))
    with torch.no_grad():
        assert torch.equal(world.encoder(video), model.target_encoder.forward_features(video))
        assert torch.equal(world.context_encoder(video), model.encoder.forward_features(video))
        tokens = model.encoder.forward_features(video[:, :2])
        expected = model.predictor.rollout(tokens, 2, (1, 2))
        assert torch.equal(world.predict(video[:, :2], steps=2), expected)

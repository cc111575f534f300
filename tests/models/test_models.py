"""Every encoder preset through the same checks (shapes, gradients, size, export, input errors)."""

from __future__ import annotations

import functools

import pytest
import torch

from jepa_world.hub import load_encoder, save_pretrained
from jepa_world.models import ENCODERS, VideoEncoder, create_encoder, list_encoders

# Parameter counts at in_chans=3 (independent of img_size and frames), as documented in
# jepa_world/models/registry.py.
PARAM_RANGES = {
    "vit_micro": (0.8e6, 0.9e6),
    "vit_tiny": (5.3e6, 5.5e6),
    "vit_small": (21.3e6, 21.6e6),
    "cnn_small": (0.2e6, 0.3e6),
    "cnn_keypoints": (0.015e6, 0.025e6),
    "tracked_keypoints": (0.005e6, 0.009e6),
}
SMALL = {"img_size": 32, "frames": 4}


def tiny(name: str, **kw) -> VideoEncoder:
    """The preset at 32x32, 4 frames, with depth cut to 1 for the ViTs."""
    overrides = {"depth": 1} if "depth" in ENCODERS[name] else {}
    torch.manual_seed(0)
    return create_encoder(name, **{**SMALL, **overrides, **kw})


def token_grid_hw(encoder: VideoEncoder) -> tuple[int, int]:
    """(Hp, Wp) per time step: the patch grid, or (1, K) for one token per keypoint."""
    if encoder.config.get("tokens") == "keypoints":
        return 1, encoder.config["keypoints"]
    side = 32 // encoder.patch_size
    return side, side


@functools.cache
def shared(name: str) -> VideoEncoder:
    """One tiny encoder per preset for the tests that only read it (building is the slow part)."""
    return tiny(name).eval()


def test_every_preset_has_a_documented_size():
    assert set(list_encoders()) == set(PARAM_RANGES)


@pytest.mark.parametrize("name", list_encoders())
def test_parameter_count_in_documented_range(name):
    low, high = PARAM_RANGES[name]
    with torch.device("meta"):  # count without paying for the weight initialisation
        count = sum(p.numel() for p in create_encoder(name).parameters())
    assert low <= count <= high, f"{name}: {count} parameters"


@pytest.mark.parametrize("name", list_encoders())
def test_output_shapes(name):
    encoder = shared(name)
    video = torch.rand(2, 4, 3, 32, 32)
    tokens = encoder.forward_features(video)
    t, hp, wp = encoder.grid
    assert encoder.grid == (4 // encoder.tubelet_size, *token_grid_hw(encoder))
    assert tokens.shape == (2, t, hp * wp, encoder.num_features)
    assert torch.equal(encoder(video), tokens)
    pooled = encoder.embed(video)
    assert pooled.shape == (2, t, encoder.num_features)
    torch.testing.assert_close(pooled, tokens.mean(dim=2))
    assert torch.isfinite(tokens).all()


@pytest.mark.parametrize("name", list_encoders())
def test_any_frame_count_multiple_of_tubelet(name):
    encoder = shared(name)
    tokens = encoder(torch.rand(1, 8, 3, 32, 32))  # trained with 4 frames, runs on 8
    assert tokens.shape[:2] == (1, 8 // encoder.tubelet_size)
    assert encoder.grid_for(8) == (8 // encoder.tubelet_size, *token_grid_hw(encoder))


@pytest.mark.parametrize("name", list_encoders())
def test_backward_gives_finite_gradients_for_every_parameter(name):
    encoder = tiny(name)
    encoder(torch.rand(2, 4, 3, 32, 32)).square().mean().backward()
    for param_name, param in encoder.named_parameters():
        assert param.grad is not None, f"{param_name} got no gradient"
        assert torch.isfinite(param.grad).all(), param_name
    assert any(p.grad.abs().sum() > 0 for p in encoder.parameters())


@pytest.mark.parametrize("name", list_encoders())
def test_config_rebuilds_the_same_architecture(name):
    encoder = tiny(name, in_chans=2, mean=[0.1, 0.2], std=0.5)
    rebuilt = create_encoder(**encoder.config)
    assert rebuilt.config == encoder.config
    assert rebuilt.config["name"] == name
    rebuilt.load_state_dict(encoder.state_dict(), strict=True)
    video = torch.rand(1, 4, 2, 32, 32)
    assert torch.equal(rebuilt(video), encoder(video))


@pytest.mark.parametrize("name", list_encoders())
def test_export_round_trip_is_bit_exact(name, tmp_path):
    encoder = shared(name)
    loaded = load_encoder(save_pretrained(encoder, tmp_path / name))
    video = torch.rand(2, 4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(video), encoder.forward_features(video))
        assert torch.equal(loaded.embed(video), encoder.embed(video))
    assert not loaded.training
    assert not any(p.requires_grad for p in loaded.parameters())


@pytest.mark.parametrize("name", list_encoders())
@pytest.mark.parametrize(
    "shape",
    [
        (1, 4, 1, 32, 32),  # wrong channels
        (1, 4, 3, 32, 16),  # wrong width
        (1, 4, 3, 16, 16),  # wrong size
        (1, 3, 3, 32, 32),  # frames not a multiple of the tubelet
        (4, 3, 32, 32),  # missing batch dim
    ],
)
def test_rejects_wrong_input_shapes(name, shape):
    encoder = shared(name)
    if len(shape) == 5 and shape[2:] == (3, 32, 32) and shape[1] % encoder.tubelet_size == 0:
        pytest.skip("any frame count is valid for an encoder with tubelet size 1")
    with pytest.raises(ValueError, match=r"C=3, H=W=32 and T a positive multiple of"):
        encoder(torch.rand(shape))


def test_rejects_integer_video():
    with pytest.raises(TypeError, match="float in \\[0, 1\\]"):
        tiny("cnn_small")(torch.zeros(1, 4, 3, 32, 32, dtype=torch.uint8))


def test_normalisation_uses_the_encoders_mean_and_std():
    encoder = tiny("vit_micro", mean=0.2, std=0.5)
    video = torch.rand(1, 4, 3, 32, 32)
    assert torch.equal(encoder.normalize(video), (video - 0.2) / 0.5)
    assert "mean" not in encoder.state_dict()  # rebuilt from config, not saved


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"img_size": 36}, "img_size=36 must be a multiple of patch_size=8"),
        ({"frames": 3}, "frames=3 must be a multiple of tubelet_size=2"),
        ({"mean": [0.5, 0.5]}, "one value per channel"),
        ({"std": 0.0}, "std must be > 0"),
        ({"num_heads": 5}, "divisible by num_heads=5"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        create_encoder("vit_micro", **kwargs)


def test_unknown_preset_and_argument():
    with pytest.raises(ValueError, match="unknown encoder 'vit_huge'"):
        create_encoder("vit_huge")
    with pytest.raises(TypeError, match="unknown argument"):
        create_encoder("cnn_small", depth=3)


@pytest.mark.parametrize("name", list_encoders())
def test_keep_selects_tokens_and_hides_later_frames(name):
    encoder = shared(name)
    video = torch.rand(2, 4, 3, 32, 32)
    n = encoder.num_patches
    steps = 4 // encoder.tubelet_size
    with torch.no_grad():
        full = encoder(video).flatten(1, 2)
        everything = encoder.forward_features(video, keep=torch.arange(steps * n))
        torch.testing.assert_close(everything, full, rtol=1e-5, atol=1e-5)
        first_step = torch.arange(n).expand(2, -1)  # per-sample indices
        context = encoder.forward_features(video, keep=first_step)
        assert torch.equal(encoder(video, keep=first_step), context)
        assert torch.equal(encoder.forward_masked(video, first_step), context)
        assert context.shape == (2, n, encoder.num_features)
        later_changed = video.clone()
        tub = encoder.tubelet_size
        later_changed[:, tub:] = torch.rand(2, 4 - tub, 3, 32, 32)  # frames after the first step
        assert torch.equal(encoder.forward_features(later_changed, keep=first_step), context)


@pytest.mark.parametrize("name", list_encoders())
def test_keep_hides_dropped_patches_when_the_encoder_drops_tokens(name):
    encoder = shared(name)
    if encoder.num_patches == 1:
        pytest.skip("one token per frame: there is no other patch to keep")
    video = torch.rand(1, 2, 3, 32, 32)
    keep = torch.arange(1, encoder.num_patches)  # everything but the top-left patch
    changed = video.clone()
    changed[..., : encoder.patch_size, : encoder.patch_size] = 0.0
    with torch.no_grad():
        same = torch.equal(
            encoder.forward_features(video, keep=keep), encoder.forward_features(changed, keep=keep)
        )
    assert same == encoder.drops_tokens  # the ViT drops tokens; CNN receptive fields overlap


def test_keep_rejects_bad_indices():
    encoder = shared("vit_micro")
    video = torch.rand(1, 4, 3, 32, 32)
    with pytest.raises(ValueError, match=r"indices in \[0, 31\]"):
        encoder.forward_features(video, keep=torch.tensor([32]))
    with pytest.raises(TypeError, match="integer"):
        encoder.forward_features(video, keep=torch.tensor([1.0]))


def test_keypoint_appearance_reads_colour_and_peak_where_the_map_points():
    """With ``appearance`` each keypoint reports the colour under its softmax and its peak
    weight: a one-hot map on a pixel of the (pooled) frame returns that pixel's colour."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    enc = create_encoder(
        "cnn_keypoints",
        img_size=32,
        frames=2,
        embed_dim=16,
        keypoints=2,
        width=8,
        depth=0,
        appearance=True,
    )
    frames = torch.rand(3, 3, 32, 32)
    weights = enc._softmax(enc.features(frames))
    h, w = weights.shape[-2:]
    one_hot = torch.zeros_like(weights)
    one_hot[:, 0, 2, 5] = 1.0
    one_hot[:, 1] = 1.0 / (h * w)
    enc._softmax = lambda _maps, warmer=1.0: one_hot
    feats = enc.keypoint_features(frames)
    assert feats.shape == (3, 2, 2 + 1 + 3)
    pooled = F.adaptive_avg_pool2d(frames, (h, w))
    torch.testing.assert_close(feats[:, 0, 3:], pooled[:, :, 2, 5])
    torch.testing.assert_close(feats[:, 1, 3:], pooled.mean(dim=(2, 3)))
    torch.testing.assert_close(feats[:, :, 2], torch.tensor([[1.0, 1.0 / (h * w)]]).expand(3, 2))
    xs = torch.linspace(-1, 1, w)
    torch.testing.assert_close(feats[:, 0, 0], xs[5].expand(3))
    assert enc.config["appearance"] is True
    assert create_encoder(**enc.config).head.in_features == 2 * 6


class _FixedMaps(torch.nn.Module):
    """Stands in for a keypoint CNN's conv stack: the same heat maps for any frames."""

    def __init__(self, maps: torch.Tensor) -> None:
        super().__init__()
        self.maps = maps

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.maps.expand(len(frames), -1, -1, -1)


def test_keypoint_soft_readout_interpolates_between_heat_map_cells():
    """A sharp softmax snaps a keypoint to the heat-map grid; ``soft_readout`` also reports
    (x, y) under a warmer softmax of the same map, which moves smoothly with a sub-cell shift."""
    torch.manual_seed(0)
    kwargs = dict(img_size=32, frames=2, embed_dim=16, keypoints=1, width=8, depth=0)
    enc = create_encoder("cnn_keypoints", temperature=0.01, soft_readout=100.0, **kwargs)
    assert enc.config["soft_readout"] == 100.0
    assert enc.head.in_features == 4
    assert create_encoder("cnn_keypoints", **kwargs).config["soft_readout"] is None
    h = w = 16
    grid = torch.linspace(-1, 1, w)
    step = float(grid[1] - grid[0])
    xs, ys = [], []
    for shift in (0.0, 0.25, 0.5):
        centre = float(grid[8]) + shift * step
        bump = -((grid.view(1, w) - centre) ** 2 + grid.view(h, 1) ** 2) / step**2
        enc.features = _FixedMaps(bump.expand(1, 1, h, w))
        feats = enc.keypoint_features(torch.zeros(1, 3, 32, 32))
        xs.append(feats[0, 0, 0])
        ys.append(feats[0, 0, 2])
    # the sharp read-out stays on a cell for a quarter-cell shift; the soft one follows it
    torch.testing.assert_close(xs[1], xs[0], atol=1e-3 * step, rtol=0)
    assert ys[0] < ys[1] < ys[2]
    assert abs(float(ys[1] - ys[0]) - 0.25 * step) < 0.05 * step
    with pytest.raises(ValueError, match="soft_readout"):
        create_encoder("cnn_keypoints", soft_readout=0.5, **kwargs)

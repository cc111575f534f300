"""The probe's view of a model: windows, roll-out, random-init twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.probing.model import load_probe_model, random_init_like, tile_windows


def test_tile_windows():
    assert tile_windows(8, 4) == [(0, 0), (4, 4)]
    assert tile_windows(10, 4) == [(0, 0), (4, 4), (6, 8)]  # last window aligned to the end
    assert tile_windows(3, 4) == [(0, 0)]
    with pytest.raises(ValueError):
        tile_windows(0, 4)


def test_probe_model_reads_the_export(tiny_probe_model, tiny_model_dir):
    m = tiny_probe_model
    assert (m.tubelet, m.window_steps, m.num_patches, m.context_steps) == (2, 4, 16, 2)
    assert m.notes["context_steps_source"] == "config.json metadata"
    assert load_probe_model(tiny_model_dir, context_steps=1).context_steps == 1
    with pytest.raises(ValueError, match="context_steps=4 is out of range"):
        load_probe_model(tiny_model_dir, context_steps=4)
    with pytest.raises(TypeError, match="export folder path"):
        load_probe_model(42)


def test_targets_are_windowed_and_layer_normed(tiny_probe_model):
    m = tiny_probe_model
    video = np.random.default_rng(0).integers(0, 256, size=(2, 12, 3, 64, 64), dtype=np.uint8)
    tokens = m.targets(video)  # 6 steps: windows [0, 4) and [2, 6) (steps 4, 5 from the 2nd)
    assert tokens.shape == (2, 6, 16, 32)
    torch.testing.assert_close(tokens.mean(-1), torch.zeros(2, 6, 16), atol=1e-5, rtol=0)
    windows = m.window_targets(video, [0, 2])
    torch.testing.assert_close(tokens[:, :4], windows[:, 0])
    torch.testing.assert_close(tokens[:, 4:], windows[:, 1, 2:])


def test_random_init_twins_differ_and_keep_the_rng(tiny_probe_model):
    state = torch.random.get_rng_state()
    a, b = random_init_like(tiny_probe_model, 0), random_init_like(tiny_probe_model, 1)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = random_init_like(tiny_probe_model, 0)
    w = "patch_embed.weight"
    assert torch.equal(a.encoder.state_dict()[w], again.encoder.state_dict()[w])
    assert not torch.equal(a.encoder.state_dict()[w], b.encoder.state_dict()[w])
    assert a.encoder.config == tiny_probe_model.encoder.config
    assert a.context_encoder is a.encoder  # an EMA target equals its online encoder at init


def test_probe_model_from_a_loaded_world_model(tiny_model_dir):
    from jepa_world.hub import load_world_model

    m = load_probe_model(load_world_model(tiny_model_dir))
    # a loaded WorldModel carries no export metadata: half the training window (4 steps)
    assert m.context_steps == 2 and "default" in m.notes["context_steps_source"]
    assert m.config["encoder"]["img_size"] == 64

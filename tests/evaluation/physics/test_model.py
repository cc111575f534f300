"""The probe's view of a model: windows, roll-out, random-init twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_world.evaluation.physics.model import load_probe_model, random_init_like, tile_windows


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


def test_causal_export_metadata_is_read(tiny_causal_model, tiny_probe_model):
    m = tiny_causal_model
    assert (m.objective, m.forecast_span, m.mixes_time) == ("causal", 2, False)
    assert (tiny_probe_model.objective, tiny_probe_model.forecast_span) == ("window", None)
    assert tiny_probe_model.mixes_time  # a ViT attends across time
    twin = random_init_like(m, 0)
    assert (twin.objective, twin.forecast_span) == ("causal", 2)


def test_bad_objective_metadata_is_named(tiny_causal_dir, tmp_path):
    import json
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny_causal_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["metadata"]["objective"] = "future"
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="metadata.objective='future'"):
        load_probe_model(copy)


def test_next_step_forecasts_see_only_the_past_and_slide_past_the_window(
    tiny_causal_model, tiny_probe_model
):
    m = tiny_causal_model  # 8-frame window, one step per frame
    video = np.random.default_rng(0).integers(0, 256, size=(2, 12, 3, 64, 64), dtype=np.uint8)
    pred, target = m.next_step_forecasts(video)
    assert pred.shape == target.shape == (2, 12, 1, 16)
    assert torch.isnan(pred[:, 0]).all() and torch.isfinite(pred[:, 1:]).all()
    changed = video.copy()
    changed[:, 5:] = 255 - changed[:, 5:]
    after, _ = m.next_step_forecasts(changed)
    torch.testing.assert_close(pred[:, 1:6], after[:, 1:6])  # steps <= 5 see frames < 5 only
    assert not torch.allclose(pred[:, 6:], after[:, 6:])
    # step 10 is the last step of the 8-step window starting at step 3
    window, _ = m.next_step_forecasts(video[:, 3:11])
    torch.testing.assert_close(pred[:, 10], window[:, 7])
    with pytest.raises(ValueError, match="do not mix time steps"):  # a ViT attends across time
        tiny_probe_model.next_step_forecasts(video[:, :8])

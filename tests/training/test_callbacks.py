"""Training callbacks: the held-out linear read-out behind the online probes."""

from __future__ import annotations

import math

import pytest
import torch

from jepa_world.training import callbacks
from jepa_world.training.callbacks import CollapseMonitor, heldout_r2


def test_heldout_r2_of_a_linear_label_is_one_and_of_noise_is_low():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 5, 6, generator=gen)
    y = x @ torch.randn(6, 2, generator=gen)
    assert heldout_r2(x, y) == pytest.approx(1.0, abs=1e-3)
    noise = torch.randn(40, 5, 2, generator=gen)
    assert heldout_r2(x, noise) < 0.2


def test_heldout_r2_scores_clips_it_never_fit_on():
    """Labels that differ only in the scored half change the score, never the fit."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, 4, generator=gen)
    y = x @ torch.randn(4, 1, generator=gen)
    shifted = y.clone()
    shifted[4:] += torch.randn(4, 3, 1, generator=gen)
    assert heldout_r2(x, shifted) < heldout_r2(x, y)


def test_heldout_r2_of_a_diverged_model_is_nan():
    x = torch.full((8, 3, 4), float("nan"))
    assert math.isnan(heldout_r2(x, torch.randn(8, 3, 2)))


def test_callbacks_use_the_one_ridge_and_r2_of_the_probes():
    assert not hasattr(callbacks, "ridge_fit_predict") and not hasattr(callbacks, "r2_score")


def test_collapse_monitor_warns_then_stops():
    class Trainer:
        global_step = 30
        should_stop = False
        is_global_zero = True

    class Module:
        last_target_std = 0.01

    monitor = CollapseMonitor(threshold=0.05, patience=2, warmup_steps=0)
    trainer = Trainer()
    with pytest.warns(UserWarning, match="collapsing"):
        monitor.on_train_batch_end(trainer, Module(), None, None, 0)
    assert not trainer.should_stop
    monitor.on_train_batch_end(trainer, Module(), None, None, 1)
    assert trainer.should_stop and "collapse" in monitor.stopped_message
    with pytest.raises(ValueError, match="threshold"):
        CollapseMonitor(threshold=0.0)


def test_collapse_monitor_count_survives_a_resume():
    class Trainer:
        global_step = 30
        should_stop = False
        is_global_zero = True

    class Module:
        last_target_std = 0.01

    first = CollapseMonitor(threshold=0.05, patience=2, warmup_steps=0)
    with pytest.warns(UserWarning, match="collapsing"):
        first.on_train_batch_end(Trainer(), Module(), None, None, 0)
    resumed = CollapseMonitor(threshold=0.05, patience=2, warmup_steps=0)
    resumed.load_state_dict(first.state_dict())
    trainer = Trainer()
    resumed.on_train_batch_end(trainer, Module(), None, None, 1)  # no second warning
    assert trainer.should_stop

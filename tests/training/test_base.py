"""The base task: one training step, finite-loss check, logging, predict and optimiser for all."""

from __future__ import annotations

import pytest
import torch

from jepa_world.training import JEPA, ActionJEPA
from jepa_world.training.base import BaseTask, StepLoss

TASKS = {
    "JEPA": lambda: JEPA(
        encoder="cnn_keypoints",
        encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0},
        frames=4,
        img_size=32,
        predictor_depth=1,
        predictor_dim=8,
        predictor_heads=2,
        context_steps=1,
        objective="causal",
        horizons=(1,),
    ),
    "ActionJEPA": lambda: ActionJEPA(
        encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0},
        predictor_kwargs={"hidden": 16, "depth": 1},
        frames=4,
        rollout_steps=1,
        idm_hidden=8,
    ),
}


@pytest.mark.parametrize("name", TASKS)
def test_every_task_shares_the_base_training_step_and_outputs(name):
    cls = type(TASKS[name]())
    shared = ("training_step", "check_finite", "log_step", "predict_step", "configure_optimizers")
    for method in shared:
        assert getattr(cls, method) is getattr(BaseTask, method), method


@pytest.mark.parametrize("name", TASKS)
def test_non_finite_loss_is_stopped_by_the_shared_check(name, monkeypatch):
    torch.manual_seed(0)
    model = TASKS[name]()
    nan = StepLoss(torch.tensor(float("nan")), {}, torch.zeros(2, 3), 2)
    monkeypatch.setattr(model, "training_loss", lambda batch: nan)
    with pytest.raises(FloatingPointError, match=r"non-finite training loss \(nan\) at step 0"):
        model.training_step({}, 0)
    with pytest.raises(FloatingPointError, match="inf"):
        model.check_finite(torch.tensor(float("inf")))
    model.check_finite(torch.tensor(1.0))


@pytest.mark.parametrize("name", TASKS)
def test_predict_returns_target_encoder_embeddings_of_uint8_video(name):
    torch.manual_seed(0)
    model = TASKS[name]().eval()
    chans, size = model.hparams.in_chans, model.hparams.img_size
    video = torch.randint(0, 256, (2, 4, chans, size, size), dtype=torch.uint8)
    with torch.no_grad():
        out = model.predict_step({"video": video}, 0)
        expected = model.embedding_encoder.embed(video.float() / 255.0)
    assert torch.equal(out, expected)


def test_embedding_encoder_is_the_ema_target_when_there_is_one():
    torch.manual_seed(0)
    ema = TASKS["JEPA"]()
    assert ema.embedding_encoder is ema.target_encoder is not None
    online = TASKS["ActionJEPA"]()
    assert online.target_encoder is None and online.embedding_encoder is online.encoder


@pytest.mark.parametrize("name", TASKS)
def test_optimiser_leaves_norms_biases_and_embeddings_undecayed(name):
    torch.manual_seed(0)
    model = TASKS[name]()
    optimizer = model.configure_optimizers()["optimizer"]
    decay, no_decay = optimizer.param_groups
    assert decay["apply_wd"] and not no_decay["apply_wd"] and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    for param in no_decay["params"]:
        name_ = names[id(param)]
        assert (
            param.ndim <= 1
            or name_.endswith(".bias")
            or any(key in name_ for key in model.NO_DECAY_KEYS)
        ), name_
    assert all(p.ndim > 1 for p in decay["params"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(decay["params"]) + len(no_decay["params"]) == len(trainable)


def test_ema_update_moves_the_target_toward_the_encoder():
    torch.manual_seed(0)
    model = TASKS["JEPA"]()
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.target_encoder.parameters()]
    model.update_target(0.75)
    for old, new, online in zip(
        before, model.target_encoder.parameters(), model.encoder.parameters(), strict=True
    ):
        torch.testing.assert_close(new, 0.75 * old + 0.25 * online)


def test_checkpoint_records_the_task_class():
    checkpoint: dict = {}
    TASKS["ActionJEPA"]().on_save_checkpoint(checkpoint)
    assert checkpoint["jepa_world_class"] == "jepa_world.training.action_jepa.ActionJEPA"

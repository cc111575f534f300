"""Test-wide settings: no wandb network or account, few threads (CI has 2 cores)."""

from __future__ import annotations

import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)

RECIPE_DIR = os.path.join(os.path.dirname(__file__), "..", "recipes")
# The recipes end fit with their probe suite; tiny runs get a state + roll-out suite sized for them.
TINY_SUITE = os.path.join(os.path.dirname(__file__), "tiny_suite.yaml")

# A model and data small enough that a few training steps take about a second.
TINY_ARGS = [
    "--trainer.accelerator=cpu",
    "--trainer.enable_progress_bar=false",
    "--trainer.val_check_interval=2",
    "--trainer.limit_val_batches=1",
    "--trainer.log_every_n_steps=1",
    # the quickstart's design (causal keypoint model), shrunk
    '--model.init_args.encoder_kwargs={"embed_dim": 16, "keypoints": 4, "width": 8, "depth": 0}',
    "--model.init_args.predictor_depth=1",
    "--model.init_args.predictor_dim=16",
    "--model.init_args.predictor_heads=2",
    "--model.init_args.context_steps=1",
    "--model.init_args.horizons=[1, 2]",
    "--model.init_args.warmup_steps=1",
    "--data.class_path=jepa_world.data.WorldDataModule",
    "--data.init_args.world=physics2d",
    '--data.init_args.world_params={"frames": 4, "size": 32}',
    "--data.init_args.batch_size=4",
    "--data.init_args.val_clips=4",
    "--data.init_args.num_workers=0",
    f"--trainer.callbacks.suite={TINY_SUITE}",  # the recipe's last callback: ProbeSuite
]


@pytest.fixture(scope="session")
def tiny_args() -> tuple[str, ...]:
    return tuple(TINY_ARGS)


@pytest.fixture(autouse=True)
def _finish_wandb_run():
    """Each test gets its own (disabled) wandb run instead of reusing the previous one."""
    yield
    import sys

    if "wandb" in sys.modules:
        sys.modules["wandb"].finish()


@pytest.fixture(scope="session")
def tiny_action_jepa():
    """Factory of seeded tiny ActionJEPAs on 4-frame 65x65 Two Rooms clips (overrides by kwarg)."""

    def make(**overrides):
        from jepa_world.training import ActionJEPA

        torch.manual_seed(0)
        kwargs = {
            "encoder_kwargs": {"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0},
            "predictor_kwargs": {"hidden": 16, "depth": 1},
            "frames": 4,
            "rollout_steps": 1,
            "idm_hidden": 8,
        }
        return ActionJEPA(**{**kwargs, **overrides})

    return make

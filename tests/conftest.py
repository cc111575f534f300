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


@pytest.fixture(scope="session")
def tiny_world_model():
    """Factory of tiny ViT world models (8 frames of 64 px, 16 px patches, depth 1; ``dim``
    channels): a 4 x 4 x 4 token grid, so every forward pass takes milliseconds."""

    def make(dim: int = 32) -> torch.nn.Module:
        from jepa_world.models import create_encoder, create_predictor

        model = torch.nn.Module()
        model.encoder = create_encoder(
            "vit_micro", img_size=64, patch_size=16, frames=8, embed_dim=dim, depth=1, num_heads=2
        )
        model.predictor = create_predictor(
            dim, model.encoder.grid, depth=1, num_heads=2, pred_dim=dim
        )
        return model

    return make


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_world_model):
    """A seeded tiny world model (:func:`tiny_world_model`), exported with 2 context steps."""
    from jepa_world.hub import save_pretrained

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "model"
    return save_pretrained(tiny_world_model(), path, metadata={"context_steps": 2})


@pytest.fixture(scope="session")
def tiny_physics_suite():
    """Factory of a tiny physics suite: the state probe on 8 / 4 / 4 clips, the roll-out probe
    at ``horizons`` (None: no roll-out probe) and, with ``baselines``, random-init and pixels."""

    def make(horizons: list[int] | None = None, baselines: bool = True) -> dict:
        probes: dict = {
            "state": {
                "world_params": {"occluders": [0, 0]},
                "train": {"seed_start": 3_000_000_000, "clips": 8},
                "val": {"seed_start": 3_001_000_000, "clips": 4},
                "test": {"seed_start": 3_002_000_000, "clips": 4},
            }
        }
        if horizons is not None:
            probes["rollout"] = {
                "test": {"seed_start": 3_003_000_000, "clips": 4},
                "horizons": list(horizons),
            }
        suite = {
            "kind": "physics",
            "name": "tiny",
            "batch_size": 8,
            "bootstrap": {"resamples": 10, "seed": 0},
            "probes": probes,
        }
        if baselines:
            suite["baselines"] = {
                "random_init": {"seeds": [0, 1, 2, 3, 4]},
                "pixels": {"size": 8},
            }
        return suite

    return make

"""Every shipped recipe parses and builds; the GPU and multi-node recipes train 2 steps on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jepa_world.cli import build_cli

ROOT = Path(__file__).parents[2]
RECIPES = sorted(ROOT.joinpath("recipes").glob("*.yaml"))
SCALE_OUT = ["physics2d_gpu.yaml", "physics2d_ddp.yaml"]
CPU_SIZE = [
    "--trainer.accelerator=cpu",
    "--trainer.devices=1",
    "--trainer.num_nodes=1",
    "--trainer.strategy=auto",
    "--trainer.enable_progress_bar=false",
    "--trainer.max_steps=2",
    "--trainer.val_check_interval=2",
    "--trainer.limit_val_batches=1",
    '--model.init_args.encoder_kwargs={"embed_dim": 48, "depth": 1, "num_heads": 2}',
    "--model.init_args.predictor_depth=1",
    "--model.init_args.predictor_dim=32",
    "--model.init_args.predictor_heads=2",
    '--data.init_args.world_params={"frames": 16, "size": 32}',
    "--data.init_args.batch_size=2",
    "--data.init_args.val_clips=2",
    "--data.init_args.num_workers=0",
    f"--trainer.callbacks.suite={ROOT / 'tests' / 'tiny_suite.yaml'}",
]


def test_recipes_ship_inside_the_package():
    from importlib import resources

    packaged = {p.name for p in Path(str(resources.files("jepa_world") / "recipes")).glob("*.yaml")}
    assert {p.name for p in RECIPES} == packaged and "quickstart.yaml" in packaged


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_parses_and_builds(recipe, tmp_path):
    on_this_machine = CPU_SIZE[:4]  # GPU / multi-node recipes are built on CPU, one process
    args = [f"--config={recipe}", f"--trainer.default_root_dir={tmp_path}", *on_this_machine]
    cli = build_cli(args, run=False)
    assert cli.model is not None and cli.datamodule is not None
    assert cli.trainer.max_steps > 0


@pytest.mark.parametrize("recipe", SCALE_OUT)
def test_scale_out_recipe_trains_two_steps_on_cpu(recipe, tmp_path):
    path = ROOT / "recipes" / recipe
    cli = build_cli(
        ["fit", f"--config={path}", f"--trainer.default_root_dir={tmp_path}", *CPU_SIZE]
    )
    assert cli.trainer.global_step == 2
    assert (tmp_path / "encoder" / "model.safetensors").is_file()


def test_ddp_two_cpu_processes_draw_different_clips(tmp_path):
    """The multi-node recipe with DDP (gloo) on 2 CPU processes: ranks see disjoint clips."""
    recipe = ROOT / "recipes" / "physics2d_ddp.yaml"
    args = [
        sys.executable,
        "-m",
        "jepa_world.cli",
        "fit",
        f"--config={recipe}",
        f"--trainer.default_root_dir={tmp_path}",
        *CPU_SIZE,
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--trainer.precision=32-true",
        "--trainer.max_steps=3",
        "--trainer.callbacks+=jepa_world.training.callbacks.ClipLedger",
    ]
    env = dict(os.environ, WANDB_MODE="disabled", OMP_NUM_THREADS="1")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / "clips" / f"rank{r}.json").read_text()) for r in (0, 1)]
    seeds = [set(r["seeds"]) for r in ranks]
    assert len(seeds[0]) == len(seeds[1]) == 3 * 2
    assert not seeds[0] & seeds[1]


def test_keypoint_recipe_trains_exports_and_probes(tmp_path):
    """physics2d_keypoints: the JEPA with a one-token-per-frame keypoint encoder trains, exports
    an encoder `load_encoder` reads, and ends with the probe suite's state and roll-out keys."""
    from jepa_world.hub import load_encoder

    path = ROOT / "recipes" / "physics2d_keypoints.yaml"
    tiny = [
        "--trainer.accelerator=cpu",
        "--trainer.enable_progress_bar=false",
        "--trainer.max_steps=2",
        "--trainer.val_check_interval=2",
        "--trainer.limit_val_batches=1",
        '--model.init_args.encoder_kwargs={"embed_dim": 16, "keypoints": 4, "depth": 0}',
        "--model.init_args.predictor_depth=1",
        "--model.init_args.predictor_dim=16",
        "--model.init_args.predictor_heads=2",
        "--model.init_args.context_steps=2",
        '--data.init_args.world_params={"frames": 4, "size": 32}',
        "--data.init_args.batch_size=2",
        "--data.init_args.val_clips=2",
        "--data.init_args.num_workers=0",
        f"--trainer.callbacks.suite={ROOT / 'tests' / 'tiny_suite.yaml'}",
    ]
    cli = build_cli(["fit", f"--config={path}", f"--trainer.default_root_dir={tmp_path}", *tiny])
    assert cli.trainer.global_step == 2
    encoder = load_encoder(tmp_path / "encoder")
    assert encoder.config["name"] == "cnn_keypoints" and encoder.grid == (4, 1, 1)
    report = json.loads((tmp_path / "probe" / "report.json").read_text())
    for key in ("state/position_r2", "state/velocity_r2", "rollout/latent_err@1"):
        assert key in report["metrics"]

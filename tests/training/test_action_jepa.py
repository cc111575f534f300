"""ActionJEPA: losses, masking, errors, and end-to-end training through the CLI (Two Rooms, gym)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from jepa_world.cli import build_cli
from jepa_world.hub import ACTION_PREDICTOR_NAME, load_world_model
from jepa_world.training import ActionJEPA
from jepa_world.training.action_jepa import masked_mean, transition_mask

RECIPES = Path(__file__).parents[2] / "recipes"
TINY_TWO_ROOMS = [
    "--trainer.accelerator=cpu",
    "--trainer.enable_progress_bar=false",
    "--trainer.val_check_interval=2",
    "--trainer.limit_val_batches=1",
    "--trainer.log_every_n_steps=1",
    '--model.init_args.encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0}',
    '--model.init_args.predictor_kwargs={"hidden": 16, "depth": 1}',
    "--model.init_args.idm_hidden=16",
    "--model.init_args.rollout_steps=2",
    "--model.init_args.warmup_steps=1",
    '--data.init_args.world_params={"frames": 4}',
    "--data.init_args.batch_size=4",
    "--data.init_args.val_clips=4",
    "--data.init_args.num_workers=0",
    "--model.init_args.refit=null",
]


def fit(root: Path, *extra: str, steps: int = 2, recipe: str = "two_rooms.yaml", tiny=None):
    args = [
        "fit",
        f"--config={RECIPES / recipe}",
        *(TINY_TWO_ROOMS if tiny is None else tiny),
        f"--trainer.default_root_dir={root}",
        f"--trainer.max_steps={steps}",
        *extra,
    ]
    return build_cli(args)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("action_run")
    return root, fit(root)


def test_fit_logs_every_term_and_exports_the_action_predictor(trained):
    root, cli = trained
    assert (root / "checkpoints" / "last.ckpt").is_file()
    assert (root / "encoder" / ACTION_PREDICTOR_NAME).is_file()
    logged = cli.trainer.logged_metrics
    terms = ("loss", "pred_loss", "rollout_loss", "var_loss", "cov_loss", "time_loss", "idm_loss")
    for key in (*terms, "target_std_mean", "target_std_min", "momentum"):
        assert f"train/{key}" in logged, key
    metrics = cli.trainer.callback_metrics
    for key in ("val/pred_loss", "val/copy_last_loss", "val/rollout_loss", "val/position_r2"):
        assert key in metrics and torch.isfinite(torch.as_tensor(metrics[key])), key


def test_exported_world_model_encodes_and_rolls_out_like_the_module(trained):
    root, cli = trained
    world = load_world_model(root / "encoder")
    module = cli.model.eval()
    frames = torch.randint(0, 256, (3, 2, 65, 65), dtype=torch.uint8)
    actions = torch.rand(3, 5, 2) * 4.9 - 2.45
    with torch.no_grad():
        z = world.encode(frames)
        assert torch.equal(z, module.encoder.embed(frames[:, None].float() / 255.0)[:, 0])
        rolled = world.rollout(z, actions)
        assert torch.equal(rolled, module.action_predictor.rollout(z, actions))
    assert z.shape == (3, 8) and rolled.shape == (3, 5, 8)
    assert not any(p.requires_grad for p in world.parameters())


def test_export_command_rebuilds_the_world_model_from_a_checkpoint(trained, tmp_path):
    from jepa_world.cli import main

    root, _ = trained
    main(["export", "--ckpt_path", str(root / "checkpoints" / "last.ckpt"), "--out", str(tmp_path)])
    a, b = load_world_model(tmp_path), load_world_model(root / "encoder")
    frames = torch.randint(0, 256, (2, 2, 65, 65), dtype=torch.uint8)
    actions = torch.randn(2, 3, 2)
    with torch.no_grad():
        assert torch.equal(
            a.rollout(a.encode(frames), actions), b.rollout(b.encode(frames), actions)
        )


def test_refit_stage_replaces_the_predictor_in_export_and_checkpoint(trained, tmp_path):
    """`refit` ends fit with the predictor-only stage: same encoder as the run without it, a new
    predictor (here reshaped by `predictor_kwargs`), and the last checkpoint re-saved so that
    `jepa-world export` of it gives the same model."""
    from jepa_world.cli import main

    plain_root, _ = trained
    refit = {"windows": 16, "steps": 3, "batch_size": 4, "holdout": 4}
    refit = json.dumps({**refit, "predictor_kwargs": {"depth": 2}})
    fit(tmp_path / "run", f"--model.init_args.refit={refit}")
    refit_model = load_world_model(tmp_path / "run" / "encoder")
    plain = load_world_model(plain_root / "encoder")
    main(
        [
            "export",
            "--ckpt_path",
            str(tmp_path / "run" / "checkpoints" / "last.ckpt"),
            "--out",
            str(tmp_path / "from_ckpt"),
        ]
    )
    from_ckpt = load_world_model(tmp_path / "from_ckpt")
    assert plain.action_predictor.config["depth"] == 1
    assert refit_model.action_predictor.config["depth"] == 2
    assert from_ckpt.action_predictor.config == refit_model.action_predictor.config
    frames = torch.randint(0, 256, (2, 2, 65, 65), dtype=torch.uint8)
    actions = torch.randn(2, 3, 2)
    with torch.no_grad():
        z = refit_model.encode(frames)
        assert torch.allclose(z, plain.encode(frames), atol=1e-6)
        ours = refit_model.rollout(z, actions)
        assert not torch.allclose(ours, plain.rollout(z, actions))
        assert torch.equal(ours, from_ckpt.rollout(from_ckpt.encode(frames), actions))


def test_trained_export_runs_the_planning_suite_end_to_end(trained, tmp_path):
    """Train (the fixture) + plan through `jepa-world probe`: every documented key is written."""
    import json

    import yaml

    from jepa_world.cli import main
    from jepa_world.evaluation.planning.episodes import METRIC_KEYS
    from jepa_world.evaluation.planning.spec import BASELINE_NAMES

    pytest.importorskip("gymnasium")
    root, _ = trained
    suite = {
        "kind": "planning",
        "name": "tiny",
        "planning": {
            "episodes": 2,
            "seed": 3030000000,
            "max_steps": 3,
            "planner": {"horizon": 3, "samples": 6, "iterations": 1, "elites": 2},
            "baselines": {"episodes": 1},
            "budget": None,
            "plots": {"episodes": 2},
        },
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(suite))
    out = tmp_path / "report"
    main(
        [
            "probe",
            "--suite",
            str(tmp_path / "tiny.yaml"),
            "--model",
            str(root / "encoder"),
            "--out",
            str(out),
        ]
    )
    metrics = json.loads((out / "report.json").read_text())["metrics"]
    for key in METRIC_KEYS:
        assert key in metrics, key
        for name in BASELINE_NAMES:
            assert f"baselines/{name}/{key}" in metrics, (name, key)
    assert metrics["planning/episodes"] == 2


def test_resume_two_plus_two_equals_four(tmp_path):
    common = [
        "--seed_everything=3",
        "--model.init_args.total_steps=4",
        "--trainer.limit_val_batches=0",
        "--trainer.deterministic=true",
    ]
    straight, split = tmp_path / "straight", tmp_path / "split"
    fit(straight, *common, steps=4)
    fit(split, *common, steps=2)
    fit(split, *common, "--ckpt_path=last", steps=4)
    load = lambda p: torch.load(p / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]  # noqa: E731
    a, b = load(straight), load(split)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key


def test_non_finite_loss_names_the_step_and_keeps_the_checkpoint(trained, tmp_path, monkeypatch):
    root = tmp_path / "run"
    shutil.copytree(trained[0], root)
    last = root / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    import jepa_world.training.action_jepa as action_module

    real = action_module.vicreg_variance
    monkeypatch.setattr(action_module, "vicreg_variance", lambda *a, **k: real(*a, **k) * torch.nan)
    with pytest.raises(FloatingPointError, match="step 2"):
        fit(root, "--ckpt_path=last", steps=4)
    assert last.read_bytes() == before


def test_transition_mask_drops_episode_boundaries():
    batch = {"state": {"episode_start": torch.tensor([[1.0, 0, 1, 0], [1, 0, 0, 0]])}}
    mask = transition_mask(batch, 4, torch.device("cpu"))
    assert mask.tolist() == [[True, False, True], [True, True, True]]
    assert transition_mask({"state": {}}, 4, torch.device("cpu")) is None
    values = torch.tensor([[1.0, 100.0, 3.0], [1.0, 1.0, 1.0]])
    assert masked_mean(values, mask).item() == pytest.approx(7.0 / 5.0)


def test_masked_transitions_do_not_reach_the_loss(tiny_action_jepa):
    model = tiny_action_jepa(rollout_steps=2, idm_hidden=16)
    video = torch.randint(0, 256, (2, 4, 2, 65, 65), dtype=torch.uint8)
    start = torch.tensor([[1.0, 0, 0, 1], [1.0, 0, 0, 1]])  # the last frame starts a new episode
    batch = {"video": video, "actions": torch.randn(2, 4, 2), "state": {"episode_start": start}}
    _, terms, _ = model.compute_loss(batch)
    changed = dict(batch, video=video.clone())
    changed["video"][:, 3] = 255 - video[:, 3]  # a different scene after the reset
    changed["actions"] = batch["actions"].clone()
    changed["actions"][:, 2] += 5.0  # and a different action into it
    _, terms2, _ = model.compute_loss(changed)
    for key in ("pred_loss", "rollout_loss", "idm_loss", "time_loss"):
        assert torch.allclose(terms[key], terms2[key]), key


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "sigreg"}, ValueError, "target='sigreg'"),
        (
            {"rollout_steps": 17},
            ValueError,
            r"rollout_steps=17 is out of range: allowed \[0, frames - 1 = 16\]",
        ),
        ({"action_dim": 0}, ValueError, "action_dim=0 is out of range"),
        ({"idm_weight": -1.0}, ValueError, "idm_weight=-1.0 is out of range"),
        ({"encoder": "cnn_small", "img_size": 64, "frames": 16}, ValueError, "tubelet_size=1"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, message):
    with pytest.raises(error, match=message):
        ActionJEPA(**kwargs)


def test_batches_without_fitting_actions_are_rejected():
    model = ActionJEPA(
        encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0}, frames=4,
        rollout_steps=1,
    )  # fmt: skip
    video = torch.zeros(1, 4, 2, 65, 65, dtype=torch.uint8)
    with pytest.raises(ValueError, match="needs batches with 'actions'"):
        model.compute_loss({"video": video})
    with pytest.raises(ValueError, match=r"actions must be \(B, T, A\) = \(1, 4, 2\)"):
        model.compute_loss({"video": video, "actions": torch.zeros(1, 4, 3)})


def test_gym_recipe_trains_and_plans_a_few_steps(tmp_path):
    pytest.importorskip("gymnasium")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from jepa_world.evaluation.planning.gym import run_gym_planning
    from jepa_world.planning import PlannerConfig

    tiny = [
        *TINY_TWO_ROOMS[:5],
        '--model.init_args.encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0}',
        '--model.init_args.predictor_kwargs={"hidden": 16}',
        "--model.init_args.rollout_steps=2",
        '--data.init_args.world_params={"env_id": "Pendulum-v1", "frames": 4, "size": 32}',
        "--data.init_args.batch_size=2",
        "--data.init_args.val_clips=2",
        "--data.init_args.num_workers=0",
    ]
    cli = fit(tmp_path, recipe="pendulum.yaml", tiny=tiny)
    assert cli.trainer.global_step == 2
    config = PlannerConfig(horizon=3, samples=8, iterations=2, elites=2)
    result = run_gym_planning(tmp_path / "encoder", "Pendulum-v1", steps=3, config=config)
    assert len(result["latent_distance"]) == 3 and result["ms_per_plan"] > 0
    actions = torch.tensor(result["actions"])
    assert actions.shape == (3, 1)
    assert (actions >= -2.0).all() and (actions <= 2.0).all()  # Pendulum's torque bounds

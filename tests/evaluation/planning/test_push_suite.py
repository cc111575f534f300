"""The push suite: schema checks, goals, baselines, and a tiny train-then-plan run through the CLI
(`jepa-world fit` on recipes/push.yaml, then `jepa-world probe` with a tiny push suite)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from jepa_world.evaluation import load_suite
from jepa_world.evaluation.planning.push import (
    MIN_GOAL_PX,
    SUCCESS_PX,
    episode_start,
    make_goal,
    run_push_episodes,
)
from jepa_world.evaluation.planning.push_suite import PushSpec, parse
from jepa_world.evaluation.planning.report import PLOTS
from jepa_world.planning import create_planner

from .probe_run import probe_planning_suite

pytest.importorskip("gymnasium")

ROOT = Path(__file__).parents[3]
TINY = {
    "kind": "planning",
    "world": "push",
    "name": "tiny_push",
    "planning": {
        "episodes": 2,
        "seed": 3035000000,
        "max_steps": 3,
        "goal": {"steps": 6, "settle_steps": 2},
        "planner": {"name": "cem", "horizon": 3, "samples": 6, "iterations": 1, "elites": 2},
        "baselines": {"names": ["random_actions", "greedy", "random_init", "true_dynamics"]},
        "budget": {"budgets": [[4, 1]], "episodes": 1},
        "plots": {"episodes": 2},
        "intervention": {"cases": 4, "probe_clips": 8},
    },
}
TINY_FIT = [
    "--trainer.accelerator=cpu",
    "--trainer.enable_progress_bar=false",
    "--trainer.val_check_interval=2",
    "--trainer.limit_val_batches=1",
    "--trainer.log_every_n_steps=1",
    "--trainer.max_steps=2",
    "--trainer.logger=false",
    '--trainer.callbacks=[{"class_path": "jepa_world.training.callbacks.EncoderExport", '
    '"init_args": {"dirname": "encoder"}}]',
    "--trainer.enable_checkpointing=false",
    '--model.init_args.encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, "depth": 0, '
    '"downsample": 2}',
    '--model.init_args.predictor_kwargs={"hidden": 16}',
    "--model.init_args.idm_hidden=16",
    "--model.init_args.rollout_steps=2",
    "--model.init_args.warmup_steps=1",
    '--data.init_args.world_params={"frames": 4}',
    "--data.init_args.batch_size=4",
    "--data.init_args.val_clips=4",
    "--data.init_args.num_workers=0",
]


def test_shipped_suite_parses_to_the_protocol():
    suite = load_suite(ROOT / "probes" / "push.yaml")
    spec = suite.spec
    assert isinstance(spec, PushSpec)
    assert spec.episodes >= 200 and spec.seed >= 3_000_000_000
    assert set(spec.baselines) == {"random_actions", "greedy", "random_init", "true_dynamics"}
    assert spec.intervention is not None and spec.intervention.k == 8
    assert spec.intervention.cases >= 200 and spec.intervention.seed >= 3_000_000_000
    assert spec.intervention.probe_seed < 1_000_000_000  # training seeds


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("planning", "goal", "steps"), 0, "planning.goal.steps"),
        (("planning", "intervention", "k"), 0, "planning.intervention.k"),
        (("planning", "intervention", "baselines"), ["oracle"], "planning.intervention.baselines"),
        (("planning", "env", "num_balls"), [0, 3], "planning.env"),
        (("planning", "colour"), 1, "planning.colour"),
    ],
)
def test_malformed_suite_names_the_key(path, value, message):
    data = copy.deepcopy({k: v for k, v in TINY.items() if k != "kind"})
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        parse(data)


def test_goals_are_reachable_and_far_enough():
    for seed in range(3035000000, 3035000020):
        start = episode_start(seed)
        goal, actions = make_goal(start, seed)
        moved = np.linalg.norm(goal.position[0, 0] - start.position[0, 0])
        assert moved >= MIN_GOAL_PX
        assert np.abs(goal.velocity).max() == 0  # the settle steps let every ball stop
        assert actions.shape == (48, 2) and np.abs(actions).max() <= 2.0
    assert SUCCESS_PX == 4.0


def test_baselines_see_the_same_episodes_and_the_simulator_plans():
    first = run_push_episodes("greedy", 2, 3035000000, max_steps=5)
    again = run_push_episodes("random_actions", 2, 3035000000, max_steps=5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.balls[0], b.balls[0])
        np.testing.assert_array_equal(a.goal_balls, b.goal_balls)
    planner = create_planner("cem", horizon=4, samples=8, iterations=1, elites=2)
    (result,) = run_push_episodes("true_dynamics", 1, 3035000000, planner=planner, max_steps=4)
    assert result.plans == 4 and result.distances.shape == (5,)


def test_fit_then_probe_through_the_cli(tmp_path, capsys):
    from jepa_world.cli import build_cli
    from jepa_world.hub import load_world_model

    build_cli(
        ["fit", f"--config={ROOT / 'recipes' / 'push.yaml'}", *TINY_FIT,
         f"--trainer.default_root_dir={tmp_path / 'run'}"]
    )  # fmt: skip
    export = tmp_path / "run" / "encoder"
    world = load_world_model(export)
    z = world.encode(np.zeros((2, 3, 64, 64), dtype=np.uint8))
    assert world.rollout(z, torch.zeros(2, 5, 2)).shape == (2, 5, 8)
    baselines = ("random_actions", "greedy", "random_init", "true_dynamics")
    written, out = probe_planning_suite(TINY, export, tmp_path, capsys, baselines)
    metrics = written["metrics"]
    for key in ("touched_r2", "untouched_spurious_px"):
        assert np.isfinite(metrics[f"intervention/{key}"])
        assert f"baselines/random_init/intervention/{key}" in metrics
    assert metrics["baselines/action_blind/intervention/touched_r2"] <= 0
    assert metrics["baselines/action_blind/intervention/untouched_spurious_px"] == 0
    assert "Push-T" in written["notes"]["push_t"]
    table = (out / "report.md").read_text()
    assert "intervention" in table and "context, not a comparison" in table
    for name in PLOTS.values():
        assert (out / name).stat().st_size > 1000, name

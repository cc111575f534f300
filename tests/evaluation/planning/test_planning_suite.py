"""The Two Rooms planning suite: schema checks, a 2-episode run writing every key and plot."""

from __future__ import annotations

import copy

import pytest
import torch
import yaml

from jepa_world.evaluation import load_suite, run_suite
from jepa_world.evaluation.models import random_init_world_model
from jepa_world.evaluation.planning.report import PLOTS
from jepa_world.evaluation.planning.spec import BASELINE_NAMES, parse
from jepa_world.evaluation.planning.two_rooms import TrueDynamics
from jepa_world.planning import action_bounds

pytest.importorskip("gymnasium")
from jepa_world.worlds.two_rooms import TwoRoomsEnv  # noqa: E402

from .probe_run import probe_planning_suite  # noqa: E402

TINY = {
    "kind": "planning",
    "name": "tiny_two_rooms",
    "planning": {
        "episodes": 2,
        "seed": 3030000000,
        "max_steps": 4,
        "planner": {"name": "mppi", "horizon": 3, "samples": 6, "iterations": 2, "elites": 2},
        "baselines": {"names": list(BASELINE_NAMES), "episodes": 2, "random_init_seed": 1},
        "budget": {"budgets": [[4, 1], [6, 2]], "episodes": 1},
        "plots": {"episodes": 2},
    },
}


@pytest.fixture(scope="module")
def export(tmp_path_factory, tiny_action_jepa):
    """A tiny (untrained) ActionJEPA for 65x65 Two Rooms frames, exported."""
    from jepa_world.hub import save_pretrained

    model = tiny_action_jepa()
    with torch.no_grad():  # move the zero-initialised output layer: a model that does something
        model.action_predictor.net[-1].weight.normal_(std=0.1)
    return save_pretrained(model, tmp_path_factory.mktemp("export") / "encoder")


def test_probe_command_runs_a_planning_suite_writing_every_key_and_plot(export, tmp_path, capsys):
    written, out = probe_planning_suite(TINY, export, tmp_path, capsys, BASELINE_NAMES)
    metrics = written["metrics"]
    assert metrics["planning/episodes"] == 2
    assert metrics["baselines/true_dynamics/planning/episodes"] == 2
    assert 0 <= metrics["planning/success_rate_ci_low"] <= metrics["planning/success_rate"]
    assert metrics["planning/ms_per_plan"] > 0
    assert written["protocol"]["episodes"] == 2 and written["protocol"]["planner"] == "mppi"
    assert written["protocol"]["planner_config"]["horizon"] == 3
    assert [row["budget"] for row in written["curves"]["budget"]["model"]] == [4, 12]
    assert set(written["curves"]["budget"]) == {"model", "true_dynamics"}
    assert len(written["episodes"]) == 2 and len(written["episodes"][0]["path"]) == 5
    failed = [i for i, e in enumerate(written["episodes"]) if not e["success"]]
    assert written["failed_episodes"] == failed
    table = (out / "report.md").read_text()
    assert "planning/success_rate" in table and "true_dynamics" in table
    for name in PLOTS.values():
        assert (out / name).stat().st_size > 1000, name


def test_shipped_suite_follows_the_protocol():
    suite = load_suite("probes/two_rooms.yaml")
    assert suite.kind == "planning" and suite.name == "two_rooms"
    assert suite.episodes >= 200 and suite.max_steps == 200 and suite.replan_every == 1
    assert suite.env == {"wall_range": [20, 44], "door_range": [12, 52]}
    assert set(suite.baselines) == set(BASELINE_NAMES)
    assert suite.baseline_episodes == suite.episodes
    # the planner has no bounds of its own: it plans within the env's action space, +-2.45 px
    assert suite.planner_config.low is None and suite.planner_config.high is None
    env = TwoRoomsEnv(**suite.env)
    planner = suite.spec.build_planner().with_bounds(*action_bounds(env.action_space))
    assert planner.planner.low.tolist() == planner.planner.high.neg().tolist()
    assert planner.planner.high.tolist() == pytest.approx([2.45, 2.45])
    assert (planner.modes.count, planner.modes.patience) == (4, 30)
    assert suite.adapt is not None and suite.adapt.buffer >= 1  # plans with test-time adaptation
    assert load_suite("two_rooms").kind == "planning"
    assert load_suite("probes/physics.yaml").kind != "planning"
    with pytest.raises(FileNotFoundError):
        load_suite("nowhere.yaml")


def _with(path: str, value):
    suite = copy.deepcopy(TINY)
    node = suite
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return suite


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("planning.episodez", 3, r"planning has unknown key\(s\) \['episodez'\]"),
        ("planning.episodes", 0, r"planning.episodes=0 is out of range: allowed >= 1"),
        ("planning.planner.samples", 0, "planning.planner: samples=0"),
        ("planning.planner.name", "ilqr", "planning.planner.name='ilqr'"),
        ("planning.planner.horizonn", 3, r"planning.planner has unknown key\(s\) \['horizonn'\]"),
        ("planning.replan_every", 5, r"replan_every=5 is out of range: allowed \[1, planning"),
        ("planning.baselines.names", ["oracle"], "planning.baselines.names"),
        ("planning.env.wall_range", [2, 60], "planning.env: wall_range"),
        ("planning.budget.budgets", [[4]], r"planning.budget.budgets\[0\]"),
        ("planning.workers", 0, r"planning.workers=0 is out of range: allowed >= 1"),
        ("planning.adapt", {"lr": 0}, "planning.adapt: lr=0"),
        ("planning.adapt", {"rate": 1}, r"planning.adapt has unknown key\(s\) \['rate'\]"),
        ("planning.adapt", {"rollout_steps": 1}, "planning.adapt: rollout_steps=1"),
        (
            "planning.adapt",
            {"rollout_steps": 80},
            "planning.adapt: rollout_steps=80 must be <= buffer=64",
        ),
    ],
)
def test_malformed_suite_names_the_key(path, value, message):
    with pytest.raises(ValueError, match=message):
        load_suite(_with(path, value))


def test_suite_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert load_suite(path).episodes == 2
    assert load_suite(path).workers == 1  # absent: one process; null: one per CPU core
    with pytest.raises(ValueError, match="missing key planning"):
        parse({"name": "x"})
    with pytest.raises(FileNotFoundError, match="neither a file nor a shipped suite"):
        load_suite(tmp_path / "missing.yaml")
    path.write_text(yaml.safe_dump(TINY) + "  max_steps: 9\n")  # a second planning.max_steps
    with pytest.raises(ValueError, match="key 'max_steps' appears twice"):
        load_suite(path)


def test_random_init_has_the_architecture_not_the_weights(export):
    from jepa_world.hub import load_world_model

    trained = load_world_model(export)
    a = random_init_world_model(trained, 3, "action_predictor")
    b = random_init_world_model(trained, 3, "action_predictor")
    assert a.encoder.config == trained.encoder.config
    assert a.action_predictor.config == trained.action_predictor.config
    obs = torch.randint(0, 256, (2, 2, 65, 65), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(a.encode(obs), b.encode(obs))
        assert not torch.equal(a.encode(obs), trained.encode(obs))


def test_encoder_only_export_is_refused(tmp_path):
    from jepa_world.hub import save_pretrained
    from jepa_world.models import create_encoder

    folder = save_pretrained(
        create_encoder("cnn_keypoints", img_size=65, in_chans=2, frames=2), tmp_path / "enc"
    )
    with pytest.raises(FileNotFoundError, match="no action\npredictor|use load_encoder"):
        run_suite(folder, TINY)


def test_suite_with_test_time_adaptation_adapts_the_model_and_random_init(export, monkeypatch):
    from jepa_world.planning import adaptation

    told = []
    observe = adaptation.AdaptingModel.observe

    def spy(self, z, action, z_next):
        told.append(self.model)
        return observe(self, z, action, z_next)

    monkeypatch.setattr(adaptation.AdaptingModel, "observe", spy)
    suite = _with("planning.adapt", {"lr": 1e-3, "steps": 1, "buffer": 8})
    suite["planning"]["baselines"]["names"] = ["random_init", "true_dynamics"]
    suite["planning"]["budget"] = {}
    report = run_suite(export, suite)
    assert report["protocol"]["adapt"] == {
        "lr": 1e-3,
        "steps": 1,
        "buffer": 8,
        "rollout_steps": None,
        "anchor": None,
    }
    assert report["metrics"]["baselines/random_init/planning/episodes"] == 2
    # 3 transitions in each 4-step episode, 2 episodes, for the model and for random_init
    assert len(told) == 12 and len({id(m) for m in told}) == 2
    # a model that is not a torch module plans unadapted, and the report says why
    plain = run_suite(TrueDynamics(32, 32), suite)
    assert plain["notes"]["adapt"].startswith("not applicable: TrueDynamics is not a torch")
    assert plain["notes"]["random_init"].startswith("skipped: TrueDynamics has no random_init")

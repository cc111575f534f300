"""``py:<module>:<factory>`` models: options, reset_parameters twins, planning through them."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from jepa_world.evaluation.adapters import load_adapter, random_twin


def test_factory_options_and_reset_parameters_twins(video):
    model = load_adapter("py:toy_models:build?dim=6")
    assert model.features(video).tokens.shape == (2, 8, 16, 6)
    a, how = random_twin(model, 0)
    b, _ = random_twin(model, 0)
    assert "reset_parameters" in how and a.info.name == "random_init[0]"
    assert torch.equal(a.features(video).tokens, b.features(video).tokens)
    assert not torch.equal(a.features(video).tokens, model.features(video).tokens)


def test_a_model_without_any_way_to_reset_has_no_twin_and_says_so():
    model = load_adapter("py:toy_models:build_frozen")
    twin, why = random_twin(model, 0)
    assert twin is None and "no random-init baseline" in why


def test_a_state_suite_without_twins_reports_why(tiny_physics_suite):
    from jepa_world.evaluation import run_suite

    suite = tiny_physics_suite(baselines=False)
    report = run_suite("py:toy_models:build_frozen", suite)
    assert "state/position_pooled_r2" in report["metrics"]
    assert not any(k.startswith("baselines/random_init/") for k in report["metrics"])
    assert "no random-init baseline" in report["notes"]["random_init"]
    assert report["protocol"]["model_input"].startswith("none")


PLANNING = {
    "kind": "planning",
    "name": "tiny_two_rooms",
    "planning": {
        "episodes": 1,
        "seed": 3030000000,
        "max_steps": 3,
        "planner": {"name": "mppi", "horizon": 2, "samples": 4, "iterations": 1, "elites": 2},
        "adapt": {"lr": 0.001, "steps": 1, "buffer": 4},
        "baselines": {"names": ["random_init", "greedy"], "episodes": 1, "random_init_seed": 1},
        "plots": {"episodes": 1},
    },
}


def test_a_planning_episode_through_a_protocol_model_that_is_not_an_export(tmp_path):
    pytest.importorskip("gymnasium")
    from jepa_world.evaluation.command import probe

    suite = tmp_path / "plan.yaml"
    suite.write_text(yaml.safe_dump(PLANNING))
    out = tmp_path / "report"
    probe(str(suite), "py:toy_models:build", str(out))
    report = json.loads((out / "report.json").read_text())
    metrics = report["metrics"]
    assert metrics["planning/episodes"] == 1
    assert metrics["baselines/random_init/planning/episodes"] == 1
    assert "whole model" in report["notes"]["adapt"]
    assert "reset_parameters" in report["notes"]["random_init"]


def test_adaptation_is_not_applicable_without_a_differentiable_rollout():
    from jepa_world.evaluation.planning.adapt import adaptable

    class Frozen(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def encode(self, obs):
            return torch.zeros(len(obs), 2)

        @torch.no_grad()
        def rollout(self, z0, actions):
            return z0[:, None].repeat(1, actions.shape[1], 1) * self.w

    target, why = adaptable(Frozen(), torch.zeros(2, 8, 8, dtype=torch.uint8).numpy())
    assert target is None and why.startswith("not applicable: its rollout() output has no grad")
    target, why = adaptable(object())
    assert target is None and "not a torch nn.Module" in why


def test_per_frame_models_encode_each_distinct_frame_once(video):
    from jepa_world.evaluation.physics.model import load_probe_model

    model = load_adapter("py:toy_models:build")
    calls = []
    features = model.features
    model.features = lambda v: calls.append(v.shape[1]) or features(v)
    view = load_probe_model(model)
    doubled = video[:, [0, 1, 2, 3, 0, 1, 2, 3]]  # 8 distinct frames among 16
    first = view.targets(doubled)
    assert calls == [8] and torch.equal(first[:, :4], first[:, 4:])
    again = view.targets(doubled)
    assert calls == [8] and torch.equal(first, again)
    direct = torch.nn.functional.layer_norm(features(doubled).tokens, (8,))
    assert torch.allclose(first, direct, atol=1e-6)

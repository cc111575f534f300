"""The Two Rooms benchmark: the simulator as a model, baselines, seeded episodes, metrics, plots."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from planning.analytic import CLASSIC, Additive, make

import jepa_world.planning as P
from jepa_world.evaluation.planning import episodes as E
from jepa_world.evaluation.planning import two_rooms as TR
from jepa_world.planning import PlannerConfig

two_rooms = pytest.importorskip("jepa_world.worlds.two_rooms")
pytest.importorskip("gymnasium")


class PositionAdditive(Additive):
    """z' = z + a on the agent's position read off a Two Rooms observation (walls ignored)."""

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(TR.agent_position(obs)).float()


def test_true_dynamics_matches_the_simulator():
    rng = np.random.default_rng(0)
    positions = rng.uniform(6.0, 59.0, (50, 2))
    obs = two_rooms.render_frames(positions[:, None], np.full(50, 30), np.full(50, 30))[:, 0]
    model = TR.TrueDynamics(wall_x=30, door_y=30)
    with pytest.raises(ValueError, match="wall_x"):
        TR.TrueDynamics(wall_x=70, door_y=30)
    z = model.encode(torch.from_numpy(obs))
    assert torch.allclose(z.double(), torch.from_numpy(positions), atol=0.05)
    start = torch.tensor([[20.0, 10.0], [40.0, 50.0]])
    actions = torch.from_numpy(rng.uniform(-2.45, 2.45, (2, 7, 2))).float()
    out = model.rollout(start, actions)
    p = start.double().numpy()
    for t in range(7):
        p = two_rooms.move(p, actions[:, t].double().numpy(), 30, 30)
        np.testing.assert_allclose(out[:, t].numpy(), p, atol=1e-5)


def _episode(env, wall_x, door_y, start, goal, planner, steps):
    env.reset(seed=0, options={"wall_x": wall_x, "door_y": door_y, "start": start, "goal": goal})
    planner.reset(0)
    model = TR.TrueDynamics.from_env(env)
    return TR.run_episode(env, planner, model, max_steps=steps, replan_every=2)


def test_true_dynamics_planner_reaches_goals_in_two_rooms():
    env = two_rooms.TwoRoomsEnv()
    planner = make(  # no bounds of its own: the MPC loop reads the env's action space
        "mppi", horizon=20, samples=48, iterations=3, elites=8, temperature=0.1, cost_steps="sum",
        final_weight=10.0, noise_beta=2.0, low=None, high=None, action_dim=None,
    )  # fmt: skip
    through_door = _episode(env, 32, 32, (15.0, 30.0), (50.0, 35.0), planner, 40)
    around_wall = _episode(env, 40, 45, (20.0, 35.0), (50.0, 30.0), planner, 40)
    for result in (through_door, around_wall):
        assert result.success and result.final_distance < TR.SUCCESS_PX
        assert result.path.shape == (41, 2) and result.actions.shape == (40, 2)
        assert np.all(np.abs(result.actions) <= 2.45)
        assert result.steps_to_success is not None and result.plans == 20
    # the detour really went down to the door (rows 41-49): the wall blocks the straight line
    assert around_wall.path[:, 1].max() > 41.0
    # and the greedy baseline, straight at the goal, is stopped by the wall's face at x = 39
    env.reset(seed=0, options={"wall_x": 40, "door_y": 45, "start": (20.0, 35.0), "goal": (50, 30)})
    greedy = TR.run_episode(env, None, TR.GreedyPolicy.from_space(env.action_space), max_steps=40)
    assert not greedy.success and greedy.path[-1, 0] == pytest.approx(39.0)


def test_evaluate_planning_writes_every_documented_key():
    planner = make("cem", horizon=4, samples=8, iterations=1, elites=2)
    for who in ("true_dynamics", "greedy", "random_actions"):
        metrics = E.evaluate_planning(who, episodes=2, seed=5, planner=planner, max_steps=4)
        assert tuple(metrics) == E.METRIC_KEYS
        assert metrics["planning/episodes"] == 2
        low, rate, high = (
            metrics[f"planning/success_rate{k}"] for k in ("_ci_low", "", "_ci_high")
        )
        assert 0.0 <= low <= rate <= high <= 1.0
        assert metrics["planning/final_distance_px"] > 0.0
        assert metrics["planning/seconds_per_episode"] > 0.0
        assert metrics["planning/ms_per_plan"] > 0.0
    # a 4-step episode between opposite rooms never succeeds: no median to report
    assert metrics["planning/steps_to_success"] is None
    with pytest.raises(ValueError, match="unknown baseline"):
        E.evaluate_planning("oracle", episodes=1)


def test_episodes_in_worker_processes_match_one_process():
    """Episodes are reseeded one by one, so splitting them over forked workers changes nothing
    but the wall time (a learned model included: it is inherited, not pickled)."""
    planner = make("mppi", horizon=4, samples=8, iterations=2, elites=2)
    model = PositionAdditive()
    for who in ("true_dynamics", "random_actions", model):
        one = E.run_episodes(who, episodes=5, seed=11, planner=planner, max_steps=6)
        two = E.run_episodes(who, episodes=5, seed=11, planner=planner, max_steps=6, workers=2)
        assert [r.wall_x for r in one] == [r.wall_x for r in two]
        for a, b in zip(one, two, strict=True):
            np.testing.assert_array_equal(a.path, b.path)
            np.testing.assert_array_equal(a.actions, b.actions)
    with pytest.raises(ValueError, match="workers=0"):
        E.run_episodes("greedy", episodes=1, workers=0)


def _result(success, final, steps):
    return TR.EpisodeResult(
        path=np.zeros((3, 2)), actions=np.zeros((2, 2)), distances=np.array([9.0, 5.0, final]),
        goal=np.zeros(2), wall_x=30, door_y=30, wall=np.zeros((65, 65), np.uint8),
        success=success, success_strict=final < 1.41, final_distance=final,
        steps_to_success=steps, seconds=2.0, ms_per_plan=10.0, plans=2,
    )  # fmt: skip


def test_summary_by_hand():
    results = [_result(True, 1.0, 2)] * 3 + [_result(False, 9.0, None)] + [_result(True, 4, 6)]
    m = E.summarize_episodes(results)
    assert m["planning/success_rate"] == pytest.approx(0.8)
    assert m["planning/success_rate_strict"] == pytest.approx(0.6)
    assert m["planning/final_distance_px"] == pytest.approx((3 + 9 + 4) / 5)
    assert m["planning/steps_to_success"] == 2.0
    assert m["planning/ms_per_plan"] == pytest.approx(10.0)
    none = E.summarize_episodes([_result(False, 9.0, None)] * 10)
    assert none["planning/success_rate_ci_low"] == 0.0
    assert none["planning/success_rate_ci_high"] == pytest.approx(1.96**2 / (10 + 1.96**2))


def test_greedy_and_random_policies_respect_bounds():
    greedy = TR.GreedyPolicy(-2.45, 2.45)
    a = greedy.act(None, {"position": np.array([10.0, 10.0]), "goal": np.array([30.0, 15.0])})
    np.testing.assert_allclose(a, [2.45, 2.45 / 4], rtol=1e-6)  # direction kept, scaled down
    a = greedy.act(None, {"position": np.array([10.0, 10.0]), "goal": np.array([9.0, 10.5])})
    np.testing.assert_allclose(a, [-1.0, 0.5])  # within reach: go exactly there
    rnd = TR.RandomActions(-2.45, 2.45)
    rnd.reset(3)
    draws = np.stack([rnd.act(None, {}) for _ in range(500)])
    assert np.all(np.abs(draws) <= 2.45) and draws.std() > 1.0
    rnd.reset(3)
    np.testing.assert_array_equal(rnd.act(None, {}), draws[0])


def test_run_episode_rejects_bad_inputs():
    env = two_rooms.TwoRoomsEnv()
    env.reset(seed=0, options={"goal": None})
    with pytest.raises(ValueError, match="no goal"):
        TR.run_episode(env, None, TR.GreedyPolicy.from_space(env.action_space))
    env.reset(seed=0)
    with pytest.raises(TypeError, match="Policy"):
        TR.run_episode(env, None, object())
    with pytest.raises(ValueError, match="max_steps"):
        TR.run_episode(env, None, TR.GreedyPolicy.from_space(env.action_space), max_steps=0)


def test_plots(tmp_path):
    from jepa_world.evaluation.planning import plots as PL

    env = two_rooms.TwoRoomsEnv()
    results = []
    for seed in range(3):
        env.reset(seed=seed)
        results.append(
            TR.run_episode(env, None, TR.GreedyPolicy.from_space(env.action_space), max_steps=30)
        )
    grid = PL.plot_episodes(results, tmp_path / "episodes.png", columns=2)
    config = PlannerConfig(**(CLASSIC | dict(horizon=4, elites=2)))
    rows = E.sweep_budget("true_dynamics", [(4, 1), (8, 2)], config=config, episodes=1, max_steps=3)
    assert [r["budget"] for r in rows] == [4, 16]
    assert all(set(E.METRIC_KEYS) <= set(r) for r in rows)
    budget = PL.plot_success_vs_budget({"true_dynamics": rows}, tmp_path / "budget.png")
    for path in (grid, budget):
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_planner_reads_its_bounds_from_the_two_rooms_action_space():
    env = two_rooms.TwoRoomsEnv()
    env.reset(seed=0)
    unbound = make("mppi", horizon=4, samples=8, iterations=1, elites=2, low=None, high=None)
    policy = P.MPCPolicy(
        unbound, TR.TrueDynamics.from_env(env), env.goal_observation(), 1, env.action_space
    )
    bound = torch.full((2,), two_rooms.ACTION_BOUND)  # float32, as the action space holds it
    assert torch.equal(policy.planner.low, -bound) and torch.equal(policy.planner.high, bound)
    greedy = TR.GreedyPolicy.from_space(env.action_space)
    rnd = TR.RandomActions.from_space(env.action_space)
    assert (greedy.low, greedy.high) == (rnd.low, rnd.high) == (float(-bound[0]), float(bound[0]))
    # the one MPC loop, on Two Rooms: every executed action inside the space
    env.reset(seed=1)
    result = TR.run_episode(env, unbound, TR.TrueDynamics.from_env(env), max_steps=5)
    assert result.actions.shape == (5, 2) and result.plans == 5
    assert env.action_space.contains(result.actions[0]) and np.abs(result.actions).max() <= 2.45

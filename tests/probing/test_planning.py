"""Latent planners: CEM / MPPI on known models, bounds, MPPI weights, warm start, Two Rooms MPC."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jepa_world.probing import planning as P

two_rooms = pytest.importorskip("jepa_world.worlds.two_rooms")
pytest.importorskip("gymnasium")


def assert_close(actual, expected, atol=1e-6, rtol=1e-5):
    """torch.testing.assert_close without its multi-second first-call import."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert torch.allclose(actual, expected, atol=atol, rtol=rtol), (actual, expected)


class Additive:
    """The analytic latent model z' = z + a (2-D); observations are the latents themselves."""

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.float()

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return z0[:, None, :] + actions.cumsum(dim=1)


class PositionAdditive(Additive):
    """z' = z + a on the agent's position read off a Two Rooms observation (walls ignored)."""

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(P.agent_position(obs)).float()


class Spy(Additive):
    """Records every action sequence the planner asks the model to roll out."""

    def __init__(self) -> None:
        self.calls: list[torch.Tensor] = []

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        self.calls.append(actions.clone())
        return super().rollout(z0, actions)


def drive(planner, model, start, goal, steps, low, high):
    """MPC on the analytic model; returns the final latent and the executed actions."""
    z, g = torch.tensor([start], dtype=torch.float32), torch.tensor([goal], dtype=torch.float32)
    executed = []
    for _ in range(steps):
        action = planner.plan(model, z, g).action
        executed.append(action)
        z = z + action.clamp(torch.tensor(low), torch.tensor(high))
    return z[0], torch.stack(executed)


@pytest.mark.parametrize("name", ["cem", "mppi"])
@pytest.mark.parametrize("execute", ["mean", "best"])
def test_planners_drive_analytic_model_to_goal(name, execute):
    planner = P.create_planner(
        name, horizon=8, samples=64, iterations=6, elites=8, low=-1.0, high=1.0, init_std=0.5,
        temperature=0.05, cost="l2", cost_steps="sum", final_weight=0.0, noise_beta=0.0,
        execute=execute, seed=1,
    )  # fmt: skip
    z, executed = drive(planner, Additive(), (0.0, 0.0), (5.0, -3.0), 12, -1.0, 1.0)
    # from 5.8 away with steps of at most 1 per axis: within 0.6 (the elite mean of CEM keeps
    # some sampling noise; MPPI at a low temperature and the best sample are more precise)
    assert torch.linalg.norm(z - torch.tensor([5.0, -3.0])) < 0.6
    assert executed[:4, 0].min() > 0.5 and executed[:3, 1].max() < -0.3  # heads straight there


def drive_wide(name, low, high, **kwargs):
    """5 MPC steps towards a far goal with a huge sampling std, recording every sampled
    sequence (every iteration, every step): (planner, final z, executed, samples)."""
    spy = Spy()
    planner = P.create_planner(
        name, horizon=6, samples=50, iterations=3, elites=5, low=low, high=high, init_std=10.0,
        noise_beta=2.0, seed=0, **kwargs,
    )  # fmt: skip
    z, executed = drive(planner, spy, (0.0, 0.0), (-20.0, 20.0), 5, low, high)
    return planner, z, executed, torch.cat(spy.calls)


@pytest.mark.parametrize("name", ["cem", "mppi"])
def test_no_sampled_or_executed_action_leaves_bounds(name):
    low, high = (-1.0, -0.25), (0.5, 2.0)
    _, _, executed, samples = drive_wide(name, low, high)
    assert samples.shape == (5 * 3 * 50, 6, 2)
    lo, hi = torch.tensor(low), torch.tensor(high)
    assert ((samples >= lo) & (samples <= hi)).all()
    assert ((executed >= lo) & (executed <= hi)).all()
    # the huge std really pushed samples onto both bounds (so the check above is not vacuous)
    assert (samples == lo).any() and (samples == hi).any()


@pytest.mark.parametrize("name", ["cem", "mppi"])
def test_max_norm_caps_every_action_inside_the_bounds(name):
    low, high = (-2.0, -2.0), (2.0, 2.0)
    planner, z, executed, samples = drive_wide(name, low, high, max_norm=1.5)
    for actions in (samples, executed):
        norm = torch.linalg.vector_norm(actions, dim=-1)
        assert norm.max() <= 1.5 + 1e-5
        assert ((actions >= torch.tensor(low)) & (actions <= torch.tensor(high))).all()
    # long samples were shortened to the cap, not dropped; short ones are left as they are
    assert torch.isclose(torch.linalg.vector_norm(samples, dim=-1), torch.tensor(1.5)).any()
    short = torch.tensor([[0.3, -0.4]])
    assert_close(planner.clip(short), short)
    assert_close(planner.clip(torch.tensor([[1.2, 1.6]])), torch.tensor([[0.9, 1.2]]))  # 2 -> 1.5
    # heading for the goal at the cap: the diagonal (-1, 1) direction, 1.5 long
    assert_close(executed[0], torch.tensor([-1.5, 1.5]) / math.sqrt(2), atol=0.15)
    assert torch.linalg.norm(z) > 5 * 1.5 - 0.5


def test_mppi_weights_follow_temperature():
    costs = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    w = P.mppi_weights(costs, temperature=1.0)
    expected = torch.tensor([1.0, math.exp(-1.0), math.exp(-3.0)], dtype=torch.float64)
    assert_close(w, expected / expected.sum())
    assert_close(P.mppi_weights(costs + 100.0, 1.0), w)  # shift-invariant
    assert_close(P.mppi_weights(costs, 1e-4), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    assert_close(
        P.mppi_weights(costs, 1e6), torch.full((3,), 1 / 3, dtype=torch.float64), atol=1e-5
    )
    tied = P.mppi_weights(torch.tensor([0.5, 0.5, 3.0]), 1e-3)
    assert_close(tied, torch.tensor([0.5, 0.5, 0.0]))
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="temperature"):
            P.mppi_weights(costs, bad)


@pytest.mark.parametrize("name", ["cem", "mppi"])
def test_refit_is_the_documented_mean(name):
    spy = Spy()
    cfg = dict(horizon=3, samples=16, iterations=1, elites=5, temperature=0.7, cost="l1")
    cfg |= dict(cost_steps="final", execute="mean", seed=3)
    planner = P.create_planner(name, **cfg)
    goal = torch.tensor([[2.0, -1.0]])
    result = planner.plan(spy, torch.zeros(1, 2), goal)
    actions = spy.calls[0]
    costs = (actions.sum(dim=1) - goal).abs().mean(dim=1)  # final-step l1 of z' = z + a
    elite = torch.topk(costs, 5, largest=False).indices
    if name == "cem":
        expected = actions[elite].mean(dim=0)
    else:
        w = P.mppi_weights(costs[elite], 0.7)
        expected = (w[:, None, None] * actions[elite]).sum(dim=0)
    assert_close(result.plan, expected)
    assert_close(result.action, expected[0])
    assert result.cost == pytest.approx(float(costs.min()))


def test_execute_best_returns_the_cheapest_sample_seen():
    spy = Spy()
    planner = P.create_planner(
        "mppi", horizon=4, samples=32, iterations=3, elites=4, cost="l2", cost_steps="final",
        execute="best", seed=0,
    )  # fmt: skip
    goal = torch.tensor([[3.0, -2.0]])
    result = planner.plan(spy, torch.zeros(1, 2), goal)
    actions = torch.cat(spy.calls)  # all 3 iterations
    costs = (actions.sum(dim=1) - goal).square().mean(dim=1).sqrt()
    assert torch.equal(result.plan, actions[costs.argmin()])
    assert result.cost == pytest.approx(float(costs.min()))


def test_shift_plan():
    plan = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    zero = torch.tensor([[3.0, 4.0], [5.0, 6.0], [0.0, 0.0]])
    assert_close(P.shift_plan(plan), zero)
    assert_close(P.shift_plan(plan, "last", 2), torch.tensor([[5.0, 6.0], [5.0, 6.0], [5.0, 6.0]]))
    with pytest.raises(ValueError, match="pad"):
        P.shift_plan(plan, "wrap")


@pytest.mark.parametrize("pad", ["zero", "last"])
def test_warm_start_starts_from_the_shifted_plan(pad):
    spy = Spy()
    planner = P.create_planner("mppi", horizon=5, samples=8, iterations=2, elites=4, pad=pad)
    goal = torch.tensor([[3.0, 1.0]])
    first = planner.plan(spy, torch.zeros(1, 2), goal).plan
    spy.calls.clear()
    planner.plan(spy, torch.zeros(1, 2), goal)
    # sample 0 of the first iteration is the starting mean, clipped
    assert_close(spy.calls[0][0], P.shift_plan(first, pad))
    cold = P.create_planner("mppi", horizon=5, samples=8, iterations=2, elites=4, warm_start=False)
    cold.plan(spy, torch.zeros(1, 2), goal)
    spy.calls.clear()
    cold.plan(spy, torch.zeros(1, 2), goal)
    assert torch.equal(spy.calls[0][0], torch.zeros(5, 2))


def test_policy_replanning_every_k_steps_shifts_by_k():
    spy = Spy()
    planner = P.create_planner("cem", horizon=6, samples=8, iterations=1, elites=2, seed=0)
    policy = P.PlanningPolicy(planner, spy, np.array([4.0, 4.0], dtype=np.float32), replan_every=3)
    obs = np.zeros(2, dtype=np.float32)
    taken = [policy.act(obs, {})]
    first = policy.current_plan.clone()
    taken += [policy.act(obs, {}) for _ in range(3)]
    assert len(policy.plan_seconds) == 2 and len(spy.calls) == 2
    np.testing.assert_array_equal(np.stack(taken[:3]), first[:3].numpy())
    assert_close(spy.calls[1][0], P.shift_plan(first, "zero", 3))
    np.testing.assert_array_equal(taken[3], policy.current_plan[0].numpy())


def test_colored_noise_has_unit_variance_and_more_persistence():
    g = torch.Generator().manual_seed(0)
    white = P.colored_noise((4000, 16, 2), 0.0, g)
    pink = P.colored_noise((4000, 16, 2), 2.0, g)
    for x in (white, pink):
        assert x.shape == (4000, 16, 2)
        assert torch.allclose(x.std(dim=0), torch.ones(16, 2), atol=0.08)
    # consecutive steps: independent for white noise, strongly correlated for beta = 2, so the
    # displacement after 16 steps (sqrt(16) = 4 for white noise) grows
    lag1 = [(x[:, 1:] * x[:, :-1]).mean().item() for x in (white, pink)]
    assert abs(lag1[0]) < 0.05 and lag1[1] > 0.6
    assert abs(white.sum(dim=1).std().item() - 4.0) < 0.3
    assert pink.sum(dim=1).std().item() > 5.0


def test_distance_and_cost():
    z = torch.tensor([[1.0, 2.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    g = torch.zeros(4)
    assert_close(P.distance(z, g, "l1"), torch.tensor([1.25, 0.0]))
    assert_close(P.distance(z, g[None], "l2"), torch.tensor([1.5, 0.0]))
    traj = torch.tensor([[[3.0], [1.0]], [[0.0], [2.0]]])  # (S=2, H=2, D=1)
    goal = torch.zeros(1)
    assert_close(P.trajectory_cost(traj, goal, "l1"), torch.tensor([1.0, 2.0]))
    assert_close(P.trajectory_cost(traj, goal, "l1", "sum"), torch.tensor([2.0, 1.0]))
    assert_close(  # (mean + 3 * final) / 4
        P.trajectory_cost(traj, goal, "l1", "sum", 3.0), torch.tensor([1.25, 1.75])
    )
    with pytest.raises(ValueError, match="kind"):
        P.distance(z, g, "cosine")
    with pytest.raises(ValueError, match="z_goal"):
        P.distance(z, torch.zeros(3), "l1")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"horizon": 0}, "horizon"),
        ({"samples": 4, "elites": 5}, "elites"),
        ({"temperature": 0.0}, "temperature"),
        ({"init_std": -1.0}, "init_std"),
        ({"low": 1.0, "high": -1.0}, "low"),
        ({"low": (-1.0, -1.0, -1.0)}, "low"),
        ({"cost": "cos"}, "cost"),
        ({"cost_steps": "max"}, "cost_steps"),
        ({"noise_beta": -1.0}, "noise_beta"),
        ({"execute": "median"}, "execute"),
        ({"final_weight": -1.0}, "final_weight"),
        ({"seed": -2}, "seed"),
        ({"max_norm": 0.0}, "max_norm"),
        ({"max_norm": float("inf")}, "max_norm"),
        ({"modes": 0}, "modes"),
        ({"elites": 4, "modes": 5}, "modes"),
        ({"mode_separation": -1.0}, "mode_separation"),
        ({"mode_separation": float("inf")}, "mode_separation"),
        ({"mode_patience": 0}, "mode_patience"),
    ],
)
def test_config_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        P.PlannerConfig(**kwargs)


def test_planner_rejects_non_finite_model():
    class Broken(Additive):
        def rollout(self, z0, actions):
            return super().rollout(z0, actions) * float("nan")

    planner = P.create_planner("cem", horizon=2, samples=4, iterations=1, elites=2)
    with pytest.raises(ValueError, match="non-finite"):
        planner.plan(Broken(), torch.zeros(1, 2), torch.ones(1, 2))
    with pytest.raises(ValueError, match="unknown planner"):
        P.create_planner("ilqr")


# --------------------------------------------------------------------------------------------
# Two Rooms
# --------------------------------------------------------------------------------------------


def test_true_dynamics_matches_the_simulator():
    rng = np.random.default_rng(0)
    positions = rng.uniform(6.0, 59.0, (50, 2))
    obs = two_rooms.render_frames(positions[:, None], np.full(50, 30), np.full(50, 30))[:, 0]
    model = P.TrueDynamics(wall_x=30, door_y=30)
    with pytest.raises(ValueError, match="wall_x"):
        P.TrueDynamics(wall_x=70, door_y=30)
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
    model = P.TrueDynamics.from_env(env)
    return P.run_episode(env, planner, model, max_steps=steps, replan_every=2)


def test_true_dynamics_planner_reaches_goals_in_two_rooms():
    env = two_rooms.TwoRoomsEnv()
    planner = P.create_planner(
        "mppi", horizon=20, samples=48, iterations=3, elites=8, temperature=0.1, cost_steps="sum",
        final_weight=10.0, noise_beta=2.0,
    )  # fmt: skip
    through_door = _episode(env, 32, 32, (15.0, 30.0), (50.0, 35.0), planner, 40)
    around_wall = _episode(env, 40, 45, (20.0, 35.0), (50.0, 30.0), planner, 40)
    for result in (through_door, around_wall):
        assert result.success and result.final_distance < P.SUCCESS_PX
        assert result.path.shape == (41, 2) and result.actions.shape == (40, 2)
        assert np.all(np.abs(result.actions) <= 2.45)
        assert result.steps_to_success is not None and result.plans == 20
    # the detour really went down to the door (rows 41-49): the wall blocks the straight line
    assert around_wall.path[:, 1].max() > 41.0
    # and the greedy baseline, straight at the goal, is stopped by the wall's face at x = 39
    env.reset(seed=0, options={"wall_x": 40, "door_y": 45, "start": (20.0, 35.0), "goal": (50, 30)})
    greedy = P.run_episode(env, None, P.GreedyPolicy(), max_steps=40)
    assert not greedy.success and greedy.path[-1, 0] == pytest.approx(39.0)


def test_evaluate_planning_writes_every_documented_key():
    planner = P.create_planner("cem", horizon=4, samples=8, iterations=1, elites=2)
    for who in ("true_dynamics", "greedy", "random_actions"):
        metrics = P.evaluate_planning(who, episodes=2, seed=5, planner=planner, max_steps=4)
        assert tuple(metrics) == P.METRIC_KEYS
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
        P.evaluate_planning("oracle", episodes=1)


def test_episodes_in_worker_processes_match_one_process():
    """Episodes are reseeded one by one, so splitting them over forked workers changes nothing
    but the wall time (a learned model included: it is inherited, not pickled)."""
    planner = P.create_planner("mppi", horizon=4, samples=8, iterations=2, elites=2)
    model = PositionAdditive()
    for who in ("true_dynamics", "random_actions", model):
        one = P.run_episodes(who, episodes=5, seed=11, planner=planner, max_steps=6)
        two = P.run_episodes(who, episodes=5, seed=11, planner=planner, max_steps=6, workers=2)
        assert [r.wall_x for r in one] == [r.wall_x for r in two]
        for a, b in zip(one, two, strict=True):
            np.testing.assert_array_equal(a.path, b.path)
            np.testing.assert_array_equal(a.actions, b.actions)
    with pytest.raises(ValueError, match="workers=0"):
        P.run_episodes("greedy", episodes=1, workers=0)


def _result(success, final, steps):
    return P.EpisodeResult(
        path=np.zeros((3, 2)), actions=np.zeros((2, 2)), distances=np.array([9.0, 5.0, final]),
        goal=np.zeros(2), wall_x=30, door_y=30, wall=np.zeros((65, 65), np.uint8),
        success=success, success_strict=final < 1.41, final_distance=final,
        steps_to_success=steps, seconds=2.0, ms_per_plan=10.0, plans=2,
    )  # fmt: skip


def test_summary_by_hand():
    results = [_result(True, 1.0, 2)] * 3 + [_result(False, 9.0, None)] + [_result(True, 4, 6)]
    m = P.summarize_episodes(results)
    assert m["planning/success_rate"] == pytest.approx(0.8)
    assert m["planning/success_rate_strict"] == pytest.approx(0.6)
    assert m["planning/final_distance_px"] == pytest.approx((3 + 9 + 4) / 5)
    assert m["planning/steps_to_success"] == 2.0
    assert m["planning/ms_per_plan"] == pytest.approx(10.0)
    none = P.summarize_episodes([_result(False, 9.0, None)] * 10)
    assert none["planning/success_rate_ci_low"] == 0.0
    assert none["planning/success_rate_ci_high"] == pytest.approx(1.96**2 / (10 + 1.96**2))


def test_greedy_and_random_policies_respect_bounds():
    greedy = P.GreedyPolicy(-2.45, 2.45)
    a = greedy.act(None, {"position": np.array([10.0, 10.0]), "goal": np.array([30.0, 15.0])})
    np.testing.assert_allclose(a, [2.45, 2.45 / 4], rtol=1e-6)  # direction kept, scaled down
    a = greedy.act(None, {"position": np.array([10.0, 10.0]), "goal": np.array([9.0, 10.5])})
    np.testing.assert_allclose(a, [-1.0, 0.5])  # within reach: go exactly there
    rnd = P.RandomActions(-2.45, 2.45)
    rnd.reset(3)
    draws = np.stack([rnd.act(None, {}) for _ in range(500)])
    assert np.all(np.abs(draws) <= 2.45) and draws.std() > 1.0
    rnd.reset(3)
    np.testing.assert_array_equal(rnd.act(None, {}), draws[0])


def test_run_episode_rejects_bad_inputs():
    env = two_rooms.TwoRoomsEnv()
    env.reset(seed=0, options={"goal": None})
    with pytest.raises(ValueError, match="no goal"):
        P.run_episode(env, None, P.GreedyPolicy())
    env.reset(seed=0)
    with pytest.raises(TypeError, match="Policy"):
        P.run_episode(env, None, object())
    with pytest.raises(ValueError, match="max_steps"):
        P.run_episode(env, None, P.GreedyPolicy(), max_steps=0)


def test_plots(tmp_path):
    env = two_rooms.TwoRoomsEnv()
    results = []
    for seed in range(3):
        env.reset(seed=seed)
        results.append(P.run_episode(env, None, P.GreedyPolicy(), max_steps=30))
    grid = P.plot_episodes(results, tmp_path / "episodes.png", columns=2)
    config = P.PlannerConfig(horizon=4, elites=2)
    rows = P.sweep_budget("true_dynamics", [(4, 1), (8, 2)], config=config, episodes=1, max_steps=3)
    assert [r["budget"] for r in rows] == [4, 16]
    assert all(set(P.METRIC_KEYS) <= set(r) for r in rows)
    budget = P.plot_success_vs_budget({"true_dynamics": rows}, tmp_path / "budget.png")
    for path in (grid, budget):
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class Walled(Additive):
    """z' = z + a, except that a move across x = 2 with |y| < 3 stops at the wall: from the
    origin, the goal (4, 0) lies behind a wall 6 long, a local minimum for a distance cost."""

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        z, out = z0.clone(), []
        for t in range(actions.shape[1]):
            new = z + actions[:, t]
            blocked = ((z[:, 0] < 2) != (new[:, 0] < 2)) & (new[:, 1].abs() < 3)
            new[blocked, 0] = z[blocked, 0]
            z = new
            out.append(z)
        return torch.stack(out, dim=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_modes_find_the_way_round_a_wall_one_mean_does_not(seed):
    def final_distance(modes):
        planner = P.create_planner(
            "mppi", horizon=16, samples=64, iterations=3, elites=16, low=-1.0, high=1.0,
            init_std=0.1, min_std=0.01, temperature=0.05, cost="l2", final_weight=10.0,
            modes=modes, mode_separation=3.0, seed=seed,
        )  # fmt: skip
        model, z, goal = Walled(), torch.zeros(1, 2), torch.tensor([[4.0, 0.0]])
        for _ in range(30):
            z = model.rollout(z, planner.plan(model, z, goal).action[None, None])[:, 0]
        return float(torch.linalg.norm(z - goal))

    # one mean with a small std stays pressed on the wall (2 from the goal); four modes, the
    # same 64 roll-outs per plan, go round an end of it
    assert final_distance(1) == pytest.approx(2.0, abs=0.1)
    assert final_distance(4) < 0.5


def test_modes_split_the_samples_and_execute_the_cheapest_mode():
    spy = Spy()
    planner = P.create_planner(
        "mppi", horizon=4, samples=30, iterations=2, elites=6, cost="l2", cost_steps="final",
        modes=3, seed=0,
    )  # fmt: skip
    goal = torch.tensor([[3.0, -2.0]])
    result = planner.plan(spy, torch.zeros(1, 2), goal)
    assert [tuple(call.shape) for call in spy.calls] == [(30, 4, 2)] * 2  # one batch, 3 x 10
    actions = torch.cat(spy.calls)
    costs = (actions.sum(dim=1) - goal).square().mean(dim=1).sqrt()
    assert torch.equal(result.plan, actions[costs.argmin()])
    assert result.cost == pytest.approx(float(costs.min()))
    assert planner.mode_plans.shape == (3, 4, 2)
    # each mode's block of the next plan starts from that mode's own plan, shifted
    plans = planner.mode_plans
    spy.calls.clear()
    planner.plan(spy, torch.zeros(1, 2), goal)
    for m in range(3):
        assert_close(spy.calls[0][10 * m], P.shift_plan(plans[m]))


def test_modes_that_meet_restart_from_a_heading():
    def restarted(separation):
        planner = P.create_planner(
            "mppi", horizon=6, samples=40, iterations=2, elites=8, low=-1.0, high=1.0,
            max_norm=0.8, modes=4, mode_separation=separation, seed=0,
        )  # fmt: skip
        result = planner.plan(Additive(), torch.zeros(1, 2), torch.tensor([[2.0, 1.0]]))
        plans = planner.mode_plans
        chosen = [m for m in range(4) if torch.equal(plans[m], result.plan)]
        fresh = [m for m in range(4) if torch.allclose(plans[m, 3:], torch.zeros(3, 2))]
        return chosen, fresh, plans

    chosen, fresh, plans = restarted(1e9)  # every mode is "near": all but the executed restart
    assert len(chosen) == 1 and sorted(fresh) == sorted(set(range(4)) - set(chosen))
    for m in fresh:
        norms = torch.linalg.vector_norm(plans[m, :3], dim=-1)
        assert_close(norms, torch.full((3,), 0.8))  # the longest allowed move, held
        assert torch.equal(plans[m, 0].expand(3, 2), plans[m, :3])
    assert restarted(0.0)[1] == []  # nothing is near at separation 0: no restart


def test_mode_patience_adds_the_modes_once_the_agent_stalls():
    planner = P.create_planner(
        "mppi", horizon=4, samples=24, iterations=1, elites=8, modes=4, mode_patience=3, seed=0
    )
    model, goal = Additive(), torch.tensor([[5.0, 0.0]])

    def modes_after(z):
        planner.plan(model, torch.tensor([[z, 0.0]]), goal)
        return planner.mode_plans.shape[0]

    # closing in by more than 1 % each plan: one mode with all 24 samples throughout
    assert [modes_after(z) for z in (0.0, 1.0, 2.0, 3.0, 4.0)] == [1] * 5
    planner.forget()
    # stalled: 3 plans without coming 1 % closer, then four modes to the episode's end
    assert [modes_after(z) for z in (0.0, 0.01, 0.0, 0.0, 3.0, 4.0)] == [1, 1, 1, 4, 4, 4]
    planner.forget()
    assert modes_after(0.0) == 1

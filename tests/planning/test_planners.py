"""Latent planners: CEM / MPPI on known models, bounds, MPPI weights, warm start, the MPC policy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import jepa_world.planning as P
from planning.analytic import CLASSIC, Additive, Spy, assert_close, make  # noqa: F401


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
    planner = make(
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
    planner = make(
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
    planner = make(name, **cfg)
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
    planner = make(
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
    planner = make("mppi", horizon=5, samples=8, iterations=2, elites=4, pad=pad)
    goal = torch.tensor([[3.0, 1.0]])
    first = planner.plan(spy, torch.zeros(1, 2), goal).plan
    spy.calls.clear()
    planner.plan(spy, torch.zeros(1, 2), goal)
    # sample 0 of the first iteration is the starting mean, clipped
    assert_close(spy.calls[0][0], P.shift_plan(first, pad))
    cold = make("mppi", horizon=5, samples=8, iterations=2, elites=4, warm_start=False)
    cold.plan(spy, torch.zeros(1, 2), goal)
    spy.calls.clear()
    cold.plan(spy, torch.zeros(1, 2), goal)
    assert torch.equal(spy.calls[0][0], torch.zeros(5, 2))


def test_policy_replanning_every_k_steps_shifts_by_k():
    spy = Spy()
    planner = make("cem", horizon=6, samples=8, iterations=1, elites=2, seed=0)
    policy = P.MPCPolicy(planner, spy, np.array([4.0, 4.0], dtype=np.float32), replan_every=3)
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
        ({"low": (-1.0, -1.0, -1.0), "high": 1.0, "action_dim": 2}, "low"),
        ({"low": -1.0}, "low"),  # one bound without the other
        ({"cost": "cos"}, "cost"),
        ({"cost_steps": "max"}, "cost_steps"),
        ({"noise_beta": -1.0}, "noise_beta"),
        ({"execute": "median"}, "execute"),
        ({"final_weight": -1.0}, "final_weight"),
        ({"seed": -2}, "seed"),
        ({"max_norm": 0.0}, "max_norm"),
        ({"max_norm": float("inf")}, "max_norm"),
    ],
)
def test_config_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        P.PlannerConfig(**kwargs)


def test_planner_rejects_non_finite_model():
    class Broken(Additive):
        def rollout(self, z0, actions):
            return super().rollout(z0, actions) * float("nan")

    planner = make("cem", horizon=2, samples=4, iterations=1, elites=2)
    with pytest.raises(ValueError, match="non-finite"):
        planner.plan(Broken(), torch.zeros(1, 2), torch.ones(1, 2))
    with pytest.raises(ValueError, match="unknown planner"):
        make("ilqr")


def test_a_planner_without_bounds_takes_them_from_the_action_space():
    gym = pytest.importorskip("gymnasium")
    space = gym.spaces.Box(np.array([-1.0, -0.5], np.float32), np.array([2.0, 0.5], np.float32))
    unbound = P.create_planner("mppi", horizon=4, samples=8, iterations=1, elites=2)
    with pytest.raises(ValueError, match="no action bounds"):
        unbound.plan(Additive(), torch.zeros(1, 2), torch.ones(1, 2))
    bound = unbound.with_bounds(*P.action_bounds(space))
    assert bound.config.action_dim == 2
    assert bound.low.tolist() == [-1.0, -0.5] and bound.high.tolist() == [2.0, 0.5]
    assert bound.with_bounds((-9.0, -9.0), (9.0, 9.0)) is bound  # own bounds win
    # one number for every axis: the space gives the action size, the config the bounds
    scalar = P.create_planner("mppi", low=-0.25, high=0.25).with_bounds(*P.action_bounds(space))
    assert scalar.low.tolist() == [-0.25, -0.25]
    discrete = P.action_bounds(gym.spaces.Discrete(3))
    assert discrete == ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert P.env_action(gym.spaces.Discrete(3), np.array([0.1, 0.7, 0.2])) == 1


class PointEnv:
    """A gymnasium-style env: a point at ``position`` moved by the action, bounded to [-0.5,
    0.5] per axis; the observation is the position itself."""

    def __init__(self) -> None:
        gym = pytest.importorskip("gymnasium")
        self.action_space = gym.spaces.Box(-0.5, 0.5, (2,), np.float32)
        self.position = np.zeros(2, np.float32)

    def step(self, action):
        assert np.all(np.abs(action) <= 0.5 + 1e-6)  # the planner kept to the action space
        self.position = self.position + action
        return self.position.copy(), 0.0, False, False, {"position": self.position.copy()}


def test_one_mpc_loop_drives_a_gym_env_within_its_action_space():
    env = PointEnv()
    planner = P.create_planner(
        "mppi", horizon=6, samples=32, iterations=2, elites=4, init_std=0.3, cost_steps="sum",
        seed=0,
    )  # fmt: skip
    policy = P.MPCPolicy(
        planner, Additive(), np.array([2.0, -1.0], np.float32), 1, env.action_space
    )
    assert policy.planner.high.tolist() == [0.5, 0.5]
    obs = env.position.copy()
    trace = P.run_mpc(env, policy, obs, {"position": obs}, steps=8, keep_observations=True)
    assert trace.actions.shape == (8, 2) and len(trace.infos) == 9 and len(trace.observations) == 8
    assert len(trace.decision_seconds) == 8 and trace.seconds > 0
    assert np.abs(trace.actions).max() <= 0.5 + 1e-6
    assert np.linalg.norm(env.position - np.array([2.0, -1.0])) < 0.5
    with pytest.raises(ValueError, match="steps"):
        P.run_mpc(env, policy, obs, {}, steps=0)

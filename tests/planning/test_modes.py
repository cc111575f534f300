"""The multi-mode search: a wrapper that keeps several routes round an obstacle in play."""

from __future__ import annotations

import pytest
import torch

import jepa_world.planning as P
from planning.analytic import Additive, Spy, assert_close, make


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
        planner = make(
            "mppi", horizon=16, samples=64, iterations=3, elites=16, low=-1.0, high=1.0,
            init_std=0.1, min_std=0.01, temperature=0.05, cost="l2", final_weight=10.0,
            modes=P.ModeConfig(modes, separation=3.0), seed=seed,
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
    planner = make(
        "mppi", horizon=4, samples=30, iterations=2, elites=6, cost="l2", cost_steps="final",
        modes=P.ModeConfig(3), seed=0,
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
        planner = make(
            "mppi", horizon=6, samples=40, iterations=2, elites=8, low=-1.0, high=1.0,
            max_norm=0.8, modes=P.ModeConfig(4, separation=separation), seed=0,
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
    planner = make(
        "mppi",
        horizon=4,
        samples=24,
        iterations=1,
        elites=8,
        modes=P.ModeConfig(4, patience=3),
        seed=0,
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


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"count": 0}, "modes"),
        ({"separation": -1.0}, "mode_separation"),
        ({"separation": float("inf")}, "mode_separation"),
        ({"patience": 0}, "mode_patience"),
    ],
)
def test_mode_config_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        P.ModeConfig(**kwargs)


def test_the_wrapper_needs_an_elite_per_mode_and_wraps_any_planner():
    with pytest.raises(ValueError, match="modes=5: at most elites=4"):
        make("mppi", elites=4, modes=P.ModeConfig(5))
    inner = make("cem", horizon=4, samples=12, iterations=1, elites=4)
    wrapped = P.MultiModePlanner(inner, P.ModeConfig(2))
    assert wrapped.config is inner.config and wrapped.name == "cem"
    assert wrapped.with_bounds((-1.0, -1.0), (1.0, 1.0)) is wrapped  # bounded already
    unbound = P.MultiModePlanner(P.create_planner("mppi", elites=4), P.ModeConfig(2))
    bound = unbound.with_bounds((-1.0, -1.0), (1.0, 1.0))
    assert isinstance(bound, P.MultiModePlanner) and bound.modes == unbound.modes
    assert bound.planner.high.tolist() == [1.0, 1.0]


def test_one_mode_without_patience_plans_as_the_planner_it_wraps():
    """The wrapper adds the modes and nothing else: with one mode it draws the same noise and
    returns the same plans as the bare planner."""
    settings = dict(horizon=5, samples=16, iterations=2, elites=4, seed=3)
    bare, wrapped = make("mppi", **settings), make("mppi", modes=P.ModeConfig(1), **settings)
    goal = torch.tensor([[3.0, -2.0]])
    for z in ([0.0, 0.0], [0.5, -0.2], [1.2, -0.6]):
        a = bare.plan(Additive(), torch.tensor([z]), goal)
        b = wrapped.plan(Additive(), torch.tensor([z]), goal)
        assert torch.equal(a.plan, b.plan) and a.cost == b.cost

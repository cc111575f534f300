"""Two Rooms: walls block motion, actions are clipped, walks follow the benchmark's protocol."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from jepa_world.worlds import create_world
from jepa_world.worlds.two_rooms import (
    ACTION_BOUND,
    ARENA_HIGH,
    ARENA_LOW,
    SIGMA,
    TwoRoomsWalks,
    is_free,
    move,
    render_frames,
    sample_start_goal,
    wall_mask,
)

gymnasium = pytest.importorskip("gymnasium")


def _inside_wall(p: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray, tol: float = 1e-9):
    """Points strictly inside the inner wall's solid by more than ``tol`` (independent check)."""
    x, y = p[..., 0], p[..., 1]
    in_band = (x > wall_x - 1 + tol) & (x < wall_x + 2 - tol)
    return in_band & ((y < door_y - 4 - tol) | (y > door_y + 5 + tol))


def _assert_legal_path(before, after, wall_x, door_y):
    """Every step stays in the arena and its segment never passes through the inner wall."""
    assert (after >= ARENA_LOW).all() and (after <= ARENA_HIGH).all()
    for f in np.linspace(0.0, 1.0, 41):  # dense points along each straight move
        point = before + f * (after - before)
        assert not _inside_wall(point, wall_x, door_y).any()
    # where a move jumps from one side of the wall to the other, it must do so in the door
    left, right = wall_x - 1.0, wall_x + 2.0
    x0, x1 = before[..., 0], after[..., 0]
    jumped = ((x0 <= left) & (x1 >= right)) | ((x0 >= right) & (x1 <= left))
    for face in (left, right):
        f = np.where(jumped, (face - x0) / np.where(jumped, x1 - x0, 1.0), 0.0)
        y = before[..., 1] + f * (after[..., 1] - before[..., 1])
        ok = (y >= door_y - 4 - 1e-9) & (y <= door_y + 5 + 1e-9)
        assert ok[jumped].all()


def test_agent_never_crosses_the_wall_outside_the_door() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    wall_x = rng.integers(20, 45, n).astype(float)
    door_y = rng.integers(12, 53, n).astype(float)
    pos = np.stack(
        [rng.uniform(ARENA_LOW, ARENA_HIGH, n), rng.uniform(ARENA_LOW, ARENA_HIGH, n)], 1
    )
    pos = np.where(is_free(pos, wall_x, door_y)[:, None], pos, [[ARENA_LOW, ARENA_LOW]])
    # a third of the agents start at the door's corners and edges and hammer at them
    third = n // 3
    corner_y = np.where(rng.random(third) < 0.5, door_y[:third] - 4, door_y[:third] + 5)
    corner_x = np.where(rng.random(third) < 0.5, wall_x[:third] - 1, wall_x[:third] + 2)
    pos[:third] = np.stack([corner_x + rng.uniform(-1, 1, third), corner_y], 1)
    pos[:third] = np.where(
        is_free(pos[:third], wall_x[:third], door_y[:third])[:, None],
        pos[:third],
        np.stack([wall_x[:third] + 0.5, door_y[:third] + 0.5], 1),
    )
    assert is_free(pos, wall_x, door_y).all()
    crossings = 0
    for step in range(150):
        if step % 3 == 0:  # big, out-of-bound actions in any direction
            action = rng.uniform(-8, 8, (n, 2))
        elif step % 3 == 1:  # aimed at the door edges, slightly off
            target = np.stack(
                [
                    wall_x + 0.5 - 3 * np.sign(pos[:, 0] - wall_x - 0.5),
                    door_y + 0.5 + rng.choice([-4.6, 4.6, -3.0, 3.0], n),
                ],
                1,
            )
            action = (target - pos) * rng.uniform(0.5, 3.0, (n, 1))
        else:  # straight at the wall, along and across it
            action = rng.choice([-1.0, 1.0], (n, 2)) * rng.uniform(0, 5, (n, 2))
            action[rng.random(n) < 0.3, 1] = 0.0
        new = move(pos, action, wall_x, door_y)
        _assert_legal_path(pos, new, wall_x, door_y)
        step_taken = np.abs(new - pos)
        assert (step_taken <= ACTION_BOUND + 1e-9).all()  # over-bound actions were clipped
        crossings += int(
            (np.sign(new[:, 0] - wall_x - 0.5) != np.sign(pos[:, 0] - wall_x - 0.5)).sum()
        )
        pos = new
    assert crossings > 100  # the door is open: the test did exercise crossings


def test_move_clips_actions_and_is_exact_in_open_space() -> None:
    start = np.array([[10.0, 30.0], [10.0, 30.0]])
    out = move(start, np.array([[100.0, -100.0], [0.5, 1.25]]), 40, 30)
    np.testing.assert_allclose(out, [[12.45, 27.55], [10.5, 31.25]])


def test_move_stops_at_wall_faces() -> None:
    # straight into the wall's left face (wall_x=30: solid 29 < x < 32) far from the door
    out = move(np.array([27.5, 50.0]), np.array([2.0, 0.0]), 30, 20)
    np.testing.assert_allclose(out, [29.0, 50.0])
    # through the door (rows 16..24 -> y in [16, 25]) it passes
    out = move(np.array([27.5, 20.0]), np.array([2.4, 0.0]), 30, 20)
    np.testing.assert_allclose(out, [29.9, 20.0])
    # inside the doorway, up into the door's top edge (y = 16)
    out = move(np.array([30.0, 17.0]), np.array([0.0, -2.0]), 30, 20)
    np.testing.assert_allclose(out, [30.0, 16.0])
    # out of the arena: stops at the border (x = 5)
    out = move(np.array([6.0, 40.0]), np.array([-2.0, -1.0]), 30, 20)
    np.testing.assert_allclose(out, [5.0, 39.5])


def test_move_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        move(np.array([10.0, 10.0]), np.array([np.nan, 0.0]), 30, 20)
    with pytest.raises(ValueError, match="size 2"):
        move(np.zeros(3), np.zeros(3), 30, 20)


def test_render_dot_centroid_matches_position() -> None:
    rng = np.random.default_rng(1)
    pos = rng.uniform(ARENA_LOW, ARENA_HIGH, (6, 5, 2))
    frames = render_frames(pos, np.full(6, 30), np.full(6, 30))
    assert frames.shape == (6, 5, 2, 65, 65) and frames.dtype == np.uint8
    dots = frames[:, :, 0].astype(np.float64)
    centres = np.arange(65) + 0.5
    mass = dots.sum((-1, -2))
    cx = (dots.sum(-2) * centres).sum(-1) / mass
    cy = (dots.sum(-1) * centres).sum(-1) / mass
    assert np.abs(cx - pos[..., 0]).max() < 0.5
    assert np.abs(cy - pos[..., 1]).max() < 0.5
    assert dots.max() >= 200  # a bright dot, peak 255 at a pixel centre


def test_wall_mask_geometry() -> None:
    mask = wall_mask([30], [20])[0]
    assert mask[:5].all() and mask[60:].all() and mask[:, :5].all() and mask[:, 60:].all()
    assert mask[30, 29:32].all() and not mask[30, 28] and not mask[30, 32]  # 3 px thick
    door_rows = np.flatnonzero(mask[5:60, 30] == 0) + 5
    assert door_rows.tolist() == list(range(16, 25))  # 9 px tall, centred on door_y


def test_sample_start_goal_opposite_rooms_with_margin() -> None:
    rng = np.random.default_rng(2)
    wall_x = rng.integers(20, 45, 2000)
    start, goal = sample_start_goal(rng, wall_x, rng.integers(12, 53, 2000))
    centre = wall_x + 0.5
    assert ((start[:, 0] < centre) != (goal[:, 0] < centre)).all()
    swapped = (start[:, 0] > centre).mean()
    assert 0.45 < swapped < 0.55
    for p in (start, goal):
        gap_to_wall = np.minimum(np.abs(p[:, 0] - (wall_x - 1)), np.abs(p[:, 0] - (wall_x + 2)))
        assert (gap_to_wall >= 2 * SIGMA - 1e-9).all()
        assert (p >= ARENA_LOW + 2 * SIGMA - 1e-9).all() and (p <= ARENA_HIGH - 2 * SIGMA).all()
    single_start, single_goal = sample_start_goal(rng, 30, 20)
    assert single_start.shape == (2,) and single_goal.shape == (2,)


# --------------------------------------------------------------------------------------------
# gymnasium environment
# --------------------------------------------------------------------------------------------


def _env(**kwargs):
    from jepa_world.worlds.two_rooms import TwoRoomsEnv

    return TwoRoomsEnv(**kwargs)


def test_env_passes_gymnasium_check_env() -> None:
    from gymnasium.utils.env_checker import check_env

    env = _env(render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advice on [-1, 1] action ranges
        check_env(env, skip_render_check=False)
    assert env.render().shape == (65, 65, 3)


def test_env_reset_step_info_and_reward() -> None:
    env = _env(render_mode="rgb_array", max_episode_steps=8)
    options = {"wall_x": 30, "door_y": 20, "start": (10.5, 40.5), "goal": (50.5, 40.5)}
    obs, info = env.reset(seed=3, options=options)
    assert obs.shape == (2, 65, 65) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs)
    assert info["wall_x"] == 30 and info["door_y"] == 20
    np.testing.assert_allclose(info["position"], [10.5, 40.5])
    assert info["distance"] == pytest.approx(40.0)
    obs, reward, terminated, truncated, info = env.step(np.array([10.0, 0.0]))  # clipped
    np.testing.assert_allclose(info["position"], [12.95, 40.5])
    assert reward == pytest.approx(-(50.5 - 12.95))
    assert not terminated and not truncated
    for _ in range(7):  # 12.95 + 7 * 2.45 > 29: the wall's face (wall_x - 1) stops it
        _, _, terminated, truncated, info = env.step(np.array([2.45, 0.0]))
    assert truncated and not terminated
    assert info["position"][0] == pytest.approx(29.0)  # stopped by the wall, not the door
    assert divmod(int(env.goal_observation()[0].argmax()), 65) == (40, 50)  # row, column
    # no goal: zero reward and no distance
    env.reset(seed=4, options={"goal": None})
    _, reward, _, _, info = env.step(np.zeros(2))
    assert reward == 0.0 and "distance" not in info


def test_env_reset_is_seeded_and_draws_medium_level() -> None:
    env = _env()
    a, info_a = env.reset(seed=11)
    b, info_b = env.reset(seed=11)
    assert np.array_equal(a, b) and info_a["wall_x"] == info_b["wall_x"]
    centre = info_a["wall_x"] + 0.5
    assert (info_a["position"][0] < centre) != (info_a["goal"][0] < centre)
    assert 20 <= info_a["wall_x"] <= 44


def test_env_rejects_bad_options_and_params() -> None:
    env = _env()
    with pytest.raises(ValueError, match="start"):
        env.reset(seed=0, options={"wall_x": 30, "door_y": 40, "start": (30.0, 10.0)})
    with pytest.raises(ValueError, match="wall_x"):
        env.reset(seed=0, options={"wall_x": 70})
    with pytest.raises(ValueError, match="door_y"):
        env.reset(seed=0, options={"door_y": 3})
    with pytest.raises(ValueError, match="unknown options"):
        env.reset(seed=0, options={"colour": 1})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match="max_episode_steps"):
        _env(max_episode_steps=0)
    with pytest.raises(ValueError, match="render_mode"):
        _env(render_mode="human")


# --------------------------------------------------------------------------------------------
# random-walk windows
# --------------------------------------------------------------------------------------------


def test_walks_batch_shapes_and_dtypes() -> None:
    world = create_world("two_rooms")
    assert (world.frames, world.size, world.channels) == (17, 65, 2)
    batch = world.generate([0, 1, 2])
    assert batch["video"].shape == (3, 17, 2, 65, 65) and batch["video"].dtype == np.uint8
    assert batch["actions"].shape == (3, 17, 2) and batch["actions"].dtype == np.float32
    assert (batch["actions"][:, -1] == 0).all()
    state = batch["state"]
    assert state["position"].shape == (3, 17, 2) and state["position"].dtype == np.float32
    for key in ("wall_x", "door_y"):
        assert state[key].shape == (3, 17) and state[key].dtype == np.float32
    assert np.array_equal(
        batch["video"][:, :, 1],
        wall_mask(state["wall_x"][:, 0], state["door_y"][:, 0])[:, None].repeat(17, 1),
    )


def test_walks_same_seed_same_bytes_in_any_batch() -> None:
    world = TwoRoomsWalks()
    alone = world.generate([7])
    mixed = world.generate([3, 100, 7, 55])
    again = world.generate([3, 100, 7, 55])
    for key in ("video", "actions"):
        assert np.array_equal(alone[key][0], mixed[key][2])
        assert np.array_equal(mixed[key], again[key])
    assert np.array_equal(alone["state"]["position"][0], mixed["state"]["position"][2])
    assert not np.array_equal(mixed["video"][0], mixed["video"][1])


def test_walks_follow_the_true_dynamics() -> None:
    walks = TwoRoomsWalks().walks(np.arange(200))
    pos, act = walks["position"], walks["actions"]
    wall_x = walks["wall_x"][:, None]
    door_y = walks["door_y"][:, None]
    expected = move(pos[:, :-1], act[:, :-1], wall_x, door_y)
    np.testing.assert_allclose(pos[:, 1:], expected, atol=1e-9)
    _assert_legal_path(pos[:, :-1], pos[:, 1:], wall_x, door_y)


def test_window_actions_move_frame_t_to_t_plus_1() -> None:
    batch = TwoRoomsWalks().generate(np.arange(64))
    pos, act, state = batch["state"]["position"], batch["actions"], batch["state"]
    wall_x, door_y = state["wall_x"][:, :-1], state["door_y"][:, :-1]
    expected = move(pos[:, :-1].astype(np.float64), act[:, :-1], wall_x, door_y)
    np.testing.assert_allclose(pos[:, 1:], expected, atol=1e-4)


def test_walks_door_crossings_about_door_fraction() -> None:
    world = TwoRoomsWalks(frames=17, walk_length=91, door_fraction=0.35)
    walks = world.walks(np.arange(600))
    routed = walks["routed"]
    assert 0.28 < routed.mean() < 0.42  # binomial(600, 0.35): +-3 sigma is about +-0.06
    side = np.sign(walks["position"][:, :, 0] - (walks["wall_x"][:, None] + 0.5))
    crossed = (side != side[:, :1]).any(1)
    assert crossed[routed].mean() > 0.9  # routed walks do go through the door
    # windows: the routed ones are cut around the crossing, so about 35 % show one
    batch = world.generate(np.arange(600))
    side = np.sign(batch["state"]["position"][..., 0] - (batch["state"]["wall_x"] + 0.5))
    window_crossed = (side != side[:, :1]).any(1)
    assert 0.28 < window_crossed.mean() < 0.48
    none_routed = TwoRoomsWalks(door_fraction=0.0).generate(np.arange(300))
    side = np.sign(
        none_routed["state"]["position"][..., 0] - (none_routed["state"]["wall_x"] + 0.5)
    )
    assert (side != side[:, :1]).any(1).mean() < 0.15


def test_walk_step_lengths_follow_clipped_normal() -> None:
    walks = TwoRoomsWalks(step_mean=1.0, step_std=0.4, step_range=(0.2, 1.8)).walks(np.arange(300))
    lengths = np.linalg.norm(walks["actions"][:, :-1], axis=-1).ravel()
    assert lengths.min() >= 0.2 - 1e-9 and lengths.max() <= 1.8 + 1e-9
    # reference: the same clipped normal drawn independently
    ref = np.clip(np.random.default_rng(123).normal(1.0, 0.4, 200_000), 0.2, 1.8)
    assert lengths.mean() == pytest.approx(ref.mean(), abs=0.01)
    assert lengths.std() == pytest.approx(ref.std(), abs=0.01)
    assert np.mean(lengths == 1.8) == pytest.approx(np.mean(ref == 1.8), abs=0.005)


def test_walk_heading_changes_smoothly() -> None:
    walks = TwoRoomsWalks(door_fraction=0.0).walks(np.arange(100))
    act = walks["actions"][:, :-1]
    heading = np.arctan2(act[..., 1], act[..., 0])
    turn = (np.diff(heading, axis=1) + math.pi) % (2 * math.pi) - math.pi
    moved = np.linalg.norm(np.diff(walks["position"], axis=1), axis=-1)[:, 1:]
    free = np.isclose(moved, np.linalg.norm(act[:, 1:], axis=-1))  # not bounced off a wall
    assert np.median(np.abs(turn[free])) < 0.6  # von Mises(kappa=5): median |turn| ~ 0.3 rad


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"frames": 1}, "frames"),
        ({"frames": 20, "walk_length": 10}, "walk_length"),
        ({"door_fraction": 1.5}, "door_fraction"),
        ({"step_mean": -1.0}, "step_mean"),
        ({"step_range": (1.5, 0.5)}, "step_range"),
        ({"step_range": (0.2, 3.0)}, "step_range"),
        ({"wall_range": (5, 44)}, "wall_range"),
        ({"door_range": (12, 60)}, "door_range"),
        ({"sigma": 0.0}, "sigma"),
        ({"turn_concentration": -1.0}, "turn_concentration"),
    ],
)
def test_walks_reject_invalid_params(params: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        TwoRoomsWalks(**params)


def test_walks_reject_negative_seeds() -> None:
    with pytest.raises(ValueError, match="seeds"):
        TwoRoomsWalks().generate([-1])


def test_pushing_walks_keep_pushing_into_walls() -> None:
    """push_fraction=1: same draws, same legal dynamics, but a blocked walk keeps its heading, so
    its next asked move still points into the wall (reflected walks turn away at once); a
    fraction in between mixes the two kinds walk by walk, leaving the other draws unchanged."""
    seeds = np.arange(200)
    plain, pushing = TwoRoomsWalks().walks(seeds), TwoRoomsWalks(push_fraction=1.0).walks(seeds)
    pos, act = pushing["position"], pushing["actions"]
    wall_x, door_y = pushing["wall_x"][:, None], pushing["door_y"][:, None]
    np.testing.assert_allclose(pos[:, 1:], move(pos[:, :-1], act[:, :-1], wall_x, door_y))
    _assert_legal_path(pos[:, :-1], pos[:, 1:], wall_x, door_y)
    assert not np.allclose(plain["position"], pos)

    def blocked(walks: dict[str, np.ndarray]) -> np.ndarray:
        p, a = walks["position"], walks["actions"]
        return np.linalg.norm(p[:, 1:] - p[:, :-1], axis=-1) < 0.5 * np.linalg.norm(
            a[:, :-1], axis=-1
        )

    def blocked_again(walks: dict[str, np.ndarray]) -> float:
        """Share of blocked moves whose next move is blocked too."""
        short = blocked(walks)
        return float((short[:, 1:] & short[:, :-1]).sum() / max(short[:, :-1].sum(), 1))

    assert blocked_again(pushing) > blocked_again(plain) + 0.2
    mixed = TwoRoomsWalks(push_fraction=0.5).walks(seeds)
    same_as_plain = (mixed["position"] == plain["position"]).all(axis=(1, 2))
    same_as_pushing = (mixed["position"] == pushing["position"]).all(axis=(1, 2))
    assert (same_as_plain | same_as_pushing).all()
    assert 0.3 < blocked(mixed).mean() / blocked(pushing).mean() < 0.7

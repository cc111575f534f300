"""Intuitive-physics stimuli: matched on the pixels, exact ties, honest physics, validation."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_world.worlds import create_world
from jepa_world.worlds.intuitive import OPEN_VIEW_KINDS, PROPERTIES, IntuitivePhysics
from jepa_world.worlds.physics2d import Scene, render, simulate

QUADS = 6  # per property
PAIRS = 16  # per open-view kind


@pytest.fixture(scope="module")
def world() -> IntuitivePhysics:
    return IntuitivePhysics()


@pytest.fixture(scope="module")
def quads(world: IntuitivePhysics) -> dict[str, dict]:
    return {prop: world.quadruplets(prop, np.arange(QUADS) + 1000) for prop in PROPERTIES}


@pytest.fixture(scope="module")
def pairs(world: IntuitivePhysics) -> dict[str, dict]:
    return {kind: world.open_view_pairs(kind, np.arange(PAIRS) + 2000) for kind in OPEN_VIEW_KINDS}


def novelty(video: np.ndarray) -> np.ndarray:
    """Copy-last-frame pixel novelty per clip: sum over frames of sum |x_t - x_{t-1}| (exact)."""
    diff = np.abs(np.diff(video.astype(np.int16), axis=-4))
    return diff.reshape(*video.shape[:-4], -1).sum(-1, dtype=np.int64)


def segments(splices: np.ndarray, frames: int) -> list[slice]:
    bounds = [0, *(int(s) + 1 for s in splices), frames]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def hidden_run(hidden: np.ndarray, s: int) -> int:
    """Length of the run of hidden frames that contains frame s (0 if s is not hidden)."""
    if not hidden[s]:
        return 0
    lo = hi = s
    while lo > 0 and hidden[lo - 1]:
        lo -= 1
    while hi < len(hidden) - 1 and hidden[hi + 1]:
        hi += 1
    return hi - lo + 1


@pytest.mark.parametrize("prop", PROPERTIES)
def test_every_segment_once_among_possible_and_once_among_impossible(world, quads, prop):
    data = quads[prop]
    video, t, size = data["video"], world.frames, world.size
    assert video.shape == (QUADS, 4, t, 3, size, size) and video.dtype == np.uint8
    assert data["possible"].tolist() == [True, True, False, False]
    for q in range(QUADS):
        for seg in segments(data["splices"][q], t):
            a, b = video[q, 0, seg], video[q, 1, seg]
            assert not np.array_equal(a, b), "A and B must differ in every segment"
            used = [0, 0]
            for m in (2, 3):
                same = [np.array_equal(video[q, m, seg], src) for src in (a, b)]
                assert sum(same) == 1, "each impossible segment is A's or B's"
                used[same.index(True)] += 1
            assert used == [1, 1], "A's and B's segment each used once by C, D"
        for s in data["splices"][q]:
            assert np.array_equal(video[q, 0, s], video[q, 1, s]), "splice frames identical"


@pytest.mark.parametrize("prop", PROPERTIES)
def test_twins_identical_before_divergence_and_differ_at_it(quads, prop):
    data = quads[prop]
    video, div = data["video"], data["divergence"]
    for q in range(QUADS):
        for impossible, twin in ((2, 0), (3, 1)):
            d = int(div[q, impossible])
            assert d == div[q, twin] and d > data["splices"][q, 0]
            assert np.array_equal(video[q, impossible, :d], video[q, twin, :d])
            assert not np.array_equal(video[q, impossible, d], video[q, twin, d])


@pytest.mark.parametrize("prop", PROPERTIES)
def test_pixel_novelty_ties_exactly(quads, prop):
    score = novelty(quads[prop]["video"])  # (Q, 4)
    np.testing.assert_array_equal(score[:, 2] + score[:, 3], score[:, 0] + score[:, 1])
    # Not vacuous: the impossible clips alone do differ from their twins.
    assert (score[:, 2] != score[:, 0]).any()


@pytest.mark.parametrize("prop", PROPERTIES)
def test_target_hidden_for_four_frames_around_each_splice(quads, prop):
    data = quads[prop]
    hidden = data["state"]["visible"][..., 0] <= 0.0  # (Q, 4, T), slot 0 is the target
    for q in range(QUADS):
        for s in data["splices"][q]:
            for m in range(4):
                assert hidden_run(hidden[q, m], int(s)) >= 4
        assert data["state"]["visible"][q, 0, 0, 0] >= 0.99, "A starts with the ball in view"


@pytest.mark.parametrize("prop", PROPERTIES)
def test_possible_clips_are_physics2d_simulations(world, quads, prop):
    """Re-simulate and re-render A and B from their initial conditions with plain physics2d."""
    data, t = quads[prop], world.frames
    sc = data["scene"]
    q, k = sc["radius"].shape
    rows = 2 * q
    scene = Scene(
        position=sc["position"].reshape(rows, k, 2),
        velocity=sc["velocity"].reshape(rows, k, 2),
        radius=np.repeat(sc["radius"], 2, axis=0),
        mass=np.repeat(sc["radius"], 2, axis=0) ** 2,
        colour=sc["colour"].reshape(rows, k, 3),
        present=sc["present"].reshape(rows, k),
        gravity=np.repeat(sc["gravity"], 2),
        platforms=np.repeat(sc["platforms"], 2, axis=0),
        platform_present=np.repeat(sc["platform_present"], 2, axis=0),
        occluders=np.repeat(sc["occluders"], 2, axis=0),
        occluder_present=np.repeat(sc["occluder_present"], 2, axis=0),
        size=world.size,
    )
    positions, _ = simulate(scene, t, world.substeps)
    video, _ = render(scene, positions * scene.present[:, None, :, None])
    np.testing.assert_array_equal(video.reshape(q, 2, *video.shape[1:]), data["video"][:, :2])
    state = data["state"]["position"][:, :2].reshape(rows, t, k, 2)
    on = scene.present[:, None, :, None]
    np.testing.assert_allclose(state, np.where(on, positions, 0.0), atol=1e-4)
    if prop == "gravity":
        assert (sc["gravity"] > 0).all()


def test_distractors_are_shared_and_counts_vary(quads):
    counts = []
    for data in quads.values():
        present = data["state"]["present"][..., 1:]  # distractor slots
        pos = data["state"]["position"][..., 1:, :]
        for m in range(1, 4):
            np.testing.assert_array_equal(present[:, m], present[:, 0])
            np.testing.assert_array_equal(pos[:, m], pos[:, 0])
        counts.extend(present[:, 0, 0].sum(-1).tolist())
    assert set(counts) == {1.0, 2.0, 3.0}


def test_open_view_pairs_are_twins_flagged_by_pixel_novelty(pairs):
    flagged = []
    for kind, data in pairs.items():
        video, div = data["video"], data["divergence"]
        assert video.shape[:2] == (PAIRS, 2) and data["possible"].tolist() == [True, False]
        for q in range(PAIRS):
            d = int(div[q])
            assert np.array_equal(video[q, 0, :d], video[q, 1, :d]), kind
            assert not np.array_equal(video[q, 0, d], video[q, 1, d]), kind
        score = novelty(video)
        outcome = np.where(score[:, 1] == score[:, 0], 0.5, score[:, 1] > score[:, 0])
        assert outcome.mean() > 0.6, kind
        flagged.append(outcome)
    assert np.concatenate(flagged).mean() > 0.8


def test_same_seed_same_bytes_in_any_batch(world):
    alone = world.quadruplets("permanence", [7])
    batch = world.quadruplets("permanence", [3, 7, 11])
    np.testing.assert_array_equal(alone["video"][0], batch["video"][1])
    assert not np.array_equal(batch["video"][0], batch["video"][1])
    flat_alone = world.generate([29])["video"][0]
    flat_batch = world.generate([5, 29])["video"][1]
    np.testing.assert_array_equal(flat_alone, flat_batch)


def test_generate_cycles_members_and_properties(world):
    assert (world.frames, world.size, world.channels) == (24, 64, 3)
    seeds = np.arange(20)  # one quadruplet of each property
    batch = world.generate(seeds)
    video, state = batch["video"], batch["state"]
    assert video.shape == (20, world.frames, 3, 64, 64) and video.dtype == np.uint8
    for name in ("property", "quad_id", "member", "possible", "divergence"):
        assert state[name].shape == (20, world.frames) and state[name].dtype == np.float32
    assert state["position"].shape == (20, world.frames, world.max_balls, 2)
    np.testing.assert_array_equal(state["possible"][:, 0], np.tile([1, 1, 0, 0], 5))
    np.testing.assert_array_equal(state["property"][:, 0], np.repeat(np.arange(5), 4))
    np.testing.assert_array_equal(state["quad_id"][:, 0], seeds // 4)
    quad = world.quadruplets("solidity", [0])  # seeds 8..11 are solidity quadruplet 0
    np.testing.assert_array_equal(video[8:12], quad["video"][0])
    np.testing.assert_array_equal(state["divergence"][8:12, 0], quad["divergence"][0])
    assert isinstance(create_world("intuitive"), IntuitivePhysics)


def test_geometry_knobs_hold_out_ranges():
    world = IntuitivePhysics(occluder_width=(19.0, 22.0), occlusion=(6, 9), properties=("colour",))
    data = world.quadruplets("colour", np.arange(4))
    occ = data["scene"]["occluders"][:, 0]
    width = occ[:, 2] - occ[:, 0]
    assert ((width >= 19.0 - 1e-9) & (width <= 22.0 + 1e-9)).all()
    hidden = data["state"]["visible"][:, 0, :, 0] <= 0.0
    runs = [hidden_run(hidden[q], int(data["splices"][q, 0])) for q in range(4)]
    assert min(runs) >= 6 and max(runs) <= 9


@pytest.mark.parametrize(
    "params",
    [
        {"frames": 10},
        {"size": 8},
        {"occluder_width": (20.0, 10.0)},
        {"occluder_width": (4.0, 12.0)},
        {"speed": (-1.0, 2.0)},
        {"occlusion": (0, 5)},
        {"occlusion": (4.5, 6)},
        {"distractors": (0, 4)},
        {"radius": (0.0, 3.0)},
        {"properties": ("permanence", "telekinesis")},
        {"properties": ()},
        {"gravity": 0.0},
        {"gravity_prob": 1.5},
        {"substeps": 1, "speed": (1.0, 6.0)},
        {"frames": 20},  # continuity cannot fit two 4-frame occlusions in 20 frames
    ],
)
def test_invalid_parameters_raise(params):
    with pytest.raises(ValueError, match=r"[a-z_]+"):
        IntuitivePhysics(**params)


def test_invalid_calls_raise(world):
    with pytest.raises(ValueError, match="prop"):
        world.quadruplets("telekinesis", [0])
    with pytest.raises(ValueError, match="kind"):
        world.open_view_pairs("levitate", [0])
    with pytest.raises(ValueError, match="non-negative"):
        world.quadruplets("colour", [-1])


def test_one_design_per_kind_in_the_registry():
    from jepa_world.worlds.intuitive.registry import DESIGNS, QUADRUPLETS, salt

    assert tuple(QUADRUPLETS) == PROPERTIES
    assert tuple(DESIGNS) == (*PROPERTIES, *OPEN_VIEW_KINDS)
    assert all(DESIGNS[kind].name == kind for kind in DESIGNS)
    assert [DESIGNS[p].members for p in PROPERTIES] == [4] * len(PROPERTIES)
    assert [DESIGNS[k].members for k in OPEN_VIEW_KINDS] == [2] * len(OPEN_VIEW_KINDS)
    assert len({salt(kind) for kind in DESIGNS}) == len(DESIGNS)  # independent seed streams

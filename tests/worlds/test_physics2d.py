"""Physics2D: determinism, conservation laws, contacts, rendering geometry and validation."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_world.worlds import World, create_world
from jepa_world.worlds.physics2d import (
    BACKGROUND,
    OCCLUDER_COLOUR,
    PALETTE,
    PLATFORM_COLOUR,
    Physics2D,
    Scene,
    palette_index,
    render,
    simulate,
)

STATE_KEYS = {"position", "velocity", "visible", "present", "radius", "colour_id"}


def make_scene(
    position,
    velocity=None,
    radius=4.0,
    colour_ids=None,
    gravity=0.0,
    platforms=(),
    occluders=(),
    size=64,
) -> Scene:
    """One world with the given balls (K, 2), platforms and occluders (rectangles)."""
    position = np.asarray(position, dtype=np.float64)[None]
    k = position.shape[1]
    velocity = np.zeros_like(position) if velocity is None else np.asarray(velocity)[None] * 1.0
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (1, k)).copy()
    ids = np.arange(k) if colour_ids is None else np.asarray(colour_ids)
    plats = np.asarray(platforms, dtype=np.float64).reshape(1, -1, 4)
    occs = np.asarray(occluders, dtype=np.float64).reshape(1, -1, 4)
    return Scene(
        position=position,
        velocity=velocity.astype(np.float64),
        radius=radius,
        mass=radius**2,
        colour=PALETTE[ids][None].copy(),
        present=np.ones((1, k), dtype=bool),
        gravity=np.array([gravity], dtype=np.float64),
        platforms=plats,
        platform_present=np.ones(plats.shape[:2], dtype=bool),
        occluders=occs,
        occluder_present=np.ones(occs.shape[:2], dtype=bool),
        size=size,
    )


def energy(scene: Scene, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Kinetic plus gravitational potential energy per world and frame (B, T)."""
    on = scene.present[:, None, :]
    kinetic = 0.5 * scene.mass[:, None, :] * (velocities**2).sum(-1)
    potential = -scene.mass[:, None, :] * scene.gravity[:, None, None] * positions[..., 1]
    return ((kinetic + potential) * on).sum(-1)


def pair_gaps(scene: Scene, positions: np.ndarray) -> np.ndarray:
    """Distance between ball surfaces (B, T, pairs); +inf for pairs with an absent ball."""
    i, j = np.triu_indices(scene.max_balls, 1)
    dist = np.linalg.norm(positions[:, :, i] - positions[:, :, j], axis=-1)
    gap = dist - (scene.radius[:, i] + scene.radius[:, j])[:, None]
    both = (scene.present[:, i] & scene.present[:, j])[:, None]
    return np.where(both, gap, np.inf)


# -- batch contract ---------------------------------------------------------------------------


def test_batch_shapes_dtypes_and_padding():
    world = Physics2D(size=48, frames=5, num_balls=(1, 3))
    batch = world.generate([0, 1, 2, 3, 4, 5, 6, 7])
    assert isinstance(world, World) and world.channels == 3 and world.max_balls == 3
    assert batch["video"].shape == (8, 5, 3, 48, 48) and batch["video"].dtype == np.uint8
    state = batch["state"]
    assert set(state) == STATE_KEYS
    assert state["position"].shape == state["velocity"].shape == (8, 5, 3, 2)
    for key in STATE_KEYS - {"position", "velocity"}:
        assert state[key].shape == (8, 5, 3), key
    assert all(v.dtype == np.float32 for v in state.values())

    present = state["present"] > 0
    counts = present[:, 0].sum(-1)
    assert counts.min() >= 1 and counts.max() <= 3 and len(set(counts.tolist())) > 1
    assert (present == present[:, :1]).all()  # the ball set does not change over time
    absent = ~present
    assert (state["colour_id"][absent] == -1).all()
    for key in ("position", "velocity", "visible", "radius"):
        assert (state[key][absent] == 0).all(), key
    ids = state["colour_id"][:, 0]
    for clip_ids, clip_present in zip(ids, present[:, 0], strict=True):
        used = clip_ids[clip_present]
        assert len(set(used.tolist())) == len(used)  # distinct colours = identities
        assert ((used >= 0) & (used < len(PALETTE))).all()
    assert ((state["visible"] >= 0) & (state["visible"] <= 1)).all()
    assert (state["radius"][present] >= 3.0).all() and (state["radius"][present] <= 6.0).all()


def test_registry_builds_the_world():
    world = create_world("physics2d", size=32, frames=3, radius=(2.0, 3.0))
    assert isinstance(world, Physics2D)
    assert world.generate([1])["video"].shape == (1, 3, 3, 32, 32)


def test_same_seed_same_bytes_in_any_batch_and_different_seeds_differ():
    world = Physics2D(frames=6, platforms=(1, 2), occluders=(1, 2))
    first = world.generate([3, 7, 11])
    second = world.generate([11, 99, 3, 5])
    assert first["video"][0].tobytes() == second["video"][2].tobytes()
    assert first["video"][2].tobytes() == second["video"][0].tobytes()
    for key in STATE_KEYS:
        np.testing.assert_array_equal(first["state"][key][0], second["state"][key][2])
    assert first["video"][1].tobytes() != second["video"][1].tobytes()
    videos = world.generate(list(range(16)))["video"].reshape(16, -1)
    assert len({clip.tobytes() for clip in videos}) == 16


def test_palette_colours_are_distinct_from_each_other_and_the_scenery():
    colours = PALETTE.astype(float)
    dist = np.linalg.norm(colours[:, None] - colours[None], axis=-1)
    assert len(PALETTE) >= 8 and dist[np.triu_indices(len(PALETTE), 1)].min() > 90
    for other in (BACKGROUND, PLATFORM_COLOUR, OCCLUDER_COLOUR):
        assert np.linalg.norm(colours - np.asarray(other), axis=-1).min() > 80
    assert len({BACKGROUND, PLATFORM_COLOUR, OCCLUDER_COLOUR}) == 3
    assert palette_index(PALETTE[[4, 0]]).tolist() == [4, 0]
    assert palette_index(np.array([BACKGROUND], dtype=np.uint8)).tolist() == [-1]


# -- physics ----------------------------------------------------------------------------------


def test_kinetic_energy_conserved_without_gravity_through_many_collisions():
    world = Physics2D(num_balls=(4, 4), gravity=0.0, platforms=(0, 2), speed=(1.5, 3.0))
    scene = world.sample_scenes(range(16))
    positions, velocities = simulate(scene, 200)
    kinetic = energy(scene, positions, velocities)
    assert np.abs(kinetic / kinetic[:, :1] - 1).max() < 0.01
    # The test only means something if balls really hit each other and the walls.
    assert (pair_gaps(scene, positions) < 0.5).sum() > 50
    flips = np.diff(np.sign(velocities), axis=1) != 0
    assert flips.sum() > 200
    r = scene.radius[:, None, :, None]
    at_wall = (np.abs(positions - r) < 0.5) | (np.abs(positions - (64 - r)) < 0.5)
    assert at_wall.sum() > 50


def test_total_energy_conserved_with_gravity_and_platforms():
    world = Physics2D(num_balls=(2, 4), gravity_prob=1.0, platforms=(2, 2))
    scene = world.sample_scenes(range(100, 116))
    positions, velocities = simulate(scene, 200)
    total = energy(scene, positions, velocities)
    assert np.abs(total - total[:, :1]).max() < 0.01 * np.abs(total[:, :1]).min()


def test_elastic_collision_matches_the_closed_form():
    # Head-on along x: v1' = ((m1 - m2) v1 + 2 m2 v2) / (m1 + m2), and symmetric.
    scene = make_scene([[16.0, 32.0], [40.0, 32.0]], [[1.0, 0.0], [-0.5, 0.0]], radius=[3.0, 5.0])
    _, velocities = simulate(scene, 12)
    m1, m2, v1, v2 = 9.0, 25.0, 1.0, -0.5
    expected = [
        ((m1 - m2) * v1 + 2 * m2 * v2) / (m1 + m2),
        ((m2 - m1) * v2 + 2 * m1 * v1) / (m1 + m2),
    ]
    np.testing.assert_allclose(velocities[0, -1, :, 0], expected, atol=1e-12)
    np.testing.assert_allclose(velocities[0, -1, :, 1], 0.0, atol=1e-12)


def test_velocity_is_the_motion_of_the_frame_it_belongs_to():
    scene = make_scene([[20.0, 30.0]], [[1.25, -0.5]])
    positions, velocities = simulate(scene, 6)
    np.testing.assert_allclose(np.diff(positions[0, :, 0], axis=0), velocities[0, 1:, 0])
    np.testing.assert_allclose(velocities[0, 0, 0], [1.25, -0.5])


def test_balls_never_overlap_walls_platforms_or_each_other():
    world = Physics2D(num_balls=(3, 4), gravity_prob=0.7, platforms=(1, 2), speed=(1.0, 3.0))
    scene = world.sample_scenes(range(1000, 1128))
    positions, _ = simulate(scene, 64)
    on = scene.present[:, None, :]
    r = scene.radius[:, None, :]
    wall = np.maximum(r[..., None] - positions, positions - (64 - r[..., None])).max(-1)
    assert (wall * on).max() < 0.5
    assert -pair_gaps(scene, positions).min() < 0.5
    for p in range(scene.platforms.shape[1]):
        rect = scene.platforms[:, p, None, None, :]
        nearest = np.clip(positions, rect[..., :2], rect[..., 2:])
        inside = r - np.linalg.norm(positions - nearest, axis=-1)
        assert (inside * on * scene.platform_present[:, p, None, None]).max() < 0.5
    assert (pair_gaps(scene, positions) < 0.05).any()  # contacts did happen


@pytest.mark.parametrize("surface", ["floor", "platform"])
def test_ball_at_rest_on_a_surface_stays_at_rest(surface):
    y = 64 - 4.0 if surface == "floor" else 30.0 - 4.0
    platforms = [(20.0, 30.0, 44.0, 33.0)] if surface == "platform" else []
    scene = make_scene([[32.0, y]], radius=4.0, gravity=0.15, platforms=platforms)
    positions, velocities = simulate(scene, 150)
    assert np.abs(positions[0, :, 0, 1] - y).max() < 1e-3
    assert np.abs(velocities[0, :, 0]).max() < 0.02


def test_bouncing_ball_keeps_its_height():
    scene = make_scene([[32.0, 10.0]], radius=4.0, gravity=0.15)
    positions, _ = simulate(scene, 400)
    bounces = positions[0, :, 0, 1]
    assert bounces.max() > 59.9  # it reached the floor, and came back up to where it started
    assert abs(bounces[200:].min() - 10.0) < 0.05


# -- rendering --------------------------------------------------------------------------------


def coverage_centroid(frame: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """(x, y) centroid of a ball's pixels in a (3, H, W) frame, weighted by coverage.

    A pixel belongs to the ball when its colour lies on the segment from the background to the
    ball's colour; its coverage is its position along that segment.
    """
    pixels = frame.transpose(1, 2, 0).astype(float) - BACKGROUND
    tint = colour.astype(float) - BACKGROUND
    cover = np.clip(pixels @ tint / (tint @ tint), 0, 1)
    on_segment = np.linalg.norm(pixels - cover[..., None] * tint, axis=-1) < 2.0
    cover = np.where(on_segment, cover, 0.0)
    rows, cols = np.indices(cover.shape) + 0.5
    return np.array([(cover * cols).sum(), (cover * rows).sum()]) / cover.sum()


def test_rendered_centroid_matches_position_at_subpixel_offsets():
    rng = np.random.default_rng(0)
    for radius in (3.0, 4.4, 6.0):
        centres = rng.uniform(12, 52, size=(8, 1, 2))
        scene = make_scene(centres[0], radius=radius)
        video, visible = render(scene, centres[None])
        for t in range(8):
            found = coverage_centroid(video[0, t], PALETTE[0])
            assert np.abs(found - centres[t, 0]).max() < 0.05
        np.testing.assert_allclose(visible, 1.0, atol=1e-6)


def test_generated_clips_draw_balls_where_the_state_says():
    world = Physics2D(frames=4, platforms=(0, 0), occluders=(0, 0))
    batch = world.generate(range(12))
    state, checked = batch["state"], 0
    for b, t, s in zip(*np.nonzero(state["present"]), strict=True):
        centre, r = state["position"][b, t, s], state["radius"][b, t, s]
        others = [
            o
            for o in range(world.max_balls)
            if o != s
            and state["present"][b, t, o] > 0
            and np.linalg.norm(state["position"][b, t, o] - centre)
            < r + state["radius"][b, t, o] + 2
        ]
        if others:
            continue  # touching balls blend their edges
        colour = PALETTE[int(state["colour_id"][b, t, s])]
        assert np.abs(coverage_centroid(batch["video"][b, t], colour) - centre).max() < 0.5
        assert state["visible"][b, t, s] == pytest.approx(1.0, abs=1e-6)
        checked += 1
    assert checked > 40


def test_visible_fraction_behind_occluders_balls_and_the_border():
    occluder = (10.0, 10.0, 30.0, 50.0)
    scene = make_scene([[20.0, 30.0], [45.0, 30.0], [50.0, 30.0]], radius=4.0, occluders=[occluder])
    video, visible = render(scene, scene.position[:, None])
    hidden, partly, front = visible[0, 0]
    assert hidden == 0.0  # fully behind the occluder
    assert 0.2 < partly < 0.8  # half covered by the ball drawn after it
    assert front == pytest.approx(1.0, abs=1e-6)
    frame = video[0, 0].transpose(1, 2, 0)
    assert (frame[20:40, 15:25] == OCCLUDER_COLOUR).all()
    assert (frame[28:32, 48:52] == PALETTE[2]).all()

    moved = np.array([[[[-10.0, 30.0], [2.0, 30.0], [64.0, 64.0]]]])  # off-frame, cut, corner
    video, visible = render(scene, moved)
    gone, cut, corner = visible[0, 0]
    assert gone == 0.0
    assert 0.5 < cut < 0.9
    assert corner == pytest.approx(0.25, abs=0.02)


def test_platforms_are_drawn_under_balls():
    platform = (10.0, 40.0, 50.0, 44.0)
    scene = make_scene([[30.0, 42.0]], radius=3.0, platforms=[platform])
    video, _ = render(scene, scene.position[:, None])
    frame = video[0, 0].transpose(1, 2, 0)
    assert (frame[41:43, 12:20] == PLATFORM_COLOUR).all()
    assert (frame[41:43, 29:31] == PALETTE[0]).all()
    assert (frame[5:30, 5:60] == BACKGROUND).all()


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"radius": (-1.0, 3.0)}, "radius"),
        ({"radius": (4.0, 3.0)}, "radius"),
        ({"size": 8}, "size"),
        ({"size": 16, "num_balls": (4, 4), "radius": (5.0, 5.0)}, "more balls than fit"),
        ({"num_balls": (0, 2)}, "num_balls"),
        ({"num_balls": (1, 5)}, "num_balls"),
        ({"num_balls": (3, 1)}, "num_balls"),
        ({"num_balls": (1, 2, 3)}, "num_balls"),
        ({"num_balls": (1.0, 2.0)}, "num_balls"),
        ({"frames": 0}, "frames"),
        ({"palette_size": 3}, "palette_size"),
        ({"gravity_prob": 1.5}, "gravity_prob"),
        ({"speed": (1.0, 15.0), "substeps": 1}, "speed"),
        ({"occluder_width": (0.0, 4.0)}, "occluder_width"),
        ({"platforms": (0, 9)}, "platforms"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=name):
        Physics2D(**params)


def test_bad_scenes_and_positions_are_rejected():
    scene = make_scene([[20.0, 30.0]])
    with pytest.raises(ValueError, match="positions"):
        render(scene, np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="positions"):
        render(scene, np.full((1, 2, 1, 2), np.nan))
    with pytest.raises(ValueError, match="frames"):
        simulate(scene, 0)
    scene.radius = np.array([[-1.0]])
    with pytest.raises(ValueError, match="radius"):
        simulate(scene, 2)
    with pytest.raises(ValueError, match="seeds"):
        Physics2D().generate([-1])

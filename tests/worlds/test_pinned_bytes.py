"""Two Rooms and push, clips and env roll-outs pinned to sha256 digests: the code both worlds
share must not change one byte of what either generates."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from jepa_world.worlds.push import PushWalks
from jepa_world.worlds.two_rooms import TwoRoomsWalks

CLIPS = {
    "two_rooms": "83004b00997ad0b6c5e3b5278618bc37b8d5b75ba110f39366cf55525b8b750d",
    "two_rooms_pushing_routed": "1070f173a5b38236676c7ea7d4284ce48153c789f15802c122e4b8a4c2779e6b",
    "push": "6cac3afbb946e9b345e0d149cdf41dc3be1c213ac3ab9c93d7c7cfaad55431e0",
}
ROLLOUTS = {
    "two_rooms": "b7e21b03087d2f5722f8123eeac71652ab3c35afcc6f47aa9fe2f8ea558eb205",
    "push": "79c8770aa199b9f040682777e436a7a98fafb885aa17602de79aed008b2c1c1d",
}


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def _clip_digest(batch: dict) -> str:
    state = batch["state"]
    return _digest(batch["video"], batch["actions"], *(state[k] for k in sorted(state)))


@pytest.mark.parametrize(
    ("name", "world", "seeds"),
    [
        ("two_rooms", TwoRoomsWalks(), range(8)),
        ("two_rooms_pushing_routed", TwoRoomsWalks(push_fraction=0.5, door_fraction=1.0),
         range(100, 106)),
        ("push", PushWalks(frames=9), range(8)),
    ],
)  # fmt: skip
def test_clips_are_byte_identical(name, world, seeds):
    assert _clip_digest(world.generate(seeds)) == CLIPS[name]


@pytest.mark.parametrize("name", sorted(ROLLOUTS))
def test_env_rollouts_are_byte_identical(name):
    """Observations, renders, rewards, flags and every info value of a 20-step roll-out whose
    actions often exceed the action bounds; the episode is truncated at the last step."""
    pytest.importorskip("gymnasium")
    from jepa_world.worlds.push import PushEnv
    from jepa_world.worlds.two_rooms import TwoRoomsEnv

    env = {"two_rooms": TwoRoomsEnv, "push": PushEnv}[name](
        render_mode="rgb_array", max_episode_steps=20
    )
    obs, _ = env.reset(seed=5)
    goal = env.goal_observation() if env.goal is not None else np.zeros(1)
    parts = [obs, env.render(), goal]
    for action in np.random.default_rng(0).uniform(-4, 4, (20, 2)):
        obs, reward, terminated, truncated, info = env.step(action)
        parts += [obs, np.array([reward, terminated, truncated], float), env.render()]
        parts += [np.asarray(v, float) for _, v in sorted(info.items())]
    assert _digest(*parts) == ROLLOUTS[name]

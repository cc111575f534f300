"""Two Rooms and push, clips and env roll-outs pinned to recorded summaries: the code both
worlds share must not change what either generates.

The summaries (per array: sum and sum of squares) are compared with a relative tolerance of
1e-7, not as digests: both worlds call sin, cos, exp and arctan2, whose last bit may differ
between CPUs' vector math, while any change of logic moves a summary by far more."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_world.worlds.push import PushWalks
from jepa_world.worlds.two_rooms import TwoRoomsWalks

CLIPS: dict[str, list[float]] = {
    "two_rooms": [
        46769577.0,
        11879425773.0,
        -22.86995609116275,
        134.6981498852732,
        4573.0,
        171275.0,
        8590.513637065887,
        316381.24200200563,
        4522.0,
        155924.0,
    ],
    "two_rooms_pushing_routed": [
        35077215.0,
        8909570129.0,
        -1.5012407023459673,
        106.66883908861476,
        3587.0,
        136221.0,
        7313.027851104736,
        281762.20188111445,
        3536.0,
        128044.0,
    ],
    "push": [
        38759023.0,
        2259641847.0,
        -22.63521440140903,
        136.75834637840563,
        4271.771451473236,
        151966.3330541171,
        6.0,
        6.0,
        8178.353226184845,
        291049.12381858414,
        144.0,
        144.0,
        -1.1750703625730239,
        179.23927312701477,
    ],
}
ROLLOUTS: dict[str, list[float]] = {
    "push": [
        11556894.0,
        722026914.0,
        11556894.0,
        722026914.0,
        1.0,
        1.0,
        5328.960315025106,
        204562.63185201288,
    ],
    "two_rooms": [
        7565699.0,
        1921671007.0,
        9889389.0,
        1141334781.0,
        -737.3304724855708,
        27609.318974754853,
        4817.050037054803,
        191984.43687591061,
    ],
}


def _summary(*arrays: np.ndarray) -> list[float]:
    """Sum and sum of squares of every array, in float64."""
    out: list[float] = []
    for a in arrays:
        x = np.asarray(a, dtype=np.float64)
        out += [float(x.sum()), float((x * x).sum())]
    return out


def _clip_summary(batch: dict) -> list[float]:
    state = batch["state"]
    return _summary(batch["video"], batch["actions"], *(state[k] for k in sorted(state)))


@pytest.mark.parametrize(
    ("name", "world", "seeds"),
    [
        ("two_rooms", TwoRoomsWalks(), range(8)),
        ("two_rooms_pushing_routed", TwoRoomsWalks(push_fraction=0.5, door_fraction=1.0),
         range(100, 106)),
        ("push", PushWalks(frames=9), range(8)),
    ],
)  # fmt: skip
def test_clips_are_unchanged(name, world, seeds):
    np.testing.assert_allclose(_clip_summary(world.generate(seeds)), CLIPS[name], rtol=1e-7)


@pytest.mark.parametrize("name", sorted(ROLLOUTS))
def test_env_rollouts_are_unchanged(name):
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
    observations, renders, outcomes, infos = [obs, goal], [env.render()], [], []
    for action in np.random.default_rng(0).uniform(-4, 4, (20, 2)):
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        renders.append(env.render())
        outcomes.append([reward, terminated, truncated])
        infos += [np.asarray(v, float).ravel() for _, v in sorted(info.items())]
    parts = [np.concatenate([np.ravel(p) for p in group]) for group in (observations, renders)]
    parts += [np.asarray(outcomes, float), np.concatenate(infos)]
    np.testing.assert_allclose(_summary(*parts), ROLLOUTS[name], rtol=1e-7)

"""The gymnasium recorder on classic-control envs: layout, determinism, aligned actions."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
pytest.importorskip("gymnasium")
pytest.importorskip("pygame")

from jepa_world.worlds import create_world  # noqa: E402
from jepa_world.worlds.gym import GymRecorder  # noqa: E402


@pytest.fixture(scope="module")
def cartpole() -> GymRecorder:
    recorder = GymRecorder("CartPole-v1", frames=30, size=32)
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def pendulum() -> GymRecorder:
    recorder = GymRecorder("Pendulum-v1", frames=12, size=24)
    yield recorder
    recorder.close()


def test_batch_shapes_and_dtypes(cartpole: GymRecorder) -> None:
    batch = cartpole.generate([0, 1])
    assert batch["video"].shape == (2, 30, 3, 32, 32) and batch["video"].dtype == np.uint8
    assert batch["actions"].shape == (2, 30, 2) and batch["actions"].dtype == np.float32
    obs = batch["state"]["observation"]
    assert obs.shape == (2, 30, 4) and obs.dtype == np.float32
    assert batch["state"]["episode_start"].shape == (2, 30)
    assert (cartpole.frames, cartpole.size, cartpole.channels) == (30, 32, 3)
    assert batch["video"].std() > 0  # a real picture, not a blank canvas


def test_same_seed_same_clip(pendulum: GymRecorder) -> None:
    a = pendulum.generate([5])
    b = pendulum.generate([9, 5])
    for key in ("video", "actions"):
        assert np.array_equal(a[key][0], b[key][1])
    assert np.array_equal(a["state"]["observation"][0], b["state"]["observation"][1])
    assert not np.array_equal(b["state"]["observation"][0], b["state"]["observation"][1])


def test_pendulum_actions_drive_the_next_frame(pendulum: GymRecorder) -> None:
    """Pendulum's update: thdot' = clip(thdot + (15 sin th + 3 u) * 0.05, -8, 8)."""
    batch = pendulum.generate([0, 1, 2])
    obs, u = batch["state"]["observation"], batch["actions"][..., 0]
    assert (u[:, -1] == 0).all() and (np.abs(u[:, :-1]) > 0).all()
    sin_th, thdot = obs[:, :-1, 1], obs[:, :-1, 2]
    predicted = np.clip(thdot + (15.0 * sin_th + 3.0 * u[:, :-1]) * 0.05, -8, 8)
    np.testing.assert_allclose(obs[:, 1:, 2], predicted, atol=1e-4)
    # shifting the actions by one step breaks the relation: the check can fail
    shifted = np.clip(thdot[:, 1:] + (15.0 * sin_th[:, 1:] + 3.0 * u[:, :-2]) * 0.05, -8, 8)
    assert np.abs(obs[:, 2:, 2] - shifted).max() > 1e-2


def test_cartpole_one_hot_actions_push_the_cart(cartpole: GymRecorder) -> None:
    batch = cartpole.generate([0, 1, 2, 3])
    act, obs = batch["actions"], batch["state"]["observation"]
    starts = batch["state"]["episode_start"]
    rows = act[:, :-1].sum(-1)
    assert set(np.unique(rows)) <= {0.0, 1.0}  # one-hot, or 0 at an episode's terminal frame
    assert (starts[:, 0] == 1).all()
    # random CartPole episodes are short: some clip runs into a second episode
    assert starts[:, 1:].sum() > 0
    # the row before an episode start is 0: no action links two episodes
    after = starts[:, 1:] == 1
    assert (rows[after] == 0).all()
    # within an episode, pushing right (action 1) speeds the cart up, left slows it down
    linked = rows == 1
    push = np.where(act[:, :-1, 1] == 1, 1.0, -1.0)
    dv = obs[:, 1:, 1] - obs[:, :-1, 1]
    assert (np.sign(dv[linked]) == push[linked]).all()


def test_given_policy_is_used() -> None:
    recorder = GymRecorder("CartPole-v1", frames=6, size=16, policy=lambda obs: 1)
    batch = recorder.generate([3])
    recorder.close()
    assert (batch["actions"][0, :-1] == [0.0, 1.0]).all()
    assert (np.diff(batch["state"]["observation"][0, :, 1]) > 0).all()


def test_registry_builds_the_recorder() -> None:
    recorder = create_world("gym", env_id="Pendulum-v1", frames=3, size=16)
    assert recorder.generate([0])["video"].shape == (1, 3, 3, 16, 16)
    recorder.close()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"frames": 1}, "frames"),
        ({"size": 8}, "size"),
        ({"env_id": "NoSuchEnv-v0"}, "env_id"),
        ({"env_kwargs": {"render_mode": "human"}}, "render_mode"),
    ],
)
def test_invalid_params_raise(params: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GymRecorder(**params)


def test_bad_policy_type() -> None:
    with pytest.raises(TypeError, match="policy"):
        GymRecorder(policy=3)


def test_missing_gymnasium_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ImportError, match=r"jepa-world\[gym\]"):
        GymRecorder()

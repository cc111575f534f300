"""Record clips from any gymnasium environment: frames, actions and the observation vector.

Turns an environment with ``render_mode="rgb_array"`` into a :class:`~jepa_world.worlds.World`,
so that the same data modules, models and probes run on it as on the procedural worlds. The
environment's own observation vector travels along as ``state["observation"]``, the ground truth
that state probes read out.

Episode ends inside a clip: the clip goes on with a new episode (reset with a seed derived from
the clip's seed). The frame after the last step of the old episode is its terminal frame; no
action leads from it to the next episode's first frame, so its action row is 0 (like the padding
row at the end of every clip) and ``state["episode_start"]`` is 1 on the first frame of every
episode. Hence ``actions[t]`` always moves frame ``t`` to frame ``t + 1`` or is all zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jepa_world.checks import check_int
from jepa_world.worlds.agent_env import import_gymnasium
from jepa_world.worlds.base import Batch, as_seeds

__all__ = ["GymRecorder"]

Policy = Callable[[Any], Any]
"""Maps an observation (as the environment returns it) to an action of its action space."""


class GymRecorder:
    """Clips from ``gymnasium.make(env_id, render_mode="rgb_array", **env_kwargs)``.

    ``generate(seeds)``: for each seed, ``env.reset(seed=seed)`` and, under the random policy,
    ``env.action_space.seed(seed)``, so the same seed gives the same clip (for a given policy,
    determinism is up to the policy). Frames are resized to ``size x size`` (bilinear, aspect
    ratio not kept). Actions are flattened with ``gymnasium.spaces.flatten``: Box actions as
    float32 values, Discrete actions one-hot; observations likewise.

    Batch: ``video`` uint8 (B, T, 3, size, size), ``actions`` float32 (B, T, A) (action t moves
    frame t to t + 1; the last row and rows at episode ends are 0), ``state``:
    ``observation`` float32 (B, T, obs_dim) and ``episode_start`` float32 (B, T).
    """

    channels = 3

    def __init__(
        self,
        env_id: str = "CartPole-v1",
        frames: int = 16,
        size: int = 64,
        policy: Policy | None = None,
        env_kwargs: dict[str, Any] | None = None,
    ) -> None:
        check_int("frames", frames, 2, 100_000)
        check_int("size", size, 16, 1024)
        if policy is not None and not callable(policy):
            raise TypeError(f"policy must be a callable obs -> action or None, got {policy!r}")
        if env_kwargs is not None and not isinstance(env_kwargs, dict):
            raise TypeError(f"env_kwargs must be a dict or None, got {type(env_kwargs).__name__}")
        gym = import_gymnasium('the "gym" world')  # the optional [gym] extra
        kwargs = dict(env_kwargs or {})
        if "render_mode" in kwargs:
            raise ValueError("env_kwargs must not set render_mode: the recorder uses 'rgb_array'")
        try:
            self._env = gym.make(env_id, render_mode="rgb_array", **kwargs)
        except gym.error.Error as err:
            raise ValueError(f"env_id={env_id!r} cannot be made by gymnasium: {err}") from err
        self._spaces = gym.spaces
        self.env_id = env_id
        self.frames = int(frames)
        self.size = int(size)
        self.policy = policy
        self.obs_dim = int(gym.spaces.flatdim(self._env.observation_space))
        self.action_dim = int(gym.spaces.flatdim(self._env.action_space))

    def _frame(self) -> np.ndarray:
        """The current rendering, resized, channels first: uint8 (3, size, size)."""
        from PIL import Image

        picture = np.asarray(self._env.render())
        if picture.ndim != 3 or picture.shape[-1] not in (3, 4):
            raise ValueError(
                f"{self.env_id} rendered an array of shape {picture.shape}; expected (H, W, 3)"
            )
        image = Image.fromarray(np.ascontiguousarray(picture[..., :3], dtype=np.uint8))
        image = image.resize((self.size, self.size), Image.Resampling.BILINEAR, reducing_gap=3.0)
        return np.asarray(image).transpose(2, 0, 1)

    def _act(self, obs: Any) -> Any:
        return self.policy(obs) if self.policy is not None else self._env.action_space.sample()

    def _record(self, seed: int, out: dict[str, np.ndarray], i: int) -> None:
        """Fill row ``i`` of every output array with the clip of ``seed``."""
        env, spaces = self._env, self._spaces
        derived = np.random.default_rng(seed)  # seeds of the episodes after the first
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        ended, start = False, True
        for t in range(self.frames):
            out["video"][i, t] = self._frame()
            out["observation"][i, t] = spaces.flatten(env.observation_space, obs)
            out["episode_start"][i, t] = float(start)
            start = False
            if t == self.frames - 1:
                break
            if ended:  # the action row stays 0: nothing links this frame to the next episode
                obs, _ = env.reset(seed=int(derived.integers(2**31)))
                ended, start = False, True
                continue
            action = self._act(obs)
            out["actions"][i, t] = spaces.flatten(env.action_space, action)
            obs, _, terminated, truncated, _ = env.step(action)
            ended = bool(terminated or truncated)

    def generate(self, seeds: Sequence[int] | np.ndarray) -> Batch:
        """Record one clip per seed (see the class docstring for the batch layout)."""
        seeds = as_seeds(seeds)
        n, t = len(seeds), self.frames
        out = {
            "video": np.zeros((n, t, 3, self.size, self.size), dtype=np.uint8),
            "actions": np.zeros((n, t, self.action_dim), dtype=np.float32),
            "observation": np.zeros((n, t, self.obs_dim), dtype=np.float32),
            "episode_start": np.zeros((n, t), dtype=np.float32),
        }
        for i, seed in enumerate(seeds):
            self._record(int(seed), out, i)
        state = {"observation": out["observation"], "episode_start": out["episode_start"]}
        return {"video": out["video"], "actions": out["actions"], "state": state}

    def close(self) -> None:
        """Release the environment's renderer (pygame surfaces, windows)."""
        self._env.close()

"""The gymnasium plumbing of the worlds' agent environments (``TwoRoomsEnv``, ``PushEnv``).

gymnasium is the optional ``[gym]`` extra, so an env class is built on first access of its
module attribute (:func:`lazy_class`) from :func:`env_base`, which holds what every agent env
does the same way: render modes, the step budget, 2-D displacement actions checked and clipped
by the world, the reward (minus the distance to the goal, 0 without one), truncation, and the
goal image. A world's env supplies ``_move`` (one step of its dynamics), ``_observe`` (the frame
of a state), ``_present`` (the state now) and ``_info``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jepa_world.checks import check_int

__all__ = ["check_action", "env_base", "import_gymnasium", "lazy_class"]


def import_gymnasium(user: str) -> Any:
    """gymnasium, or an ImportError that says ``user`` needs the ``[gym]`` extra."""
    try:
        import gymnasium
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise ImportError(f'{user} needs gymnasium: pip install "jepa-world[gym]"') from err
    return gymnasium


def lazy_class(module: str, name: str, build: Callable[[], type]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that builds class ``name`` on first access, once."""
    built = functools.cache(build)

    def __getattr__(attr: str) -> Any:
        if attr == name:
            return built()
        raise AttributeError(f"module {module!r} has no attribute {attr!r}")

    return __getattr__


def check_action(action: Any) -> np.ndarray:
    """An action as a float64 ``(dx, dy)`` pair; ValueError unless it is a finite one."""
    a = np.asarray(action, dtype=np.float64)
    if a.shape != (2,):
        raise ValueError(f"action must be an (dx, dy) pair of shape (2,), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"action must be finite, got {action!r}")
    return a


@functools.cache
def env_base(gym: Any) -> type:
    """The base class of the agent envs, on ``gym`` (the gymnasium module)."""
    from gymnasium import spaces

    class AgentEnv(gym.Env):
        """An agent that moves by 2-D displacements (px) toward an optional goal."""

        metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
        goal_hint = "..."
        """What ``options={'goal': ...}`` takes, for the error of a goal-less episode."""

        def __init__(
            self,
            render_mode: str | None,
            max_episode_steps: int,
            bound: float,
            observation_shape: Sequence[int],
        ) -> None:
            if render_mode is not None and render_mode not in self.metadata["render_modes"]:
                raise ValueError(f"render_mode={render_mode!r}: allowed None or 'rgb_array'")
            check_int("max_episode_steps", max_episode_steps, 1, 10**9)
            self.render_mode = render_mode
            self.max_episode_steps = int(max_episode_steps)
            self.action_space = spaces.Box(-bound, bound, (2,), np.float32)
            self.observation_space = spaces.Box(0, 255, tuple(observation_shape), np.uint8)
            self.goal: Any = None
            self.steps = 0

        @staticmethod
        def _options(options: dict[str, Any] | None, allowed: Sequence[str]) -> dict[str, Any]:
            """``options`` as a dict; ValueError naming any key not in ``allowed``."""
            options = dict(options or {})
            unknown = set(options) - set(allowed)
            if unknown:
                raise ValueError(f"unknown options {sorted(unknown)}: allowed {', '.join(allowed)}")
            return options

        def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
            self._move(check_action(action))
            self.steps += 1
            info = self._info()
            reward = -info["distance"] if self.goal is not None else 0.0
            truncated = self.steps >= self.max_episode_steps
            return self._observe(self._present()), float(reward), False, truncated, info

        def goal_observation(self) -> np.ndarray:
            """The frame of the goal: the goal image a planner aims for."""
            if self.goal is None:
                raise ValueError(
                    f"this episode has no goal (reset with options={{'goal': {self.goal_hint}}})"
                )
            return self._observe(self.goal)

        def _rendering(self) -> bool:
            """Whether ``render()`` draws (``rgb_array``); warns when it does not."""
            if self.render_mode is None:
                gym.logger.warn("render() called with render_mode=None; pass 'rgb_array'")
                return False
            return True

        def _move(self, action: np.ndarray) -> None:
            raise NotImplementedError

        def _observe(self, state: Any) -> np.ndarray:
            raise NotImplementedError

        def _present(self) -> Any:
            raise NotImplementedError

        def _info(self) -> dict[str, Any]:
            raise NotImplementedError

    return AgentEnv

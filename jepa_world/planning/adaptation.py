"""Test-time adaptation: the action predictor learns from the moves of the episode it plans in.

A learned model is wrong somewhere, and a planner finds where: in Two Rooms the learned predictor
forecasts a little motion for pushes into the inner wall near the door, and MPC keeps asking for
a move that never happens. The agent sees that it did not move, so the MPC loop can tell the
model: after every step, :class:`AdaptingModel` takes ``steps`` Adam updates of a per-episode copy
of the action predictor on the transitions observed so far (``encode(obs_t)``, ``a_t``,
``encode(obs_t+1)``: images and the agent's own actions only, no simulator state), and plans with
the updated copy. Each episode starts again from the exported weights.

One-step updates teach the copy what a single push does, not what a sustained one does: a
learned wall can hold for one step and still give way over a 64-step plan. With
``rollout_steps`` set, every update also rolls the copy out over the episode's own recent
trajectory, ``rollout_steps`` executed actions from each observed latent, against the latents
that were observed (docs/planning.md has what it did).

Fitting a few dozen transitions also moves the copy where the episode shows nothing (Adam steps
every weight by about ``lr``, however small its gradient), and a model that forecast the rest of
the room well can forget it. ``anchor`` adds ``anchor * sum((w - w_export)**2)`` to every update
(L2-SP, Li et al. 2018: fine-tuning that stays near its starting point), so the copy bends where
the episode's own frames disagree with it and keeps the export elsewhere.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["AdaptConfig", "AdaptingModel"]


@dataclass(frozen=True)
class AdaptConfig:
    """``lr``: Adam's learning rate; ``steps``: updates after each executed action; ``buffer``:
    the most recent transitions each update is fitted on (one batch); ``rollout_steps`` (None:
    off): each update adds the mean-squared error of roll-outs of this many steps over the last
    ``buffer`` transitions; ``anchor`` (None: off): each update adds this weight times the
    squared distance of the copy's weights from the export's (:meth:`AdaptingModel.drift`)."""

    lr: float = 1e-3
    steps: int = 1
    buffer: int = 64
    rollout_steps: int | None = None
    anchor: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)):
            raise ValueError(f"lr={self.lr!r} must be a number > 0")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} must be a finite number > 0")
        for name in ("steps", "buffer"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be an int >= 1")
        k = self.rollout_steps
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 2 <= k):
            raise ValueError(f"rollout_steps={k!r} must be None or an int >= 2")
        if k is not None and k > self.buffer:
            raise ValueError(f"rollout_steps={k!r} must be <= buffer={self.buffer}")
        a = self.anchor
        bad = isinstance(a, bool) or not isinstance(a, (int, float))
        if a is not None and (bad or not (math.isfinite(a) and a > 0)):
            raise ValueError(f"anchor={a!r} must be None or a finite number > 0")


class AdaptingModel:
    """A planner's ``LatentModel`` (``encode``, ``rollout``) around a world model with an
    ``action_predictor``, whose predictor copy is refitted on the episode's own transitions.

    The MPC loop calls :meth:`begin_episode` when an episode starts and :meth:`observe` after
    every executed action; ``encode`` always uses the frozen encoder, so the latent space (and the
    goal's embedding) never moves.
    """

    def __init__(self, model: Any, config: AdaptConfig | None = None) -> None:
        predictor = getattr(model, "action_predictor", None)
        if not isinstance(predictor, torch.nn.Module):
            raise TypeError(
                "test-time adaptation needs a world model with an action_predictor module; got "
                f"{type(model).__name__}"
            )
        self.model, self.config = model, config or AdaptConfig()
        self.begin_episode()

    @property
    def action_predictor(self) -> torch.nn.Module:
        """The copy being adapted (the exported predictor is left as it was)."""
        return self._predictor

    def parameters(self):
        """The adapted copy's parameters (the planner reads the device off them)."""
        return self._predictor.parameters()

    def begin_episode(self) -> None:
        """Forget every update and transition: the next episode starts from the export."""
        self._predictor = copy.deepcopy(self.model.action_predictor).train(False)
        self._predictor.requires_grad_(True)
        self._optimizer = torch.optim.Adam(self._predictor.parameters(), lr=self.config.lr)
        self._seen: deque[tuple[Tensor, Tensor, Tensor]] = deque(maxlen=self.config.buffer)
        self.updates = 0
        self.rollout_updates = 0  # updates that included the roll-out loss

    def encode(self, obs: Tensor) -> Tensor:
        return self.model.encode(obs)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        return self._predictor.rollout(z0, actions.to(z0.dtype))

    def observe(self, z: Tensor, action: Tensor, z_next: Tensor) -> float:
        """Add one transition ``(D,)``, ``(A,)``, ``(D,)`` and take ``steps`` updates on the most
        recent ``buffer`` ones (plus their roll-out loss with ``rollout_steps`` and the weight
        anchor with ``anchor``); returns the last update's loss."""
        z, action, z_next = (t.detach().reshape(-1) for t in (z, action, z_next))
        if not bool(torch.isfinite(torch.cat([z, action, z_next])).all()):
            raise ValueError("observe() got a non-finite latent or action")
        self._seen.append((z, action.to(z.dtype), z_next))
        z_b, a_b, target = (torch.stack(x) for x in zip(*self._seen, strict=True))
        windows = self._windows(z_b, a_b, target)
        loss = torch.zeros(())
        with torch.enable_grad():
            for _ in range(self.config.steps):
                self._optimizer.zero_grad(set_to_none=True)
                loss = F.mse_loss(self._predictor.rollout(z_b, a_b[:, None])[:, 0], target)
                if windows is not None:
                    starts, acts, futures = windows
                    loss = loss + F.mse_loss(self._predictor.rollout(starts, acts), futures)
                if self.config.anchor is not None:
                    loss = loss + self.config.anchor * self.drift()
                loss.backward()
                self._optimizer.step()
        self.updates += self.config.steps
        self.rollout_updates += self.config.steps if windows is not None else 0
        return float(loss.detach())

    def drift(self) -> Tensor:
        """Squared distance of the adapted copy's weights from the export's (summed); the
        export is the wrapped model's own predictor, which adaptation never changes."""
        export = self.model.action_predictor.parameters()
        pairs = zip(self._predictor.parameters(), export, strict=True)
        return sum((p - p0.detach()).square().sum() for p, p0 in pairs)

    def _windows(
        self, z_b: Tensor, a_b: Tensor, target: Tensor
    ) -> tuple[Tensor, Tensor, Tensor] | None:
        """Every run of ``rollout_steps`` consecutive buffered transitions: start latents
        ``(W, D)``, actions ``(W, k, A)``, observed futures ``(W, k, D)``; None when off or the
        buffer is shorter. Consecutive means each transition starts where the previous ended,
        as it does when the MPC loop reports every step."""
        k = self.config.rollout_steps
        n = z_b.shape[0]
        if k is None or n < k:
            return None
        if not torch.equal(z_b[1:], target[:-1]):
            raise ValueError(
                "roll-outs need consecutive transitions (each z equal to the last z_next)"
            )
        w = n - k + 1
        idx = torch.arange(w)[:, None] + torch.arange(k)[None]
        return z_b[:w], a_b[idx], target[idx]

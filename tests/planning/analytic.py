"""Analytic latent models and planner settings shared by the planning tests."""

from __future__ import annotations

import torch

import jepa_world.planning as P

# The settings these tests were written against (the library's defaults once; now generic
# defaults, so each test states them): bounds of +-2.45 on 2 axes, the summed cost with the
# final step weighted 10x, colored noise, executing the best sequence.
CLASSIC = dict(
    init_std=1.5, low=-2.45, high=2.45, action_dim=2, cost_steps="sum", final_weight=10.0,
    noise_beta=2.0, execute="best",
)  # fmt: skip


def make(name, **kwargs):
    """A planner with :data:`CLASSIC` settings under ``kwargs``."""
    return P.create_planner(name, **(CLASSIC | kwargs))


def assert_close(actual, expected, atol=1e-6, rtol=1e-5):
    """torch.testing.assert_close without its multi-second first-call import."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert torch.allclose(actual, expected, atol=atol, rtol=rtol), (actual, expected)


class Additive:
    """The analytic latent model z' = z + a (2-D); observations are the latents themselves."""

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.float()

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return z0[:, None, :] + actions.cumsum(dim=1)


class Spy(Additive):
    """Records every action sequence the planner asks the model to roll out."""

    def __init__(self) -> None:
        self.calls: list[torch.Tensor] = []

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        self.calls.append(actions.clone())
        return super().rollout(z0, actions)

"""Action-conditioned predictors: from latents ``z_t`` and actions ``a_t``, forecast ``z_{t+1}``.

A planner rolls the predictor out ``samples x horizon x iterations`` steps per decision, so speed
decides what is usable. Three kinds share one interface (build with
:func:`create_action_predictor`):

- ``mlp``: Markov residual step ``z' = z + f(z, a)``; the fastest, and enough when a frame shows
  the whole state (Two Rooms).
- ``gru``: a recurrent state carries history (velocities, occluded things); ``z' = z + g(h)``.
- ``transformer``: one latent token and one action token per time step, block-causal attention
  over time (a token at step t sees steps <= t), timm ``Block``s; rolled out step by step.

``forward(z, actions)`` is teacher forcing: ``z`` ``(B, T, D)`` and ``actions`` ``(B, T, A)``
give ``(B, T, D)`` whose row ``t`` predicts ``z_{t+1}`` from ``z_{<=t}`` and ``a_{<=t}`` only (the
last row forecasts past the clip). ``rollout(z0, actions)`` feeds its own predictions back:
``z0`` ``(B, D)`` and ``actions`` ``(B, H, A)`` give the latents after each action,
``(B, H, D)``. The output layer starts at zero, so an untrained predictor copies the last latent.
``config`` rebuilds the architecture: ``create_action_predictor(**predictor.config)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.models._timm import Block, trunc_normal_

__all__ = [
    "ACTION_PREDICTORS",
    "ActionPredictor",
    "GRUActionPredictor",
    "MLPActionPredictor",
    "TransformerActionPredictor",
    "create_action_predictor",
]


class ActionPredictor(nn.Module):
    """Shared input checks and the roll-out contract; subclasses implement the steps."""

    kind = "base"

    def __init__(self, latent_dim: int, action_dim: int, extra: dict[str, Any]) -> None:
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, 1)
        self.action_dim = check_int("action_dim", action_dim, 1)
        self.config: dict[str, Any] = {
            "kind": self.kind,
            "latent_dim": latent_dim,
            "action_dim": action_dim,
            **extra,
        }

    def check_sequence(self, z: Tensor, actions: Tensor) -> None:
        """Raise naming the expected shapes when ``z`` (B, T, D) / ``actions`` (B, T, A) misfit."""
        d, a = self.latent_dim, self.action_dim
        if z.ndim != 3 or z.shape[-1] != d:
            raise ValueError(f"z must be (B, T, D={d}), got {tuple(z.shape)}")
        if actions.ndim != 3 or actions.shape[:2] != z.shape[:2] or actions.shape[-1] != a:
            raise ValueError(
                f"actions must be (B, T, A={a}) with (B, T) = {tuple(z.shape[:2])}, got "
                f"{tuple(actions.shape)}"
            )

    def check_rollout(self, z0: Tensor, actions: Tensor) -> None:
        d, a = self.latent_dim, self.action_dim
        if z0.ndim != 2 or z0.shape[-1] != d:
            raise ValueError(f"z0 must be (B, D={d}), got {tuple(z0.shape)}")
        if actions.ndim != 3 or actions.shape[0] != z0.shape[0] or actions.shape[-1] != a:
            raise ValueError(
                f"actions must be (B={z0.shape[0]}, H, A={a}), got {tuple(actions.shape)}"
            )
        if actions.shape[1] < 1:
            raise ValueError("actions must hold at least one step (H >= 1)")

    def forward(self, z: Tensor, actions: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def _mlp(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def _zero_(layer: nn.Linear) -> None:
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)


class MLPActionPredictor(ActionPredictor):
    """``z_{t+1} = z_t + f([z_t, a_t])``, ``f`` an MLP of ``depth`` hidden layers of ``hidden``.

    ``gated=True`` makes the change ``f(x) * sigmoid(g(x))``, ``g`` a second output of the same
    MLP, so that an action a wall stops can change nothing at all: a switch on the whole change
    rather than a sum of smooth terms (docs/planning.md has what it did on Two Rooms).

    ``move_gate=True`` (for displacement actions) makes the change ``sigmoid(g(x)) * J(x) a_t``:
    the MLP outputs a ``D x A`` matrix ``J`` (through a tanh, so that no step can blow a long
    roll-out up) that maps the asked displacement into latent space and one gate, the fraction
    of the asked move that happens before something stops it. A still action changes nothing, a
    free move is linear in the action, and a blocked one needs a single switch rather than one
    per latent dimension (docs/planning.md: why).

    Markov: each row of the teacher-forced output depends on that step alone, which is what makes
    it causal. The roll-out projects all actions through the first layer at once and then loops
    over the horizon with two small matmuls per step.
    """

    kind = "mlp"

    def __init__(
        self,
        latent_dim: int,
        action_dim: int,
        *,
        hidden: int = 256,
        depth: int = 2,
        gated: bool = False,
        move_gate: bool = False,
    ) -> None:
        check_int("hidden", hidden, 1)
        check_int("depth", depth, 1, 16)
        for name, flag in (("gated", gated), ("move_gate", move_gate)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name}={flag!r} must be true or false")
        if gated and move_gate:
            raise ValueError("gated and move_gate are alternatives: set at most one")
        extra = {"hidden": hidden, "depth": depth, "gated": gated}
        if move_gate:  # recorded only when set, so older exports keep their config
            extra["move_gate"] = True
        super().__init__(latent_dim, action_dim, extra)
        if move_gate:
            outputs = latent_dim * action_dim + 1
        else:
            outputs = 2 * latent_dim if gated else latent_dim
        self.net = _mlp([latent_dim + action_dim] + [hidden] * depth + [outputs])
        _zero_(self.net[-1])
        self.gated = gated
        self.move_gate = move_gate

    def _change(self, out: Tensor, action: Tensor) -> Tensor:
        if self.move_gate:
            jacobian = torch.tanh(out[..., :-1]).unflatten(-1, (self.latent_dim, self.action_dim))
            move = (jacobian @ action.unsqueeze(-1)).squeeze(-1)
            return move * torch.sigmoid(out[..., -1:])
        if not self.gated:
            return out
        change, gate = out.chunk(2, dim=-1)
        return change * torch.sigmoid(gate)

    def step(self, z: Tensor, action: Tensor) -> Tensor:
        """One step ``(..., D), (..., A) -> (..., D)``."""
        action = action.to(z.dtype)
        return z + self._change(self.net(torch.cat([z, action], dim=-1)), action)

    def forward(self, z: Tensor, actions: Tensor) -> Tensor:
        self.check_sequence(z, actions)
        return self.step(z, actions)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        self.check_rollout(z0, actions)
        first, rest = self.net[0], self.net[1:]
        d = self.latent_dim
        w_z, w_a = first.weight[:, :d], first.weight[:, d:]
        actions = actions.to(z0.dtype)
        action_part = F.linear(actions, w_a, first.bias)  # (B, H, hidden)
        z, out = z0, []
        for t in range(actions.shape[1]):
            z = z + self._change(rest(F.linear(z, w_z) + action_part[:, t]), actions[:, t])
            out.append(z)
        return torch.stack(out, dim=1)


class GRUActionPredictor(ActionPredictor):
    """``h_t = GRU([z_t, a_t], h_{t-1})`` with ``h_{-1} = tanh(W z_0)``; ``z_{t+1} = z_t +
    out(h_t)``. The recurrent state carries what a single latent cannot (e.g. velocity)."""

    kind = "gru"

    def __init__(self, latent_dim: int, action_dim: int, *, hidden: int = 256) -> None:
        check_int("hidden", hidden, 1)
        super().__init__(latent_dim, action_dim, {"hidden": hidden})
        self.init_state = nn.Linear(latent_dim, hidden)
        self.gru = nn.GRU(latent_dim + action_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, latent_dim)
        _zero_(self.out)

    def _h0(self, z0: Tensor) -> Tensor:
        return torch.tanh(self.init_state(z0)).unsqueeze(0).contiguous()

    def forward(self, z: Tensor, actions: Tensor) -> Tensor:
        self.check_sequence(z, actions)
        hidden, _ = self.gru(torch.cat([z, actions.to(z.dtype)], dim=-1), self._h0(z[:, 0]))
        return z + self.out(hidden)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        self.check_rollout(z0, actions)
        h, z, out = self._h0(z0), z0, []
        for t in range(actions.shape[1]):
            x = torch.cat([z, actions[:, t].to(z.dtype)], dim=-1).unsqueeze(1)
            y, h = self.gru(x, h)
            z = z + self.out(y[:, 0])
            out.append(z)
        return torch.stack(out, dim=1)


class TransformerActionPredictor(ActionPredictor):
    """Interleaved tokens ``[s_0, u_0, s_1, u_1, ...]`` (``s_t`` from ``z_t``, ``u_t`` from
    ``a_t``), each with a learned time and type embedding; block-causal attention over time;
    ``z_{t+1} = z_t + head(output at u_t)``. At most ``max_steps`` steps are attended to: longer
    roll-outs slide a window over the last ``max_steps`` steps."""

    kind = "transformer"

    def __init__(
        self,
        latent_dim: int,
        action_dim: int,
        *,
        dim: int = 64,
        depth: int = 2,
        num_heads: int = 4,
        max_steps: int = 32,
        mlp_ratio: float = 2.0,
    ) -> None:
        check_int("dim", dim, 2)
        check_int("depth", depth, 1, 32)
        check_int("num_heads", num_heads, 1)
        check_int("max_steps", max_steps, 1)
        if dim % num_heads:
            raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
        if not mlp_ratio > 0:
            raise ValueError(f"mlp_ratio={mlp_ratio} must be > 0")
        extra = {
            "dim": dim,
            "depth": depth,
            "num_heads": num_heads,
            "max_steps": max_steps,
            "mlp_ratio": float(mlp_ratio),
        }
        super().__init__(latent_dim, action_dim, extra)
        self.max_steps = max_steps
        self.latent_in = nn.Linear(latent_dim, dim)
        self.action_in = nn.Linear(action_dim, dim)
        self.time_embed = nn.Parameter(torch.zeros(1, max_steps, dim))
        self.type_embed = nn.Parameter(torch.zeros(1, 2, dim))
        self.blocks = nn.ModuleList(
            Block(dim, num_heads, mlp_ratio=mlp_ratio, qkv_bias=True) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, latent_dim)
        trunc_normal_(self.time_embed, std=0.02)
        trunc_normal_(self.type_embed, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.attn.proj.weight.div_(math.sqrt(2.0 * layer))
                block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer))
        _zero_(self.head)

    def _outputs(self, z: Tensor, actions: Tensor) -> Tensor:
        """Head outputs at every action token, ``(B, T, D)``, for ``T <= max_steps``."""
        b, t, _ = z.shape
        time = self.time_embed[:, :t]
        s = self.latent_in(z) + time + self.type_embed[:, :1]
        u = self.action_in(actions.to(z.dtype)) + time + self.type_embed[:, 1:]
        x = torch.stack([s, u], dim=2).flatten(1, 2)  # (B, 2T, dim): s_0, u_0, s_1, ...
        steps = torch.arange(t, device=z.device).repeat_interleave(2)
        mask = steps.unsqueeze(0) <= steps.unsqueeze(1)  # [query, key]: key not later in time
        for block in self.blocks:
            x = block(x, attn_mask=mask)
        return self.head(self.norm(x[:, 1::2]))

    def forward(self, z: Tensor, actions: Tensor) -> Tensor:
        self.check_sequence(z, actions)
        if z.shape[1] > self.max_steps:
            raise ValueError(
                f"teacher forcing over T={z.shape[1]} steps exceeds max_steps={self.max_steps}"
            )
        return z + self._outputs(z, actions)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        self.check_rollout(z0, actions)
        latents, out = [z0], []
        w = self.max_steps
        for t in range(actions.shape[1]):
            z = torch.stack(latents[-w:], dim=1)
            a = actions[:, max(0, t + 1 - w) : t + 1]
            nxt = z[:, -1] + self._outputs(z, a)[:, -1]
            latents.append(nxt)
            out.append(nxt)
        return torch.stack(out, dim=1)


ACTION_PREDICTORS: dict[str, type[ActionPredictor]] = {
    "mlp": MLPActionPredictor,
    "gru": GRUActionPredictor,
    "transformer": TransformerActionPredictor,
}
"""Action predictor classes by the kind name ``create_action_predictor`` takes."""


def create_action_predictor(
    kind: str = "mlp", *, latent_dim: int, action_dim: int, **kwargs: Any
) -> ActionPredictor:
    """Build an action predictor by kind (``mlp``, ``gru``, ``transformer``); extra kwargs are
    the kind's own (``hidden``, ``depth``, ``dim``, ``num_heads``, ``max_steps``, ...)."""
    if kind not in ACTION_PREDICTORS:
        choices = sorted(ACTION_PREDICTORS)
        raise ValueError(f"unknown action predictor {kind!r}: choose one of {choices}")
    cls = ACTION_PREDICTORS[kind]
    try:
        return cls(latent_dim, action_dim, **kwargs)
    except TypeError as err:
        raise TypeError(f"action predictor {kind!r}: {err}") from err

"""Predictor: from context tokens and the grid positions of target tokens, predict the targets.

A narrow ViT (timm ``Block``s). Context tokens are layer-normed (no affine), projected to
``pred_dim`` and given the 3-D sin-cos code of their grid position; each target is a learned mask
token plus its position. With ``causal=True`` attention is block-causal over time (a token at time
t sees only tokens at times <= t), so one forward pass trains every forecast horizon at once and
``rollout`` can feed predictions back as context.

Teacher forcing (``horizon=h``): context and targets may share time steps, and a target at time t
sees only context tokens at times <= t - h (and other targets at times <= t), so one forward pass
forecasts every step of a clip h steps ahead from all of its real past, as a language model does.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.models._timm import Block, trunc_normal_
from jepa_world.models.pos_embed import PositionTable


class Predictor(nn.Module):
    """See the module docstring; build with :func:`create_predictor`."""

    def __init__(
        self,
        embed_dim: int,
        grid: tuple[int, int, int] | None = None,
        *,
        depth: int = 4,
        pred_dim: int | None = None,
        num_heads: int = 4,
        causal: bool = True,
        max_frames: int = 64,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.0,
        normalize_context: bool = True,
        residual: bool = False,
    ) -> None:
        super().__init__()
        check_int("embed_dim", embed_dim, 1)
        check_int("depth", depth, 1)
        check_int("num_heads", num_heads, 1)
        check_int("max_frames", max_frames, 1)
        if pred_dim is None:
            pred_dim = max(embed_dim // 2, 64)
            pred_dim += -pred_dim % (2 * num_heads)  # keep it divisible by heads and even
        check_int("pred_dim", pred_dim, 6)
        if pred_dim % num_heads or pred_dim % 2:
            raise ValueError(
                f"pred_dim={pred_dim} must be even and divisible by num_heads={num_heads}"
            )
        if grid is not None:
            grid = _check_grid(grid, max_frames)
        if not mlp_ratio > 0:
            raise ValueError(f"mlp_ratio={mlp_ratio} must be > 0")
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f"drop_path_rate={drop_path_rate} is out of range: allowed [0, 1)")
        self.embed_dim = embed_dim
        self.pred_dim = pred_dim
        self.grid = grid
        self.causal = bool(causal)
        self.max_frames = max_frames
        self.normalize_context = bool(normalize_context)
        self.residual = bool(residual)
        self.config: dict[str, Any] = {
            "embed_dim": embed_dim,
            "grid": list(grid) if grid is not None else None,
            "depth": depth,
            "pred_dim": pred_dim,
            "num_heads": num_heads,
            "causal": self.causal,
            "max_frames": max_frames,
            "mlp_ratio": float(mlp_ratio),
            "qkv_bias": bool(qkv_bias),
            "drop_path_rate": float(drop_path_rate),
            "normalize_context": self.normalize_context,
            "residual": self.residual,
        }
        self.input_proj = nn.Linear(embed_dim, pred_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, pred_dim))
        self.positions = PositionTable(pred_dim)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            Block(pred_dim, num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop_path=rate)
            for rate in rates
        )
        self.norm = nn.LayerNorm(pred_dim, eps=1e-6)
        self.output_proj = nn.Linear(pred_dim, embed_dim)
        self._init_weights()

    def _init_weights(self) -> None:
        trunc_normal_(self.mask_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.attn.proj.weight.div_(math.sqrt(2.0 * layer))
                block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer))

    def forward(
        self,
        context: Tensor,
        context_index: Tensor,
        target_index: Tensor,
        grid: tuple[int, int, int] | None = None,
        horizon: int | None = None,
    ) -> Tensor:
        """Predict target tokens ``(B, Nt, D)``.

        ``context`` (B, Nc, D) are encoder tokens; ``context_index`` (Nc,) or (B, Nc) and
        ``target_index`` (Nt,) or (B, Nt) are flat indices ``t*Hp*Wp + h*Wp + w`` into ``grid``
        (T', Hp, Wp), which defaults to the grid given at construction. ``horizon`` (teacher
        forcing, causal predictors only): a target at time t sees context at times <= t - horizon
        only, and context never sees targets.
        """
        grid = self._resolve_grid(grid)
        if horizon is not None:
            check_int("horizon", horizon, 1)
            if not self.causal:
                raise ValueError("horizon (teacher forcing) needs a causal predictor (causal=True)")
        if context.ndim != 3 or context.shape[-1] != self.embed_dim:
            raise ValueError(
                f"context must be (B, Nc, D={self.embed_dim}), got {tuple(context.shape)}"
            )
        b, n_ctx, _ = context.shape
        n_total = grid[0] * grid[1] * grid[2]
        context_index = _check_index("context_index", context_index, b, n_total, context.device)
        target_index = _check_index("target_index", target_index, b, n_total, context.device)
        if context_index.shape[-1] != n_ctx:
            raise ValueError(
                f"context_index has {context_index.shape[-1]} entries but context has "
                f"{n_ctx} tokens"
            )
        n_tgt = target_index.shape[-1]

        if self.normalize_context:
            context = F.layer_norm(context, (self.embed_dim,))
        base = (
            self._residual_base(context, context_index, target_index, grid, horizon or 1)
            if self.residual
            else None
        )
        x = self.input_proj(context)
        table = self.positions(grid, x.device, x.dtype)
        x = x + _expand(table[context_index])
        targets = self.mask_token.to(x.dtype) + _expand(table[target_index])
        x = torch.cat([x, targets.expand(b, n_tgt, -1)], dim=1)

        mask = None
        if self.causal:
            per_step = grid[1] * grid[2]
            times = torch.cat([context_index, target_index], dim=-1) // per_step
            mask = times.unsqueeze(-2) <= times.unsqueeze(-1)  # [query, key]: key not later
            if horizon is not None:
                mask = _teacher_forcing_mask(mask, times, n_ctx, horizon)
            if mask.ndim == 3:
                mask = mask.unsqueeze(1)  # (B, 1, L, L): same mask for every head
        for block in self.blocks:
            x = block(x, attn_mask=mask)
        out = self.output_proj(self.norm(x[:, n_ctx:]))
        return out if base is None else out + base

    @staticmethod
    def _residual_base(
        context: Tensor,
        context_index: Tensor,
        target_index: Tensor,
        grid: tuple[int, int, int],
        gap: int = 1,
    ) -> Tensor:
        """Residual forecasting: each target starts from the layer-normed context token at the same
        patch in the latest time step at least ``gap`` steps earlier (the nearest step when none
        is; zero when the patch is never in the context), so an untrained predictor already copies
        the last frame it may see and training learns the change."""
        b = context.shape[0]
        per_step = grid[1] * grid[2]
        ci = context_index.expand(b, -1) if context_index.ndim == 1 else context_index
        ti = target_index.expand(b, -1) if target_index.ndim == 1 else target_index
        same_patch = (ti % per_step).unsqueeze(-1) == (ci % per_step).unsqueeze(-2)
        dt = ((ti // per_step).unsqueeze(-1) - (ci // per_step).unsqueeze(-2)).float()
        score = torch.where(dt >= gap, -dt, -dt.abs() - 1e4)  # earlier steps first, latest best
        score = score.masked_fill(~same_patch, float("-inf"))
        best = score.max(-1)
        picked = torch.gather(
            context, 1, best.indices.unsqueeze(-1).expand(-1, -1, context.shape[-1])
        )
        return picked * torch.isfinite(best.values).unsqueeze(-1).to(context.dtype)

    def rollout(
        self,
        context: Tensor,
        steps: int,
        grid_hw: tuple[int, int],
        window: int | None = None,
        chunk: int = 1,
    ) -> Tensor:
        """Forecast ``steps`` future time steps ``(B, steps, N, D)`` autoregressively.

        ``context`` (B, Tc, N, D) holds encoder tokens of the observed steps. Each predictor call
        forecasts the next ``chunk`` steps jointly (as a training forecast does: mask tokens at
        times w..w+chunk-1) from the last ``window`` steps (all when None) of context + earlier
        predictions placed at times 0..w-1; its forecasts are then fed back. No further frames
        are used. ``chunk=1`` is the classic one-step roll-out; ``chunk`` = the trained forecast
        span keeps every call inside what training showed the predictor.
        """
        check_int("steps", steps, 1)
        check_int("chunk", chunk, 1)
        if context.ndim != 4 or context.shape[-1] != self.embed_dim:
            raise ValueError(
                f"context must be (B, Tc, N, D={self.embed_dim}), got {tuple(context.shape)}"
            )
        hp, wp = (int(v) for v in grid_hw)
        b, t_ctx, n, d = context.shape
        if t_ctx < 1 or n != hp * wp:
            raise ValueError(
                f"context {tuple(context.shape)} must have Tc >= 1 and N = Hp*Wp = {hp * wp}"
            )
        if window is not None:
            check_int("window", window, 1, self.max_frames - 1)
        sequence = context
        predictions: list[Tensor] = []
        produced = 0
        while produced < steps:
            recent = sequence if window is None else sequence[:, -window:]
            w = recent.shape[1]
            m = min(chunk, steps - produced)
            if w + m > self.max_frames:
                raise ValueError(
                    f"roll-out needs {w + m} time steps ({w} context + {m} forecast) but "
                    f"max_frames={self.max_frames}; pass a smaller window or chunk"
                )
            index = torch.arange((w + m) * n, device=context.device)
            out = self.forward(
                recent.reshape(b, w * n, d), index[: w * n], index[w * n :], (w + m, hp, wp)
            ).view(b, m, n, d)
            predictions.append(out)
            sequence = torch.cat([sequence, out], dim=1)
            produced += m
        return torch.cat(predictions, dim=1)

    def _resolve_grid(self, grid: tuple[int, int, int] | None) -> tuple[int, int, int]:
        if grid is None:
            if self.grid is None:
                raise ValueError("grid is required: this predictor was built without a grid")
            return self.grid
        return _check_grid(grid, self.max_frames)


def create_predictor(
    embed_dim: int,
    grid: tuple[int, int, int] | None = None,
    *,
    depth: int = 4,
    pred_dim: int | None = None,
    num_heads: int = 4,
    causal: bool = True,
    max_frames: int = 64,
    **kwargs: Any,
) -> Predictor:
    """Build a :class:`Predictor`; ``create_predictor(**predictor.config)`` rebuilds one.

    ``pred_dim`` defaults to ``max(embed_dim // 2, 64)`` (rounded up to a multiple of
    2 * num_heads). Extra kwargs: ``mlp_ratio``, ``qkv_bias``, ``drop_path_rate``,
    ``normalize_context``.
    """
    return Predictor(
        embed_dim,
        grid,
        depth=depth,
        pred_dim=pred_dim,
        num_heads=num_heads,
        causal=causal,
        max_frames=max_frames,
        **kwargs,
    )


def _check_grid(grid: Any, max_frames: int) -> tuple[int, int, int]:
    if len(grid) != 3 or any(isinstance(g, bool) or int(g) != g or g < 1 for g in grid):
        raise ValueError(f"grid must be three positive ints (T', Hp, Wp), got {grid!r}")
    grid = (int(grid[0]), int(grid[1]), int(grid[2]))
    if grid[0] > max_frames:
        raise ValueError(f"grid has T'={grid[0]} time steps but max_frames={max_frames}")
    return grid


def _check_index(name: str, index: Tensor, batch: int, n_total: int, device) -> Tensor:
    if not isinstance(index, Tensor) or index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{name} must be an integer (long) tensor")
    if index.ndim not in (1, 2) or (index.ndim == 2 and index.shape[0] != batch):
        raise ValueError(f"{name} must be (K,) or (B={batch}, K), got {tuple(index.shape)}")
    if index.shape[-1] < 1:
        raise ValueError(f"{name} is empty")
    if int(index.min()) < 0 or int(index.max()) >= n_total:
        raise ValueError(f"{name} out of range: allowed [0, {n_total - 1}] for this grid")
    return index.to(device=device, dtype=torch.long)


def _teacher_forcing_mask(causal: Tensor, times: Tensor, n_ctx: int, horizon: int) -> Tensor:
    """Block-causal ``[query, key]`` mask restricted for teacher forcing: targets see context at
    least ``horizon`` steps earlier (and targets not later than themselves); context sees only
    context."""
    is_target = torch.arange(times.shape[-1], device=times.device) >= n_ctx
    far_enough = times.unsqueeze(-2) <= times.unsqueeze(-1) - horizon  # key <= query - horizon
    query_target = is_target.unsqueeze(-1)
    key_target = is_target.unsqueeze(-2)
    allowed = torch.where(query_target & ~key_target, far_enough, causal)
    return allowed & (query_target | ~key_target)


def _expand(pos: Tensor) -> Tensor:
    """Shared (K, P) positions -> (1, K, P); per-sample (B, K, P) stay as they are."""
    return pos.unsqueeze(0) if pos.ndim == 2 else pos

"""Which tokens are context and which are targets.

Indices are flat positions ``t*Hp*Wp + h*Wp + w`` in the (T', Hp, Wp) token grid, sorted within
each sample, with the same counts for every sample so that a batch stacks into one tensor.
Two schemes: ``future_mask`` (forecast the following time steps: the default world-model
objective) and ``multiblock_tube_mask`` (V-JEPA: hide spatial blocks through the whole clip).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from jepa_world.checks import check_int, check_pair

__all__ = [
    "Mask",
    "future_mask",
    "gather_tokens",
    "multiblock_tube_mask",
]


@dataclass
class Mask:
    """``context`` (B, Nc) and ``target`` (B, Nt) long tensors of flat grid indices."""

    context: Tensor
    target: Tensor
    kind: str = "future"

    @property
    def batch_size(self) -> int:
        return self.context.shape[0]

    @property
    def is_future(self) -> bool:
        """True for ``future_mask`` (context = whole leading time steps, so encoding just the
        context frames gives exactly the context tokens)."""
        return self.kind == "future"

    def to(self, device: torch.device | str) -> Mask:
        return Mask(self.context.to(device), self.target.to(device), self.kind)


def _check_grid(grid: Sequence[int]) -> tuple[int, int, int]:
    if len(grid) != 3 or any(isinstance(g, bool) or int(g) != g or g < 1 for g in grid):
        raise ValueError(f"grid must be three positive ints (T', Hp, Wp), got {grid!r}")
    return int(grid[0]), int(grid[1]), int(grid[2])


def _positive_pair(name: str, pair: Sequence[float], high: float) -> tuple[float, float]:
    """A (min, max) pair in (0, high]: a zero scale hides nothing and a zero ratio has no log."""
    low, top = check_pair(name, pair, 0.0, high)
    if low <= 0:
        raise ValueError(f"{name}={tuple(pair)!r}: min must be > 0")
    return float(low), float(top)


def future_mask(
    grid: Sequence[int],
    context_steps: int,
    batch_size: int,
    target_steps: int | None = None,
) -> Mask:
    """Context = every token of the first ``context_steps`` time steps; targets = every token of
    the next ``target_steps`` steps (default: all remaining steps)."""
    t, hp, wp = _check_grid(grid)
    check_int("batch_size", batch_size, 1)
    check_int("context_steps", context_steps, 1, t - 1)
    remaining = t - context_steps
    if target_steps is None:
        target_steps = remaining
    check_int("target_steps", target_steps, 1, remaining)
    per_step = hp * wp
    context = torch.arange(context_steps * per_step)
    target = torch.arange(context_steps * per_step, (context_steps + target_steps) * per_step)
    return Mask(
        context.expand(batch_size, -1).clone(), target.expand(batch_size, -1).clone(), "future"
    )


def _rand(generator: torch.Generator | None) -> float:
    return float(torch.rand((), generator=generator))


def _randint(high: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(high, (), generator=generator))


def _spatial_blocks(
    hp: int,
    wp: int,
    num_blocks: int,
    block_scale: tuple[float, float],
    aspect_ratio: tuple[float, float],
    generator: torch.Generator | None,
) -> Tensor:
    """Union of ``num_blocks`` random rectangles, as a (Hp, Wp) bool map."""
    hidden = torch.zeros(hp, wp, dtype=torch.bool)
    log_lo, log_hi = math.log(aspect_ratio[0]), math.log(aspect_ratio[1])
    for _ in range(num_blocks):
        scale = block_scale[0] + _rand(generator) * (block_scale[1] - block_scale[0])
        ratio = math.exp(log_lo + _rand(generator) * (log_hi - log_lo))  # height / width
        area = scale * hp * wp
        h = min(max(round(math.sqrt(area * ratio)), 1), hp)
        w = min(max(round(math.sqrt(area / ratio)), 1), wp)
        top, left = _randint(hp - h + 1, generator), _randint(wp - w + 1, generator)
        hidden[top : top + h, left : left + w] = True
    return hidden.flatten()


def _subset(positions: Tensor, count: int, generator: torch.Generator | None) -> Tensor:
    if positions.numel() == count:
        return positions
    keep = torch.randperm(positions.numel(), generator=generator)[:count]
    return positions[keep].sort().values


def multiblock_tube_mask(
    grid: Sequence[int],
    batch_size: int,
    num_blocks: int = 8,
    block_scale: tuple[float, float] = (0.15, 0.15),
    aspect_ratio: tuple[float, float] = (0.75, 1.5),
    generator: torch.Generator | None = None,
    max_tries: int = 20,
) -> Mask:
    """V-JEPA multi-block tubes: targets = union of ``num_blocks`` spatial blocks (each covering
    ``block_scale`` of the frame, height/width ratio log-uniform in ``aspect_ratio``) repeated over
    every time step; context = the rest. Per-sample counts differ, so each sample keeps a random
    subset of its targets (and of its context) down to the batch minimum; dropped tokens are
    neither. A sample whose blocks hide everything is redrawn (up to ``max_tries`` times)."""
    t, hp, wp = _check_grid(grid)
    check_int("batch_size", batch_size, 1)
    check_int("num_blocks", num_blocks, 1)
    check_int("max_tries", max_tries, 1)
    block_scale = _positive_pair("block_scale", block_scale, 1.0)
    aspect_ratio = _positive_pair("aspect_ratio", aspect_ratio, math.inf)
    spatial = hp * wp
    if spatial < 2:
        raise ValueError(f"grid {grid!r} has a single spatial position: nothing to split")
    hidden_maps = []
    for _ in range(batch_size):
        for _ in range(max_tries):
            hidden = _spatial_blocks(hp, wp, num_blocks, block_scale, aspect_ratio, generator)
            if not hidden.all():
                break
        else:
            raise ValueError(
                f"num_blocks={num_blocks} with block_scale={block_scale} hides every position of "
                f"the {hp}x{wp} grid in {max_tries} tries: use fewer or smaller blocks"
            )
        hidden_maps.append(hidden)
    n_target = min(int(h.sum()) for h in hidden_maps)
    n_context = min(spatial - int(h.sum()) for h in hidden_maps)
    steps = torch.arange(t).unsqueeze(1) * spatial  # (T', 1)
    contexts, targets = [], []
    for hidden in hidden_maps:
        target = _subset(hidden.nonzero().squeeze(1), n_target, generator)
        context = _subset((~hidden).nonzero().squeeze(1), n_context, generator)
        targets.append((steps + target).flatten())
        contexts.append((steps + context).flatten())
    return Mask(torch.stack(contexts), torch.stack(targets), "tube")


def gather_tokens(tokens: Tensor, index: Tensor) -> Tensor:
    """Tokens ``(B, T', N, D)`` at flat grid indices ``(B, K)`` or ``(K,)`` -> ``(B, K, D)``."""
    if tokens.ndim != 4:
        raise ValueError(f"tokens must be (B, T', N, D), got {tuple(tokens.shape)}")
    b, t, n, d = tokens.shape
    flat = tokens.reshape(b, t * n, d)
    if index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"index must be an integer tensor, got {index.dtype}")
    if index.ndim not in (1, 2) or (index.ndim == 2 and index.shape[0] != b):
        raise ValueError(f"index must be (K,) or (B={b}, K), got {tuple(index.shape)}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= t * n):
        raise ValueError(f"index out of range: allowed [0, {t * n - 1}] for {t}x{n} tokens")
    index = index.to(device=tokens.device, dtype=torch.long)
    if index.ndim == 1:
        return flat[:, index]
    return torch.gather(flat, 1, index.unsqueeze(-1).expand(-1, -1, d))

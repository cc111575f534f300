"""Fixed 3-D sin-cos position embeddings for a (time, height, width) token grid.

Fixed (not learned) so that one model runs on any clip length: the table is computed for the
actual grid of each input and cached per grid, device and dtype.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sincos_1d(dim: int, positions: Tensor) -> Tensor:
    """Sin-cos code of ``dim`` (even) channels for 1-D ``positions``: ``(L,) -> (L, dim)``."""
    half = dim // 2
    omega = 1.0 / 10000.0 ** (torch.arange(half, dtype=torch.float64) / half)
    angles = positions.to(torch.float64)[:, None] * omega[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def split_dims(dim: int) -> tuple[int, int, int]:
    """Channels for (time, height, width): height and width equal, time takes the rest."""
    if dim < 6 or dim % 2:
        raise ValueError(f"position embedding dim must be even and >= 6, got {dim}")
    spatial = 2 * (dim // 6)
    return dim - 2 * spatial, spatial, spatial


def sincos_3d(dim: int, grid: tuple[int, int, int]) -> Tensor:
    """Table ``(T*H*W, dim)`` float32, rows in flat index order ``t*H*W + h*W + w``."""
    if len(grid) != 3 or min(grid) < 1:
        raise ValueError(f"grid must be three positive ints (T', Hp, Wp), got {grid!r}")
    d_t, d_h, d_w = split_dims(dim)
    t, h, w = torch.meshgrid(
        torch.arange(grid[0]), torch.arange(grid[1]), torch.arange(grid[2]), indexing="ij"
    )
    table = torch.cat(
        [sincos_1d(d_t, t.flatten()), sincos_1d(d_h, h.flatten()), sincos_1d(d_w, w.flatten())],
        dim=1,
    )
    return table.to(torch.float32)


class PositionTable:
    """Caches :func:`sincos_3d` per (grid, device, dtype); a plain object, so it is not saved."""

    def __init__(self, dim: int) -> None:
        split_dims(dim)
        self.dim = dim
        self._cache: dict[tuple, Tensor] = {}

    def __call__(
        self, grid: tuple[int, int, int], device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        key = (tuple(int(g) for g in grid), str(device), dtype)
        table = self._cache.get(key)
        if table is None:
            if len(self._cache) >= 32:
                self._cache.clear()
            table = sincos_3d(self.dim, key[0]).to(device=device, dtype=dtype)
            self._cache[key] = table
        return table

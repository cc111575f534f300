"""Collapse monitors for embeddings ``(..., D)``: per-dim spread and effective rank.

Computed without gradients; use them to log and to stop a run whose representation collapses.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["embedding_std", "rankme"]


def _samples(z: Tensor, name: str) -> Tensor:
    if z.ndim < 2:
        raise ValueError(f"{name} needs embeddings (..., D) with >= 2 dims, got {tuple(z.shape)}")
    z = z.detach().reshape(-1, z.shape[-1]).float()
    if z.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples, got 1")
    return z


@torch.no_grad()
def embedding_std(z: Tensor) -> tuple[Tensor, Tensor]:
    """(min, mean) over dims of each dim's std across samples; near 0 means collapse."""
    std = _samples(z, "embedding_std").std(dim=0)
    return std.min(), std.mean()


@torch.no_grad()
def rankme(z: Tensor, eps: float = 1e-7) -> Tensor:
    """RankMe effective rank: exp of the entropy of the normalised singular values of z (N, D).

    Ranges from 1 (all samples on one line) to min(N, D) (spread evenly over every direction).
    """
    singular = torch.linalg.svdvals(_samples(z, "rankme"))
    p = singular / singular.sum() + eps
    return torch.exp(-(p * p.log()).sum())

"""Masks: exact future indices, disjoint in-range stackable tubes, the mixer, token gathering."""

from __future__ import annotations

import pytest
import torch

from jepa_world.masking import (
    future_mask,
    gather_tokens,
    multiblock_tube_mask,
)


def test_future_mask_exact_indices():
    mask = future_mask((3, 2, 2), context_steps=1, batch_size=2)
    assert mask.kind == "future" and mask.is_future
    assert mask.context.tolist() == [[0, 1, 2, 3]] * 2
    assert mask.target.tolist() == [list(range(4, 12))] * 2
    short = future_mask((3, 2, 2), context_steps=1, batch_size=1, target_steps=1)
    assert short.target.tolist() == [[4, 5, 6, 7]]
    assert short.context.dtype == short.target.dtype == torch.long
    moved = short.to("cpu")
    assert moved.batch_size == 1 and torch.equal(moved.target, short.target)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"context_steps": 0}, r"context_steps=0 is out of range: allowed \[1, 2\]"),
        ({"context_steps": 3}, r"context_steps=3 is out of range"),
        ({"context_steps": 1, "target_steps": 3}, r"target_steps=3 is out of range"),
        ({"context_steps": 1, "batch_size": 0}, "batch_size"),
    ],
)
def test_future_mask_rejects_bad_arguments(kwargs, message):
    kwargs = {"batch_size": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        future_mask((3, 2, 2), **kwargs)


def test_tube_mask_disjoint_in_range_stackable_and_tubular():
    grid = (3, 8, 8)
    generator = torch.Generator().manual_seed(0)
    mask = multiblock_tube_mask(grid, batch_size=6, generator=generator)
    assert mask.kind == "tube" and not mask.is_future
    assert mask.context.shape[0] == mask.target.shape[0] == 6
    assert mask.context.shape[1] > 0 and mask.target.shape[1] > 0
    for context, target in zip(mask.context, mask.target, strict=True):
        assert not set(context.tolist()) & set(target.tolist())
        assert 0 <= int(torch.cat([context, target]).min())
        assert int(torch.cat([context, target]).max()) < 3 * 64
        assert torch.equal(target, target.sort().values)
        spatial = (target % 64).view(3, -1)  # same spatial positions at every time step
        assert (spatial == spatial[0]).all()
        assert torch.equal(target // 64, torch.arange(3).repeat_interleave(spatial.shape[1]))


def test_tube_mask_is_reproducible_and_varies():
    def draw(seed):
        return multiblock_tube_mask((2, 8, 8), 4, generator=torch.Generator().manual_seed(seed))

    first, again, other = draw(1), draw(1), draw(2)
    assert torch.equal(first.target, again.target) and torch.equal(first.context, again.context)
    assert not torch.equal(first.target, other.target)


def test_tube_mask_block_size_follows_block_scale():
    one_block = multiblock_tube_mask(
        (1, 10, 10), 8, num_blocks=1, block_scale=(0.25, 0.25), aspect_ratio=(1.0, 1.0)
    )
    assert one_block.target.shape[1] == 25  # a 5x5 block of the 10x10 grid
    assert one_block.context.shape[1] == 75


def test_tube_mask_that_hides_everything_raises():
    with pytest.raises(ValueError, match="hides every position"):
        multiblock_tube_mask(
            (2, 4, 4), 1, num_blocks=1, block_scale=(1.0, 1.0), aspect_ratio=(1.0, 1.0)
        )
    with pytest.raises(ValueError, match="block_scale"):
        multiblock_tube_mask((2, 4, 4), 1, block_scale=(0.5, 0.2))


def test_gather_tokens_matches_indexing():
    tokens = torch.randn(2, 3, 4, 5)
    index = torch.tensor([[0, 5, 11], [3, 4, 7]])
    out = gather_tokens(tokens, index)
    assert out.shape == (2, 3, 5)
    flat = tokens.reshape(2, 12, 5)
    for b in range(2):
        assert torch.equal(out[b], flat[b, index[b]])
    assert torch.equal(gather_tokens(tokens, index[0]), flat[:, index[0]])
    mask = future_mask((3, 2, 2), 1, 2)
    assert torch.equal(gather_tokens(tokens, mask.context), tokens[:, 0])
    with pytest.raises(ValueError, match="out of range"):
        gather_tokens(tokens, torch.tensor([12]))

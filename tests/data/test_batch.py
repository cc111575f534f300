from __future__ import annotations

import numpy as np
import torch

from jepa_world.data.batch import to_tensors


def test_converts_nested_arrays_and_keeps_dtypes() -> None:
    video = np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 2, 2)
    readonly = np.ones((1, 2), dtype=np.float32)
    readonly.setflags(write=False)
    batch = to_tensors(
        {"video": video, "state": {"pos": readonly}, "label": np.array(["a", "b"]), "n": 3}
    )
    assert batch["video"].dtype == torch.uint8 and np.array_equal(batch["video"].numpy(), video)
    assert batch["state"]["pos"].dtype == torch.float32 and batch["state"]["pos"].shape == (1, 2)
    assert batch["label"] == ["a", "b"] and batch["n"] == 3


def test_strided_arrays_are_made_contiguous() -> None:
    flipped = np.arange(6, dtype=np.int64)[::-1]
    assert to_tensors({"x": flipped})["x"].tolist() == [5, 4, 3, 2, 1, 0]

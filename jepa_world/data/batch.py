"""Turn a numpy batch from a world or a shard into the torch batch every data module yields.

One converter for all sources keeps the batch format identical whatever the data comes from:
numeric arrays become tensors without a copy where possible (``video`` stays uint8: the model
converts), nested dicts such as ``state`` are converted recursively, and anything that is not a
numeric array (e.g. string labels) is passed through as a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

_NUMERIC_KINDS = "biuf"


def to_tensors(batch: Mapping[str, Any]) -> dict[str, Any]:
    """Convert every numeric numpy array in ``batch`` (recursively) to a torch tensor."""
    return {key: _convert(value) for key, value in batch.items()}


def _convert(value: Any) -> Any:
    if isinstance(value, Mapping):
        return to_tensors(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _NUMERIC_KINDS:
            if not value.flags.writeable or not value.flags.c_contiguous:
                value = np.array(value, order="C")
            return torch.from_numpy(value)
        return value.tolist()
    return value

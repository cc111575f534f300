"""The timm building blocks the models use, imported without dragging in wandb.

``import timm`` runs ``timm.utils.summary``, which imports wandb when it is installed (about
0.7 s and a promise we make: ``import jepa_world.hub`` loads neither wandb nor Lightning). While
timm loads we make ``import wandb`` fail, which timm tolerates (it only needs wandb for its own
training-script logging); afterwards ``import wandb`` works as usual for the loggers.
"""

from __future__ import annotations

import inspect
import sys


def _import_timm_blocks():
    hide_wandb = "timm" not in sys.modules and "wandb" not in sys.modules
    if hide_wandb:
        sys.modules["wandb"] = None  # type: ignore[assignment]  # `import wandb` -> ImportError
    try:
        from timm.layers import trunc_normal_
        from timm.models.vision_transformer import Block
    finally:
        if hide_wandb and sys.modules.get("wandb", 0) is None:
            del sys.modules["wandb"]
    return Block, trunc_normal_


Block, trunc_normal_ = _import_timm_blocks()

if "attn_mask" not in inspect.signature(Block.forward).parameters:  # pragma: no cover
    raise ImportError(
        "jepa-world needs a timm whose vision_transformer.Block.forward accepts attn_mask "
        "(timm 1.0.31 works); please upgrade timm"
    )

__all__ = ["Block", "trunc_normal_"]

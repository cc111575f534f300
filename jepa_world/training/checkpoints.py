"""Training checkpoints: written crash-safe, read safely (``weights_only=True``).

:class:`AtomicCheckpointIO` is the CheckpointIO plugin the ``jepa-world`` command installs on
every trainer: a checkpoint (``last.ckpt`` included) goes to a temporary file beside it that is
fsync'd and renamed into place, so a full disk or a kill mid-write leaves the previous checkpoint
readable and ``--ckpt_path last`` keeps working.
"""

from __future__ import annotations

import importlib
import io
import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO
from torch import nn

from jepa_world.atomic import write_bytes
from jepa_world.training.base import CLASS_KEY
from jepa_world.training.class_paths import check_class_paths

__all__ = [
    "AtomicCheckpointIO",
    "install_atomic_checkpoints",
    "load_checkpoint",
    "module_from_checkpoint",
]

ALLOWED_PREFIX = "jepa_world."
DEFAULT_CLASS = "jepa_world.training.JEPA"  # a checkpoint that records no class


RESUME_HINT = "make room or fix the folder, then resume with --ckpt_path last"


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose local writes are atomic (see :mod:`jepa_world.atomic`).

    A failed write raises :class:`~jepa_world.atomic.WriteError`, one line such as ``disk full
    while writing runs/x/checkpoints/last.ckpt: No space left on device; the previous checkpoint
    is kept``. Remote paths (``s3://`` and other fsspec URLs) keep Lightning's own writer.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if storage_options is not None or "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        write_bytes(path, buffer.getbuffer(), what="checkpoint", hint=RESUME_HINT)


def install_atomic_checkpoints(trainer: Any) -> None:
    """Give ``trainer``'s strategy :class:`AtomicCheckpointIO`, unless a CheckpointIO plugin other
    than Lightning's default was chosen (it is then left as it is)."""
    if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:
        trainer.strategy.checkpoint_io = AtomicCheckpointIO()


def load_checkpoint(path: str | Path) -> dict:
    """Load a ``.ckpt`` without unpickling arbitrary objects; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise ValueError(f"corrupt or unsupported checkpoint {path}: {err}") from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is not a Lightning checkpoint (no 'state_dict')")
    return checkpoint


def module_from_checkpoint(path: str | Path) -> nn.Module:
    """Rebuild the LightningModule a checkpoint came from and load its weights strictly.

    The class comes from the checkpoint's class record, else from the class path LightningCLI
    stores with the hyper-parameters; a class path of a module that no longer exists fails with
    one line naming its new home.
    """
    checkpoint = load_checkpoint(path)
    hparams = dict(checkpoint.get("hyper_parameters", {}))
    hparams.pop("_instantiator", None)
    stored = hparams.pop("_class_path", None)
    class_path = checkpoint.get(CLASS_KEY) or stored or DEFAULT_CLASS
    check_class_paths([p for p in (checkpoint.get(CLASS_KEY), stored) if p], where=str(path))
    if not class_path.startswith(ALLOWED_PREFIX):
        raise ValueError(f"{path}: refusing to build {class_path!r} (only jepa_world classes)")
    module_name, _, cls_name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), cls_name)
    module = cls(**hparams)
    module.on_load_checkpoint(checkpoint)  # the module's own fix-ups (e.g. a refit predictor)
    module.load_state_dict(checkpoint["state_dict"], strict=True)
    return module.eval()

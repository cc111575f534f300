"""Plain progress lines for runs whose output is a file (a batch job's log, ``| tee``).

A progress bar redraws one line in place: written to a file it leaves nothing readable until the
first validation. :class:`StepLines` prints one ordinary line every ``every`` optimizer steps
instead, ``step 40/800 loss 0.1234 lr 4.00e-04 0.52 s/step``; the ``jepa-world`` command adds it
(and turns the bar off) whenever stdout is not a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback

__all__ = ["StepLines"]


class StepLines(Callback):
    """Print ``step S/MAX loss L lr R T s/step`` every ``every`` optimizer steps (rank 0 only).

    ``every`` None: the trainer's ``log_every_n_steps``. The last step always gets a line. The
    loss is the one the training step returned (no extra logging or synchronisation); the
    learning rate is read off the first optimizer's first parameter group.
    """

    def __init__(self, every: int | None = None) -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)):
            raise ValueError(f"StepLines every={every!r} must be None or an int >= 1")
        if every is not None and every < 1:
            raise ValueError(f"StepLines every={every} must be >= 1")
        self.every = every
        self._since: tuple[float, int] | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._since = (time.perf_counter(), trainer.global_step)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.global_step
        every = self.every or max(1, int(trainer.log_every_n_steps or 1))
        last = trainer.max_steps is not None and step >= trainer.max_steps > 0
        if not trainer.is_global_zero or step == 0 or (step % every and not last):
            return
        if self._since is not None and self._since[1] == step:
            return
        print(self.line(trainer, outputs), file=sys.stdout, flush=True)

    def line(self, trainer: pl.Trainer, outputs: Any) -> str:
        """The line for the current step."""
        step = trainer.global_step
        total = f"/{trainer.max_steps}" if trainer.max_steps and trainer.max_steps > 0 else ""
        parts = [f"step {step}{total}"]
        loss = _loss(outputs)
        if loss is not None:
            parts.append(f"loss {loss:.4g}")
        if trainer.optimizers:
            parts.append(f"lr {trainer.optimizers[0].param_groups[0]['lr']:.2e}")
        now = time.perf_counter()
        if self._since is not None and step > self._since[1]:
            parts.append(f"{(now - self._since[0]) / (step - self._since[1]):.2f} s/step")
        self._since = (now, step)
        return " ".join(parts)


def _loss(outputs: Any) -> float | None:
    value = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # None, or not one number
        return None

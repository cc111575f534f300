"""The base Lightning task of every jepa-world model: what JEPA and ActionJEPA share.

A task says how one batch becomes a loss (:meth:`BaseTask.training_loss`); the base owns the rest
of a training step, once: the non-finite-loss stop, the per-step metric logging (loss terms,
collapse statistics, throughput), the embeddings ``predict`` returns, the AdamW optimiser with its
warm-up + cosine learning rate and cosine weight-decay schedule, the EMA target update, and the
class record that ``jepa-world export`` reads from a checkpoint.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from jepa_world.losses import embedding_std, rankme
from jepa_world.training.schedules import cosine_ramp, warmup_cosine
from jepa_world.video import to_float_video

__all__ = ["CLASS_KEY", "BaseTask", "StepLoss"]

CLASS_KEY = "jepa_world_class"  # checkpoint key: the class path of the task that wrote it
"""Checkpoint key: the class path of the task that wrote it (read by ``jepa-world export``)."""


@dataclass
class StepLoss:
    """One training batch's loss: the total, its named terms (logged as ``train/<name>``), the
    targets whose spread the collapse statistics measure, and the batch size."""

    loss: Tensor
    terms: dict[str, Tensor]
    target: Tensor
    size: int


class BaseTask(pl.LightningModule):
    """Base of the training tasks: optimiser, schedules, EMA target, logging, finite-loss check.

    Subclasses build ``encoder`` and ``target_encoder`` (an EMA copy, or None) and save the
    hparams ``lr``, ``betas``, ``weight_decay`` (start, end), ``warmup_steps``, ``min_lr_ratio``,
    ``total_steps``, ``ema_momentum`` (start, end) and ``rankme_every``; they implement
    :meth:`training_loss`.
    """

    #: parameter names containing one of these get no weight decay (besides norms and biases)
    NO_DECAY_KEYS: tuple[str, ...] = ("pos_embed",)

    encoder: nn.Module
    target_encoder: nn.Module | None

    def __init__(self) -> None:
        super().__init__()
        self._last_batch_time: float | None = None

    @staticmethod
    def ema_target(encoder: nn.Module) -> nn.Module:
        """The EMA target encoder's start: a copy of ``encoder`` that gets no gradient."""
        target = copy.deepcopy(encoder)
        target.requires_grad_(False)
        return target

    @property
    def embedding_encoder(self) -> nn.Module:
        """The encoder whose embeddings are the model's output: the EMA target when there is one."""
        return self.target_encoder if self.target_encoder is not None else self.encoder

    # ------------------------------------------------------------------ schedules
    def _schedule_total(self) -> int:
        if self.hparams.total_steps is not None:
            return int(self.hparams.total_steps)
        max_steps = getattr(self.trainer, "max_steps", -1) if self._trainer is not None else -1
        return max(1, max_steps) if max_steps and max_steps > 0 else 10_000

    def _momentum(self, step: int | None = None) -> float:
        start, end = self.hparams.ema_momentum
        step = self.global_step if step is None else step
        return cosine_ramp(step, self._schedule_total(), start, end)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        wd_start, wd_end = self.hparams.weight_decay
        wd = cosine_ramp(self.global_step, self._schedule_total(), wd_start, wd_end)
        for group in self.optimizers().param_groups:
            if group.get("apply_wd", True):
                group["weight_decay"] = wd

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """The optimiser step, then the EMA step of the target encoder.

        Both happen before any ``on_train_batch_end`` hook, where ``ModelCheckpoint`` saves
        (callbacks' hooks run before the module's): a checkpoint of step ``n`` then holds the
        target after ``n`` updates, so a run resumed from it continues bit for bit. The momentum
        is the schedule's at the step count after this update.
        """
        super().optimizer_step(*args, **kwargs)
        self.update_target(self._momentum(self.global_step + 1))

    def update_target(self, m: float) -> None:
        """EMA step of the target encoder: target <- m * target + (1 - m) * online."""
        if self.target_encoder is None:
            return
        with torch.no_grad():
            online = list(self.encoder.parameters())
            target = list(self.target_encoder.parameters())
            torch._foreach_mul_(target, m)
            torch._foreach_add_(target, online, alpha=1.0 - m)

    def configure_optimizers(self) -> dict[str, Any]:
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            is_norm_or_bias = (
                param.ndim <= 1
                or name.endswith(".bias")
                or any(key in name for key in self.NO_DECAY_KEYS)
            )
            (no_decay if is_norm_or_bias else decay).append(param)
        groups = [
            {"params": decay, "weight_decay": self.hparams.weight_decay[0], "apply_wd": True},
            {"params": no_decay, "weight_decay": 0.0, "apply_wd": False},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr, betas=self.hparams.betas)
        total = self._schedule_total()
        warmup, final = self.hparams.warmup_steps, self.hparams.min_lr_ratio
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, warmup, total, final)
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "name": "lr"},
        }

    # ------------------------------------------------------------------ training step
    def training_loss(self, batch: dict[str, Any]) -> StepLoss:
        """The loss of one training batch; every task defines it."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        step = self.training_loss(batch)
        self.check_finite(step.loss)
        self.log_step(step)
        return step.loss

    def check_finite(self, loss: Tensor) -> None:
        """Stop training on a NaN or infinite loss, before the optimiser step or any checkpoint
        can store the damage."""
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"non-finite training loss ({loss.item()}) at step {self.global_step}: training "
                "stopped; the last good checkpoint is untouched"
            )

    def rankme_samples(self, target: Tensor) -> Tensor:
        """Samples ``(N, D)`` whose RankMe is logged: every target embedding."""
        return target.detach().reshape(-1, target.shape[-1]).float()

    def step_statistics(self, target: Tensor) -> dict[str, Tensor]:
        """Collapse statistics of the target embeddings: per-dim std (min, mean), RankMe."""
        flat = target.detach().reshape(-1, target.shape[-1]).float()
        std_min, std_mean = embedding_std(flat)
        stats = {"train/target_std_min": std_min, "train/target_std_mean": std_mean}
        if self.global_step % max(1, self.hparams.rankme_every) == 0:
            stats["train/rankme"] = rankme(self.rankme_samples(target))
        return stats

    def log_step(self, step: StepLoss) -> None:
        """Log the loss, its terms, the EMA momentum, the collapse statistics and clips/s; keep
        the mean target std for ``CollapseMonitor``."""
        logs = {
            "train/loss": step.loss.detach(),
            **{f"train/{name}": value.detach() for name, value in step.terms.items()},
            "train/momentum": torch.tensor(self._momentum()),
            **self.step_statistics(step.target),
        }
        now = time.perf_counter()
        if self._last_batch_time is not None:
            logs["train/clips_per_s"] = torch.tensor(step.size / (now - self._last_batch_time))
        self._last_batch_time = now
        size = step.size
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, batch_size=size)
        loss = step.loss.detach()
        self.log("loss", loss, prog_bar=True, on_step=True, logger=False, batch_size=size)
        self.last_target_std = float(logs["train/target_std_mean"])

    # ------------------------------------------------------------------ outputs
    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        """Pooled embeddings ``(B, T', D)`` of each clip (the target encoder when there is one)."""
        return self.embedding_encoder.embed(to_float_video(batch["video"]))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the class so ``jepa-world export`` can rebuild the task from the file."""
        checkpoint[CLASS_KEY] = f"{type(self).__module__}.{type(self).__qualname__}"

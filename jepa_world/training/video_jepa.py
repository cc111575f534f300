"""The video JEPA task ``JEPA``: forecast target-encoder embeddings of future frames, never pixels.

The context encoder sees the first ``context_steps`` time tokens of a clip (or, with
``tube_mask_prob`` > 0, the visible part of a V-JEPA multi-block tube mask); the predictor
forecasts the layer-normed tokens that the target encoder gives the hidden part. The target encoder
is an EMA copy of the context encoder (``target="ema"``) or the context encoder itself behind
stop-grad with a VICReg or SIGReg regulariser against collapse.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_world.checks import check_range
from jepa_world.losses import prediction_loss, sigreg, vicreg_covariance, vicreg_variance
from jepa_world.masking import Mask, future_mask, gather_tokens, multiblock_tube_mask
from jepa_world.models import create_encoder, create_predictor
from jepa_world.training.base import BaseTask, StepLoss
from jepa_world.video import to_float_video

__all__ = ["JEPA"]

TargetMode = Literal["ema", "vicreg", "sigreg"]
Objective = Literal["window", "causal"]


class JEPA(BaseTask):
    """Video JEPA: context encoder + predictor forecasting target-encoder embeddings.

    Args:
        encoder: preset name from ``jepa_world.models.list_encoders()``.
        encoder_kwargs: overrides for the preset (depth, embed_dim, ...).
        frames, img_size, in_chans: clip geometry; the CLI links them from the data module.
        predictor_depth, predictor_dim, predictor_heads, predictor_causal: predictor shape.
        predictor_residual: forecast the change from the last context step's token at the same
            patch (an untrained model starts at copy-last) instead of the tokens themselves.
        context_steps: time tokens the context encoder sees in the ``window`` objective (and the
            probes' default context).
        target_steps: time tokens forecast after the context (None: all remaining).
        objective: ``window``: forecast the steps after ``context_steps`` from them (or the tube
            mask); ``causal``: teacher forcing, every step of the clip is forecast ``h`` steps
            ahead from all of its real past, for each ``h`` in ``horizons`` (needs an encoder
            whose tokens do not mix time steps and a causal predictor). A causal model can carry
            what it saw many steps ago (an occluded ball) into its next-step forecasts.
        horizons: forecast distances (time steps) of the ``causal`` objective, each trained
            every step (losses averaged).
        tube_mask_prob: probability of a V-JEPA multi-block tube mask instead of forecasting.
        loss: prediction loss on layer-normed targets: ``l1``, ``smooth_l1`` or ``mse``.
        target: ``ema`` (EMA target encoder), ``vicreg`` or ``sigreg`` (stop-grad + regulariser).
        regulariser: anti-collapse term on the context tokens: ``auto`` (the target's own: none
            for ``ema``), or ``vicreg`` / ``sigreg`` (with an EMA target too).
        ema_momentum: (start, end) of the cosine momentum schedule.
        vicreg_weights: (variance, covariance) weights; sigreg_weight: SIGReg weight.
        lr, min_lr_ratio, warmup_steps, weight_decay: AdamW with warm-up + cosine lr and a
            cosine weight-decay schedule from ``weight_decay[0]`` to ``weight_decay[1]``.
        total_steps: length of the schedules (None: the trainer's ``max_steps``).
        rankme_every: compute RankMe of the target embeddings every this many steps.
    """

    def __init__(
        self,
        encoder: str = "vit_micro",
        encoder_kwargs: dict[str, Any] | None = None,
        frames: int = 8,
        img_size: int = 64,
        in_chans: int = 3,
        predictor_depth: int = 4,
        predictor_dim: int | None = None,
        predictor_heads: int = 4,
        predictor_causal: bool = True,
        predictor_residual: bool = True,
        context_steps: int = 2,
        target_steps: int | None = None,
        objective: Objective = "window",
        horizons: tuple[int, ...] = (1,),
        tube_mask_prob: float = 0.0,
        loss: Literal["l1", "smooth_l1", "mse"] = "l1",
        target: TargetMode = "ema",
        regulariser: Literal["auto", "vicreg", "sigreg"] = "auto",
        ema_momentum: tuple[float, float] = (0.996, 1.0),
        vicreg_weights: tuple[float, float] = (1.0, 0.04),
        sigreg_weight: float = 0.05,
        lr: float = 1e-3,
        min_lr_ratio: float = 0.01,
        warmup_steps: int = 100,
        weight_decay: tuple[float, float] = (0.04, 0.1),
        betas: tuple[float, float] = (0.9, 0.99),
        total_steps: int | None = None,
        rankme_every: int = 25,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_range("tube_mask_prob", tube_mask_prob, 0, 1)
        if target not in ("ema", "vicreg", "sigreg"):
            raise ValueError(f"target={target!r}: choose 'ema', 'vicreg' or 'sigreg'")
        if regulariser not in ("auto", "vicreg", "sigreg"):
            raise ValueError(f"regulariser={regulariser!r}: choose 'auto', 'vicreg' or 'sigreg'")
        self.encoder = create_encoder(
            encoder, img_size=img_size, in_chans=in_chans, frames=frames, **(encoder_kwargs or {})
        )
        self.grid = self.encoder.grid
        steps = self.grid[0]
        if not 1 <= context_steps < steps:
            raise ValueError(
                f"context_steps={context_steps} is out of range: allowed [1, {steps - 1}] for "
                f"{frames} frames with tubelet size {self.encoder.tubelet_size}"
            )
        if target_steps is not None and not 1 <= target_steps <= steps - context_steps:
            raise ValueError(
                f"target_steps={target_steps} is out of range: allowed [1, {steps - context_steps}]"
            )
        self._check_objective(objective, horizons, steps, predictor_causal, tube_mask_prob)
        self.predictor = create_predictor(
            self.encoder.num_features,
            self.grid,
            depth=predictor_depth,
            pred_dim=predictor_dim,
            num_heads=predictor_heads,
            causal=predictor_causal,
            residual=predictor_residual,
        )
        self.target_encoder = self.ema_target(self.encoder) if target == "ema" else None
        self._val_sums: list[float] = [0.0, 0.0, 0]  # this rank's (pred, copy-last, clips)

    def _check_objective(
        self,
        objective: str,
        horizons: tuple[int, ...],
        steps: int,
        causal: bool,
        tube_mask_prob: float,
    ) -> None:
        if objective not in ("window", "causal"):
            raise ValueError(f"objective={objective!r}: choose 'window' or 'causal'")
        if objective == "window":
            return
        if self.encoder.mixes_time:
            raise ValueError(
                f"objective='causal' needs an encoder whose tokens do not mix time steps; "
                f"{self.encoder.config['name']!r} attends across time, so its context tokens "
                "would see the frames they are asked to forecast (use a CNN encoder)"
            )
        if not causal:
            raise ValueError("objective='causal' needs predictor_causal=True")
        if tube_mask_prob > 0:
            raise ValueError("objective='causal' does not use tube masks: set tube_mask_prob=0")
        if not horizons or any(
            isinstance(h, bool) or not isinstance(h, int) or not 1 <= h < steps for h in horizons
        ):
            raise ValueError(
                f"horizons={list(horizons)} must be a non-empty list of ints in [1, {steps - 1}] "
                f"for clips of {steps} time steps"
            )

    @property
    def forecast_span(self) -> int:
        """Steps the predictor learned to forecast in one call (the probes' roll-out chunk)."""
        if self.hparams.objective == "causal":
            return max(self.hparams.horizons)
        return self.grid[0] - self.hparams.context_steps

    def export_metadata(self) -> dict[str, Any]:
        """What probes need to forecast as in training; stored in the export's config.json."""
        return {
            "context_steps": self.hparams.context_steps,
            "objective": self.hparams.objective,
            "forecast_span": self.forecast_span,
        }

    # ------------------------------------------------------------------ embeddings
    def target_tokens(self, video: Tensor) -> Tensor:
        """Layer-normed target-encoder tokens (B, T', N, D), no gradient."""
        with torch.no_grad():
            tokens = self.embedding_encoder.forward_features(video)
        return F.layer_norm(tokens, tokens.shape[-1:])

    def _mask(self, batch_size: int, training: bool) -> Mask:
        use_tube = training and self.hparams.tube_mask_prob > 0
        if use_tube:
            gen = torch.Generator().manual_seed(int(self.global_step) * 7919 + 17)
            use_tube = torch.rand((), generator=gen).item() < self.hparams.tube_mask_prob
        if use_tube:
            return multiblock_tube_mask(self.grid, batch_size, generator=gen)
        return future_mask(
            self.grid, self.hparams.context_steps, batch_size, self.hparams.target_steps
        )

    def _context_tokens(self, video: Tensor, mask: Mask) -> Tensor:
        """Context tokens (B, Nc, D): forecasting encodes only the context frames (no leak)."""
        steps = self.hparams.context_steps
        if mask.is_future:
            frames = steps * self.encoder.tubelet_size
            tokens = self.encoder.forward_features(video[:, :frames])
            return tokens.flatten(1, 2)
        return self.encoder.forward_masked(video, mask.context)

    def forecast(self, video: Tensor, mask: Mask) -> tuple[Tensor, Tensor, Tensor]:
        """Predictions, targets (both (B, Nt, D)) and context tokens for one batch."""
        targets_all = self.target_tokens(video)
        context = self._context_tokens(video, mask)
        pred = self.predictor(context, mask.context, mask.target, self.grid)
        target = gather_tokens(targets_all, mask.target)
        return pred, target, context

    # ------------------------------------------------------------------ training
    def _regulariser(self, context: Tensor) -> Tensor:
        z = context.reshape(-1, context.shape[-1])
        kind = self.hparams.regulariser
        if kind == "auto":
            kind = self.hparams.target
        if kind == "vicreg":
            var_w, cov_w = self.hparams.vicreg_weights
            return var_w * vicreg_variance(z) + cov_w * vicreg_covariance(z)
        if kind == "sigreg":
            gen = torch.Generator(device=z.device).manual_seed(int(self.global_step))
            return self.hparams.sigreg_weight * sigreg(z, generator=gen)
        return context.new_zeros(())

    def forecast_ahead(self, tokens: Tensor, horizon: int) -> Tensor:
        """Teacher forcing on context tokens ``(B, T', N, D)`` of a whole clip: every step
        t >= ``horizon`` forecast from the real steps <= t - horizon, ``(B, (T' - h) * N, D)``
        (compare with ``target_tokens(video)[:, horizon:]``)."""
        t, n = tokens.shape[1], tokens.shape[2]
        index = torch.arange(t * n, device=tokens.device)
        return self.predictor(
            tokens[:, : t - horizon].flatten(1, 2),
            index[: (t - horizon) * n],
            index[horizon * n :],
            (t, self.grid[1], self.grid[2]),
            horizon=horizon,
        )

    def _prediction(self, video: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(prediction loss, targets, context tokens) of the configured objective."""
        kind = self.hparams.loss
        if self.hparams.objective == "causal":  # encode once, forecast every horizon from it
            targets_all = self.target_tokens(video)
            tokens = self.encoder.forward_features(video)
            losses = [
                prediction_loss(
                    self.forecast_ahead(tokens, h),
                    targets_all[:, h:].flatten(1, 2),
                    kind=kind,
                    normalize_target=False,
                )
                for h in self.hparams.horizons
            ]
            return torch.stack(losses).mean(), targets_all.flatten(1, 2), tokens.flatten(1, 2)
        mask = self._mask(video.shape[0], training=True)
        pred, target, context = self.forecast(video, mask)
        return prediction_loss(pred, target, kind=kind, normalize_target=False), target, context

    def compute_loss(self, video: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(total loss, prediction loss, regulariser, targets) for one float video batch."""
        pred_loss, target, context = self._prediction(video)
        reg_loss = self._regulariser(context)
        return pred_loss + reg_loss, pred_loss, reg_loss, target

    def training_loss(self, batch: dict[str, Any]) -> StepLoss:
        video = to_float_video(batch["video"])
        loss, pred_loss, reg_loss, target = self.compute_loss(video)
        return StepLoss(loss, {"pred_loss": pred_loss, "reg_loss": reg_loss}, target, len(video))

    def rankme_samples(self, target: Tensor) -> Tensor:
        """One sample per clip: its target tokens averaged."""
        return target.detach().mean(1).float()

    # ------------------------------------------------------------------ validation
    def _evaluate(self, video: Tensor) -> tuple[Tensor, Tensor]:
        """(prediction loss, copy-last loss) of the validation forecast: the ``window`` forecast
        from ``context_steps``, or the causal one-step forecast of every step."""
        kind = self.hparams.loss
        if self.hparams.objective == "causal":
            targets_all = self.target_tokens(video)
            pred = self.forecast_ahead(self.encoder.forward_features(video), 1)
            target = targets_all[:, 1:].flatten(1, 2)
            copy = targets_all[:, :-1].flatten(1, 2)  # each step gets the previous step's target
        else:
            mask = self._mask(video.shape[0], training=False)
            pred, target, _ = self.forecast(video, mask)
            # copy-last: every target step gets the last context step's target embedding
            targets_all = self.target_tokens(video)
            last = targets_all[:, self.hparams.context_steps - 1]
            copy = last.repeat(1, target.shape[1] // last.shape[1], 1)
        pred_loss = prediction_loss(pred, target, kind=kind, normalize_target=False)
        return pred_loss, prediction_loss(copy, target, kind=kind, normalize_target=False)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        video = to_float_video(batch["video"])
        pred_loss, copy_loss = self._evaluate(video)
        size = len(video)
        self._val_sums = [
            self._val_sums[0] + float(pred_loss) * size,
            self._val_sums[1] + float(copy_loss) * size,
            self._val_sums[2] + size,
        ]
        self.log("val/pred_loss", pred_loss, prog_bar=True, batch_size=size, sync_dist=True)
        self.log("val/copy_last_loss", copy_loss, prog_bar=True, batch_size=size, sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        """One console line per validation: does the model beat copying the last frame?"""
        sums, self._val_sums = self._val_sums, [0.0, 0.0, 0]
        if self.trainer.sanity_checking or sums[2] == 0:
            return
        pred, copy = sums[0] / sums[2], sums[1] / sums[2]
        self.print(
            f"step {self.global_step}: val/pred_loss {pred:.4f}, val/copy_last_loss {copy:.4f} "
            f"({'beats' if pred < copy else 'does not beat'} copy-last)"
        )

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        video = to_float_video(batch["video"])
        loss, _ = self._evaluate(video)
        self.log("test/pred_loss", loss, batch_size=len(video), sync_dist=True)

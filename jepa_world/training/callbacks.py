"""Training callbacks: collapse monitor, online velocity probe, encoder export, probe suite,
clip ledger. Recipes name them ``jepa_world.training.callbacks.<Name>``."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from jepa_world.video import to_float_video


def run_dir(trainer: pl.Trainer) -> Path:
    """The run folder: everything a run writes lives under ``trainer.default_root_dir``."""
    return Path(trainer.default_root_dir)


class CollapseMonitor(Callback):
    """Warn, then stop with a clear message, when the target embeddings collapse.

    Watches the mean per-dimension std of the layer-normed target tokens that ``JEPA`` logs each
    step. A collapsed representation has std near 0: the loss looks great and nothing is learned.
    """

    def __init__(self, threshold: float = 0.05, patience: int = 50, warmup_steps: int = 20) -> None:
        if threshold <= 0:
            raise ValueError(f"threshold={threshold} must be > 0")
        self.threshold = threshold
        self.patience = patience
        self.warmup_steps = warmup_steps
        self._low_steps = 0
        self._warned = False

    def state_dict(self) -> dict[str, Any]:
        """The count of low steps, saved in checkpoints so a resumed run stops where it would."""
        return {"low_steps": self._low_steps, "warned": self._warned}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._low_steps = int(state_dict.get("low_steps", 0))
        self._warned = bool(state_dict.get("warned", False))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        std = getattr(pl_module, "last_target_std", None)
        if std is None or trainer.global_step < self.warmup_steps:
            return
        if std >= self.threshold:
            self._low_steps = 0
            return
        self._low_steps += 1
        if not self._warned:
            warnings.warn(
                f"target embedding std {std:.4f} < {self.threshold} at step "
                f"{trainer.global_step}: the representation may be collapsing",
                stacklevel=1,
            )
            self._warned = True
        if self._low_steps >= self.patience:
            trainer.should_stop = True
            message = (
                f"collapse: target embedding std stayed below {self.threshold} for "
                f"{self.patience} steps (now {std:.4f} at step {trainer.global_step}); "
                "training stopped. Raise the EMA momentum, lower the lr, or add a regulariser."
            )
            rank_zero_print(trainer, message)
            self.stopped_message = message


def rank_zero_print(trainer: pl.Trainer, message: str) -> None:
    if trainer.is_global_zero:
        print(message, flush=True)


def heldout_r2(features: torch.Tensor, labels: torch.Tensor, val_fraction: float = 0.25) -> float:
    """R^2 of a linear read-out of ``labels`` (B, T, K) from ``features`` (B, T, D), scored on
    held-out clips.

    Clips are split, never the time steps of one clip: the first half of the clips fits the
    read-out (its first ``val_fraction`` of them choose the ridge penalty), the second half scores
    it. Non-finite features (a diverged model) give NaN instead of an error.
    """
    from jepa_world.evaluation.metrics import r2_score
    from jepa_world.evaluation.ridge import fit_ridge

    if not torch.isfinite(features).all():
        return float("nan")
    half = len(features) // 2
    n_val = max(1, int(half * val_fraction))
    x, y = features.flatten(0, 1).double(), labels.flatten(0, 1).double()
    steps = features.shape[1]
    fit_rows, val_rows, test_rows = (
        slice(n_val * steps, half * steps),
        slice(0, n_val * steps),
        slice(half * steps, None),
    )
    readout = fit_ridge(x[fit_rows], y[fit_rows], x[val_rows], y[val_rows])
    return r2_score(readout.predict(x[test_rows]), y[test_rows].numpy())


class OnlineVelocityProbe(Callback):
    """Each validation, fit a ridge read-out of ball velocity from frozen features; log R^2.

    Position is too easy to tell anything (raw pixels reach R^2 ~ 0.98); velocity needs
    features that see motion. The probe draws its own clips (one ball, seeds from the probe range,
    disjoint from training) so it measures the representation, not the training batches.
    Feature of a time token: its pooled target-encoder embedding; label: the ball's mean velocity
    over the frames of that token.
    """

    def __init__(
        self,
        clips: int = 256,
        world_params: dict[str, Any] | None = None,
        seed_start: int | None = None,
        batch_size: int = 64,
    ) -> None:
        self.clips = clips
        self.world_params = dict(world_params or {})
        self.seed_start = seed_start
        self.batch_size = batch_size
        self._data: dict[str, np.ndarray] | None = None
        self.last_r2: float | None = None

    def _probe_data(self, pl_module: pl.LightningModule) -> dict[str, np.ndarray]:
        if self._data is None:
            from jepa_world.data.seeds import PROBE_SEED_START
            from jepa_world.worlds import create_world

            params = {
                "num_balls": (1, 1),
                "frames": pl_module.hparams.frames,
                "size": pl_module.hparams.img_size,
            }
            params.update(self.world_params)
            world = create_world("physics2d", **params)
            start = PROBE_SEED_START if self.seed_start is None else self.seed_start
            batch = world.generate(np.arange(start, start + self.clips))
            self._data = {"video": batch["video"], "velocity": batch["state"]["velocity"][:, :, 0]}
        return self._data

    @torch.no_grad()
    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        data = self._probe_data(pl_module)
        encoder = pl_module.embedding_encoder
        feats = []
        for i in range(0, len(data["video"]), self.batch_size):
            video = to_float_video(data["video"][i : i + self.batch_size], pl_module.device)
            feats.append(encoder.embed(video).float().cpu())
        x = torch.cat(feats)  # (B, T', D)
        tub = encoder.tubelet_size
        vel = torch.from_numpy(data["velocity"]).float()  # (B, T, 2)
        y = vel.reshape(vel.shape[0], -1, tub, 2).mean(2)  # (B, T', 2)
        self.last_r2 = heldout_r2(x, y)
        pl_module.log("val/velocity_r2", self.last_r2, rank_zero_only=True)


def export_metadata(module: pl.LightningModule) -> dict[str, Any] | None:
    """The module's probe metadata (context, objective, forecast span), if it has any."""
    method = getattr(module, "export_metadata", None)
    return method() if callable(method) else None


class EncoderExport(Callback):
    """Export the frozen-model folder (``<run>/encoder``) when fit ends."""

    def __init__(self, dirname: str = "encoder") -> None:
        self.dirname = dirname
        self.path: Path | None = None

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        from jepa_world.hub import save_pretrained

        out = run_dir(trainer) / self.dirname
        self.path = save_pretrained(pl_module, out, metadata=export_metadata(pl_module))
        rank_zero_print(trainer, f"exported encoder to {out}")


class ProbeSuite(Callback):
    """Run a probe suite on the model ``EncoderExport`` just wrote, print and log its report.

    The suite is validated when fit starts, so a malformed one fails before any training. The
    report lands in ``<run>/<dirname>`` (report.json, report.md, plots) and its metrics and plots
    go to the run's loggers under ``probe/``. Must come after ``EncoderExport`` in the callbacks.
    """

    def __init__(self, suite: str = "physics", dirname: str = "probe") -> None:
        self.suite = suite
        self.dirname = dirname
        self.report: dict[str, Any] | None = None

    def _export(self, trainer: pl.Trainer) -> EncoderExport:
        exports = [c for c in trainer.callbacks if isinstance(c, EncoderExport)]
        mine = trainer.callbacks.index(self)
        if not exports or trainer.callbacks.index(exports[-1]) > mine:
            raise ValueError(
                "ProbeSuite needs an EncoderExport callback before it in trainer.callbacks "
                "(it probes the exported model)"
            )
        return exports[-1]

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        from jepa_world.evaluation import check_suite

        self._export(trainer)
        check_suite(self.suite)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        from jepa_world.evaluation import run_suite

        out = run_dir(trainer) / self.dirname
        model = self._export(trainer).path
        rank_zero_print(trainer, f"probe suite {self.suite!r} on {model} ...")
        self.report = run_suite(model, self.suite, out, log=print)
        table = self.report.table()
        print(table, flush=True)
        total = self.report["timing"]["total_s"]
        print(f"probe report: {out}/report.json, {out}/report.md ({total:.1f} s)", flush=True)
        self.report.log_to(trainer.loggers, out, step=trainer.global_step)


class ClipLedger(Callback):
    """Record which clip seeds each rank trained on (``<run>/clips/rank<r>.json``).

    Proof that data-parallel ranks draw different clips, and a way to audit what a run saw.
    """

    def __init__(self, dirname: str = "clips") -> None:
        self.dirname = dirname
        self._seeds: list[int] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        seeds = batch.get("seed") if isinstance(batch, dict) else None
        if seeds is not None:
            self._seeds.extend(int(s) for s in seeds.tolist())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        out = run_dir(trainer) / self.dirname
        os.makedirs(out, exist_ok=True)
        path = out / f"rank{trainer.global_rank}.json"
        path.write_text(json.dumps({"rank": trainer.global_rank, "seeds": self._seeds}))

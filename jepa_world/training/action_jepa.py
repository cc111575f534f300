"""LightningModule ``ActionJEPA``: an action-conditioned world model trained without rewards.

Each frame is encoded on its own into a latent ``z_t`` (tubelet 1); an action-conditioned
predictor forecasts ``z_{t+1}`` from ``z_{<=t}`` and ``a_{<=t}``. Two prediction losses, both in
latent space: teacher forcing (every step of the clip in parallel) and a multi-step roll-out that
feeds the predictor's own outputs back for ``rollout_steps`` steps, which is how a planner uses it.

Against collapse, by config (the designs of eb_jepa and PLDM; docs/protocols.md):
- ``target="ema"``: targets from an EMA copy of the encoder, no gradient;
- ``target="online"``: targets from the encoder itself, with VICReg variance and covariance terms
  on the latents, a temporal-similarity term (consecutive latents close) and an inverse-dynamics
  head (IDM: predict ``a_t`` from ``(z_t, z_{t+1})``) that forces the latent to keep what actions
  change. The regulariser weights apply in both modes (set them to 0 to switch a term off).

With ``refit`` set, training ends with a second stage (:mod:`jepa_world.training.refit`): the
encoder frozen, the action predictor is re-initialised and trained alone on cached latents of
fresh windows, which buys it tens of times more updates than the end-to-end steps could.

Transitions that cross an episode boundary (``state["episode_start"]`` of gym clips) or lead to
the padding row at the end of a clip are masked out of every loss.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.losses import vicreg_covariance, vicreg_variance
from jepa_world.models import create_action_predictor, create_encoder
from jepa_world.training.base import BaseTask, StepLoss
from jepa_world.training.refit import check_refit_kwargs, refit_action_predictor, refit_predictor
from jepa_world.video import to_float_video

__all__ = ["ActionJEPA", "InverseDynamics", "elementwise_loss", "masked_mean", "transition_mask"]

TargetMode = Literal["online", "ema"]
LOSSES = ("mse", "l1", "smooth_l1")
PREDICTOR_CONFIG_KEY = "action_predictor_config"  # checkpoint key: the predictor as saved


def transition_mask(batch: dict[str, Any], steps: int, device: torch.device) -> Tensor | None:
    """(B, T-1) bool: transition t -> t+1 is real (not across an episode start), or None if all
    are (no ``episode_start`` in the batch's state)."""
    state = batch.get("state")
    start = state.get("episode_start") if isinstance(state, dict) else None
    if start is None:
        return None
    if start.ndim != 2 or start.shape[1] != steps:
        raise ValueError(f"state['episode_start'] must be (B, T={steps}), got {tuple(start.shape)}")
    return (start[:, 1:] < 0.5).to(device)


def masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of ``values`` (B, S, ...) over the rows where ``mask`` (B, S) is true (0 if none)."""
    if mask is None:
        return values.mean()
    per_row = values.flatten(2).mean(-1) if values.ndim > 2 else values
    weights = mask.to(per_row.dtype)
    return (per_row * weights).sum() / weights.sum().clamp_min(1.0)


def elementwise_loss(pred: Tensor, target: Tensor, kind: str) -> Tensor:
    """Unreduced prediction loss (``mse``, ``l1`` or ``smooth_l1``)."""
    if kind == "mse":
        return F.mse_loss(pred, target, reduction="none")
    if kind == "l1":
        return F.l1_loss(pred, target, reduction="none")
    return F.smooth_l1_loss(pred, target, reduction="none")


class InverseDynamics(nn.Module):
    """IDM head: predicts ``a_t`` from ``z_t`` and the change ``z_{t+1} - z_t``.

    Both inputs are batch-normalised first, so a change that is still tiny early in training
    (e.g. a feature that barely follows the agent) is already visible to the head; its gradient
    then pushes the encoder to make that feature follow the agent, instead of waiting for the
    change to become large on its own.
    """

    def __init__(self, latent_dim: int, action_dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(2 * latent_dim, affine=False)
        self.net = nn.Sequential(
            nn.Linear(2 * latent_dim, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, action_dim),
        )

    def forward(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Actions ``(N, A)`` from latents ``(N, D)`` before and after each transition."""
        return self.net(self.norm(torch.cat([z, z_next - z], dim=-1)))


class ActionJEPA(BaseTask):
    """Frame encoder + action-conditioned predictor, trained by latent prediction.

    Args:
        encoder: encoder preset (``cnn_keypoints`` fits any frame size; ViT/CNN presets need
            ``tubelet_size=1`` in ``encoder_kwargs``). The latent is ``encoder.embed`` per frame.
        encoder_kwargs: overrides for the preset.
        frames, img_size, in_chans: clip geometry; the CLI links them from the data module.
        action_dim: size of an action vector (Two Rooms: 2).
        predictor: ``mlp`` (fast, Markov), ``gru`` or ``transformer`` (block-causal).
        predictor_kwargs: the predictor's own kwargs (``hidden``, ``depth``, ``dim`` ...).
        target: ``online`` (the encoder itself) or ``ema`` (EMA copy, stop-grad).
        target_grad: with ``online``, let the prediction loss move the target latents too
            (PLDM); False puts a stop-gradient on them.
        loss: ``mse``, ``l1`` or ``smooth_l1`` between predicted and target latents.
        rollout_steps: length of the multi-step roll-out loss (0: teacher forcing only); every
            start step of the clip is rolled out in parallel.
        pred_weight, rollout_weight: weights of the two prediction losses.
        var_weight, cov_weight, var_gamma: VICReg variance (hinge at std ``var_gamma``) and
            covariance on the latents of every frame.
        time_weight: temporal similarity, mean squared change of the latent per step.
        idm_weight, idm_hidden: inverse-dynamics loss (MSE on actions) and its head's width.
        ema_momentum: (start, end) of the cosine momentum schedule (``target="ema"``).
        lr, min_lr_ratio, warmup_steps, weight_decay, betas, total_steps: AdamW with warm-up +
            cosine lr, cosine weight-decay schedule; schedules span ``total_steps`` (None: the
            trainer's ``max_steps``).
        rankme_every: log RankMe of the latents every this many steps.
        probe_state: state key (e.g. ``position``) read out linearly from validation latents,
            logged as ``val/<key>_r2``; None or a missing key skips it.
        refit: None, or the keyword arguments of
            :func:`~jepa_world.training.refit.refit_action_predictor` (``windows``, ``steps``,
            ``batch_size``, ``lr``, ...): when training ends, the predictor is refit on frozen
            latents of the training world, before the export; metrics go to the loggers as
            ``refit/...`` and the last checkpoint is saved again so that it matches the export.
    """

    NO_DECAY_KEYS = ("embed",)  # position and action embeddings

    def __init__(
        self,
        encoder: str = "cnn_keypoints",
        encoder_kwargs: dict[str, Any] | None = None,
        frames: int = 17,
        img_size: int = 65,
        in_chans: int = 2,
        action_dim: int = 2,
        predictor: str = "mlp",
        predictor_kwargs: dict[str, Any] | None = None,
        target: TargetMode = "online",
        target_grad: bool = True,
        loss: Literal["mse", "l1", "smooth_l1"] = "mse",
        rollout_steps: int = 8,
        pred_weight: float = 1.0,
        rollout_weight: float = 1.0,
        var_weight: float = 1.0,
        cov_weight: float = 0.04,
        var_gamma: float = 1.0,
        time_weight: float = 0.1,
        idm_weight: float = 1.0,
        idm_hidden: int = 128,
        ema_momentum: tuple[float, float] = (0.99, 1.0),
        lr: float = 1e-3,
        min_lr_ratio: float = 0.01,
        warmup_steps: int = 100,
        weight_decay: tuple[float, float] = (0.01, 0.01),
        betas: tuple[float, float] = (0.9, 0.99),
        total_steps: int | None = None,
        rankme_every: int = 25,
        probe_state: str | None = "position",
        refit: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_refit_kwargs(refit)
        if target not in ("online", "ema"):
            raise ValueError(f"target={target!r}: choose 'online' or 'ema'")
        if loss not in LOSSES:
            raise ValueError(f"loss={loss!r}: choose one of {LOSSES}")
        check_int("action_dim", action_dim, 1)
        if frames < 2:
            raise ValueError(f"frames={frames} is out of range: ActionJEPA needs >= 2 frames")
        if check_int("rollout_steps", rollout_steps, 0) > frames - 1:
            raise ValueError(
                f"rollout_steps={rollout_steps} is out of range: allowed [0, frames - 1 = "
                f"{frames - 1}]"
            )
        weights = {
            "pred_weight": pred_weight,
            "rollout_weight": rollout_weight,
            "var_weight": var_weight,
            "cov_weight": cov_weight,
            "time_weight": time_weight,
            "idm_weight": idm_weight,
        }
        for name, value in weights.items():
            if not value >= 0:
                raise ValueError(f"{name}={value!r} is out of range: allowed >= 0")
        self.encoder = create_encoder(
            encoder, img_size=img_size, in_chans=in_chans, frames=frames, **(encoder_kwargs or {})
        )
        if self.encoder.tubelet_size != 1:
            raise ValueError(
                f"encoder {encoder!r} has tubelet_size={self.encoder.tubelet_size}: ActionJEPA "
                "encodes each frame on its own; set encoder_kwargs tubelet_size=1"
            )
        latent_dim = self.encoder.num_features
        self.action_predictor = create_action_predictor(
            predictor, latent_dim=latent_dim, action_dim=action_dim, **(predictor_kwargs or {})
        )
        if refit and refit.get("predictor_kwargs"):  # a bad override fails now, not after training
            with torch.random.fork_rng(devices=[]):  # without moving the RNG stage 1 starts from
                refit_predictor(self.action_predictor.config, refit["predictor_kwargs"])
        self.target_encoder = self.ema_target(self.encoder) if target == "ema" else None
        self.idm: InverseDynamics | None = None
        if idm_weight > 0:
            self.idm = InverseDynamics(latent_dim, action_dim, idm_hidden)
        self._probe: dict[str, list[Tensor]] = {"z": [], "y": []}

    # ------------------------------------------------------------------ latents
    def encode(self, video: Tensor) -> Tensor:
        """Latents ``(B, T, D)`` of float video ``(B, T, C, H, W)`` (context encoder)."""
        return self.encoder.embed(video)

    def target_latents(self, video: Tensor, z: Tensor) -> Tensor:
        """What the predictor is trained to hit: EMA latents (no grad) or the encoder's own."""
        if self.target_encoder is not None:
            with torch.no_grad():
                return self.target_encoder.embed(video)
        return z if self.hparams.target_grad else z.detach()

    def _batch_inputs(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor, Tensor | None]:
        if "actions" not in batch:
            raise ValueError(
                "ActionJEPA needs batches with 'actions' (B, T, A): use a world with actions "
                "(two_rooms, gym)"
            )
        video = to_float_video(batch["video"])
        actions = batch["actions"].to(video.dtype)
        b, t = video.shape[:2]
        a = self.hparams.action_dim
        if actions.shape != (b, t, a):
            raise ValueError(
                f"actions must be (B, T, A) = ({b}, {t}, {a}) for this model (action_dim={a}), "
                f"got {tuple(actions.shape)}"
            )
        return video, actions, transition_mask(batch, t, video.device)

    # ------------------------------------------------------------------ losses
    def prediction_terms(
        self,
        z: Tensor,
        target: Tensor,
        actions: Tensor,
        mask: Tensor | None,
        rollout_steps: int | None = None,
    ) -> dict[str, Tensor]:
        """Teacher-forcing and roll-out losses of latents ``z`` against ``target``; the roll-out
        is ``rollout_steps`` long (default: the module's ``rollout_steps``)."""
        kind = self.hparams.loss
        pred = self.action_predictor(z[:, :-1], actions[:, :-1])  # row t forecasts z_{t+1}
        terms = {"pred_loss": masked_mean(elementwise_loss(pred, target[:, 1:], kind), mask)}
        k = self.hparams.rollout_steps if rollout_steps is None else rollout_steps
        if k > 0:
            terms["rollout_loss"] = self._rollout_loss(z, target, actions, mask, k)
        return terms

    def _rollout_loss(
        self, z: Tensor, target: Tensor, actions: Tensor, mask: Tensor | None, k: int
    ) -> Tensor:
        """Roll out ``k`` steps from every start ``s`` with ``s + k <= T - 1``, in one batch."""
        b, t, d = z.shape
        starts = t - k  # s = 0 .. T-1-k
        acts = actions[:, :-1].unfold(1, k, 1).transpose(-1, -2)  # (B, starts, k, A)
        goals = target[:, 1:].unfold(1, k, 1).transpose(-1, -2)  # (B, starts, k, D)
        pred = self.action_predictor.rollout(
            z[:, :starts].reshape(b * starts, d), acts.flatten(0, 1)
        )
        err = elementwise_loss(pred.view(b, starts, k, d), goals, self.hparams.loss)
        window_ok = None
        if mask is not None:
            window_ok = mask.unfold(1, k, 1).all(dim=-1)  # (B, starts)
        return masked_mean(err, window_ok)

    def regulariser_terms(
        self, z: Tensor, actions: Tensor, mask: Tensor | None
    ) -> dict[str, Tensor]:
        """VICReg variance / covariance, temporal similarity and IDM terms (unweighted)."""
        hp = self.hparams
        flat = z.reshape(-1, z.shape[-1])
        terms: dict[str, Tensor] = {}
        if hp.var_weight > 0:
            terms["var_loss"] = vicreg_variance(flat, gamma=hp.var_gamma)
        if hp.cov_weight > 0:
            terms["cov_loss"] = vicreg_covariance(flat)
        if hp.time_weight > 0:
            terms["time_loss"] = masked_mean((z[:, 1:] - z[:, :-1]).square(), mask)
        if self.idm is not None:
            terms["idm_loss"] = self._idm_loss(z, actions, mask)
        return terms

    def _idm_loss(self, z: Tensor, actions: Tensor, mask: Tensor | None) -> Tensor:
        """Inverse-dynamics MSE over the real transitions only (they alone set its batch norm)."""
        z_now, z_next, acts = z[:, :-1], z[:, 1:], actions[:, :-1]
        if mask is not None:
            z_now, z_next, acts = z_now[mask], z_next[mask], acts[mask]
        else:
            z_now, z_next, acts = z_now.flatten(0, 1), z_next.flatten(0, 1), acts.flatten(0, 1)
        if len(acts) < 2:  # batch statistics need two samples
            return z.new_zeros(())
        return (self.idm(z_now, z_next) - acts).square().mean()

    def compute_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """(total loss, unweighted terms, target latents) of one batch."""
        video, actions, mask = self._batch_inputs(batch)
        z = self.encode(video)
        target = self.target_latents(video, z)
        terms = {**self.prediction_terms(z, target, actions, mask)}
        terms.update(self.regulariser_terms(z, actions, mask))
        hp = self.hparams
        weight = {
            "pred_loss": hp.pred_weight,
            "rollout_loss": hp.rollout_weight,
            "var_loss": hp.var_weight,
            "cov_loss": hp.cov_weight,
            "time_loss": hp.time_weight,
            "idm_loss": hp.idm_weight,
        }
        loss = sum(weight[name] * value for name, value in terms.items())
        return loss, terms, target

    # ------------------------------------------------------------------ training
    def training_loss(self, batch: dict[str, Any]) -> StepLoss:
        loss, terms, target = self.compute_loss(batch)
        return StepLoss(loss, terms, target, len(batch["video"]))

    def on_train_end(self) -> None:
        """The refit stage (``refit``), after the last step and before the export."""
        if not self.hparams.refit:
            return
        trainer = self.trainer
        world = getattr(trainer.datamodule, "world", None)
        if world is None:
            raise ValueError("refit needs a data module with a `world` to draw windows from")
        log = print if trainer.is_global_zero else None
        shape = self.action_predictor.config
        result = refit_action_predictor(self, world, log=log, **self.hparams.refit)
        for logger in trainer.loggers:
            logger.log_metrics(result.metrics(), step=trainer.global_step)
        checkpoint = trainer.checkpoint_callback
        last = getattr(checkpoint, "last_model_path", "") if checkpoint is not None else ""
        if last:  # a reshaped predictor leaves the optimizer state behind: weights only then
            trainer.save_checkpoint(last, weights_only=self.action_predictor.config != shape)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Also record the predictor's architecture, which the refit may have changed."""
        super().on_save_checkpoint(checkpoint)
        checkpoint[PREDICTOR_CONFIG_KEY] = dict(self.action_predictor.config)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Rebuild the predictor in the checkpoint's architecture before its weights load."""
        config = checkpoint.get(PREDICTOR_CONFIG_KEY)
        if config is not None and config != self.action_predictor.config:
            self.action_predictor = create_action_predictor(**config)

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def _evaluate(self, batch: dict[str, Any], stage: str) -> Tensor:
        video, actions, mask = self._batch_inputs(batch)
        z = self.encode(video)
        target = self.target_latents(video, z)
        kind, size = self.hparams.loss, len(video)
        terms = self.prediction_terms(z, target, actions, mask)
        copy_last = masked_mean(elementwise_loss(target[:, :-1], target[:, 1:], kind), mask)
        logs = {f"{stage}/{name}": value for name, value in terms.items()}
        logs[f"{stage}/copy_last_loss"] = copy_last
        k = self.hparams.rollout_steps
        if k > 0:  # copy-last over the roll-out: every step predicted as the start latent
            starts = target[:, : video.shape[1] - k, None]
            goals = target[:, 1:].unfold(1, k, 1).transpose(-1, -2)
            ok = None if mask is None else mask.unfold(1, k, 1).all(dim=-1)
            err = elementwise_loss(starts.expand_as(goals), goals, kind)
            logs[f"{stage}/copy_last_rollout_loss"] = masked_mean(err, ok)
        if self.idm is not None:
            logs[f"{stage}/idm_loss"] = self.regulariser_terms(z, actions, mask)["idm_loss"]
        self.log_dict(logs, prog_bar=False, batch_size=size, sync_dist=True)
        return z

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        z = self._evaluate(batch, "val")
        key = self.hparams.probe_state
        state = batch.get("state")
        if key and isinstance(state, dict) and key in state:
            self._probe["z"].append(z.detach().float().cpu())
            self._probe["y"].append(state[key].float().reshape(*z.shape[:2], -1).cpu())

    def on_validation_epoch_end(self) -> None:
        zs, ys = self._probe["z"], self._probe["y"]
        self._probe = {"z": [], "y": []}
        if self.trainer.sanity_checking or not zs:
            return
        z, y = torch.cat(zs), torch.cat(ys)
        if len(z) < 4:  # the read-out needs two clips to fit on and two to score
            return
        from jepa_world.training.callbacks import heldout_r2

        r2 = heldout_r2(z, y)
        self.log(f"val/{self.hparams.probe_state}_r2", r2, rank_zero_only=True)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

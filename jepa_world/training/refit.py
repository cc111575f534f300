"""Refit an ``ActionJEPA``'s action predictor on frozen latents (the second training stage).

Why a second stage: end-to-end steps are bound by the encoder (its forward and backward pass on
every frame of the batch), so in a CPU budget the predictor gets only as many updates as the
encoder. That is enough to forecast free moves, but not to learn the rare events a planner
depends on: on Two Rooms, no end-to-end run we measured learned that the inner wall stops a move
(docs/planning.md). With the encoder frozen, each window is encoded once and a predictor update
costs a few matmuls, so the predictor gets tens of times more updates in the same time.

The refit starts the predictor from a fresh initialisation, so the result does not depend on the
end-to-end predictor it replaces, and running it twice gives the same predictor. Its architecture
is the end-to-end one unless ``predictor_kwargs`` overrides some of it: the two stages want
different predictors (on Two Rooms a depth-3 predictor in stage 1 let the encoder drop the door,
while the refit needs depth 3 to learn the wall; docs/planning.md).

Its data are fresh windows of the training world, drawn from the top of the train seed range
(the stream of :mod:`jepa_world.data.stream` starts at its bottom), so they never overlap
validation, test or probe seeds.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.checks import check_int, check_range
from jepa_world.data.batch import to_tensors
from jepa_world.data.seeds import SEED_RANGES
from jepa_world.models import ActionPredictor, create_action_predictor
from jepa_world.training.schedules import warmup_cosine
from jepa_world.video import to_float_video

__all__ = [
    "REFIT_KEYS",
    "RefitResult",
    "check_refit_kwargs",
    "encode_windows",
    "refit_action_predictor",
    "refit_seeds",
]


@dataclass
class RefitResult:
    """What one refit did: sizes, times (s) and losses (held-out ones on unseen windows)."""

    windows: int
    updates: int
    encode_seconds: float
    train_seconds: float
    first_loss: float
    last_loss: float
    heldout: dict[str, float] = field(default_factory=dict)

    def metrics(self, prefix: str = "refit/") -> dict[str, float]:
        """Flat metrics for a logger."""
        out = {
            "windows": float(self.windows),
            "updates": float(self.updates),
            "encode_seconds": self.encode_seconds,
            "train_seconds": self.train_seconds,
            "first_loss": self.first_loss,
            "last_loss": self.last_loss,
            **{f"heldout_{k}": v for k, v in self.heldout.items()},
        }
        return {prefix + k: v for k, v in out.items()}


def refit_seeds(windows: int) -> np.ndarray:
    """The last ``windows`` seeds of the train range: fresh training windows for the refit."""
    check_int("windows", windows, 1)
    start, stop = SEED_RANGES["train"]
    if windows > stop - start:
        raise ValueError(f"windows={windows} exceeds the train seed range ({stop - start})")
    return np.arange(stop - windows, stop, dtype=np.int64)


def refit_predictor(config: dict[str, Any], overrides: dict[str, Any] | None) -> ActionPredictor:
    """A freshly initialised predictor: ``config`` (a predictor's ``config``) with the refit's
    ``predictor_kwargs`` overrides; the latent and action sizes belong to the model."""
    fixed = sorted({"latent_dim", "action_dim"} & set(overrides or {}))
    if fixed:
        raise ValueError(f"refit predictor_kwargs may not set {fixed}: they follow the model")
    try:
        return create_action_predictor(**{**config, **(overrides or {})})
    except TypeError as err:
        raise ValueError(f"refit predictor_kwargs {overrides}: {err}") from err


def check_refit_kwargs(refit: Any) -> None:
    """Reject a malformed ``refit`` config (not a mapping, unknown key, bad value) up front, so
    that it fails before training rather than after it."""
    if refit is None:
        return
    if not isinstance(refit, dict):
        raise TypeError(f"refit must be a mapping or None, got {type(refit).__name__}")
    unknown = sorted(set(refit) - set(REFIT_KEYS))
    if unknown:
        raise ValueError(f"refit has unknown key(s) {unknown}: allowed {list(REFIT_KEYS)}")
    _check_arguments(**{**_DEFAULTS, **refit})


@torch.no_grad()
def encode_windows(
    module: Any, world: Any, seeds: np.ndarray, chunk: int = 64
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Latents ``(N, T, D)``, actions ``(N, T, A)`` and, for worlds that mark episode starts
    (gym clips), the real-transition mask ``(N, T - 1)`` (else None) of the world's windows
    ``seeds``, encoded by ``module.encode`` ``chunk`` windows at a time.

    The outputs are allocated once, up front: small tensors appended between the chunks' large
    temporaries would pin the heap (the CLI keeps freed memory for reuse) and grow it chunk
    after chunk.
    """
    device = next(module.parameters()).device
    n = len(seeds)
    z = a = mask = None
    for lo in range(0, n, chunk):
        batch = to_tensors(world.generate(seeds[lo : lo + chunk]))
        if "actions" not in batch:
            raise ValueError(f"world {type(world).__name__} has no actions: nothing to refit on")
        latent = module.encode(to_float_video(batch["video"], device))
        actions = batch["actions"].to(device)
        start = batch.get("state", {}).get("episode_start")
        if z is None:
            z = torch.empty((n, *latent.shape[1:]), device=device)
            a = torch.empty((n, *actions.shape[1:]), device=device)
            if start is not None:
                mask = torch.empty((n, start.shape[1] - 1), dtype=torch.bool, device=device)
        hi = lo + len(latent)
        z[lo:hi], a[lo:hi] = latent, actions
        if mask is not None:
            mask[lo:hi] = start[:, 1:] < 0.5
    return z, a, mask


def refit_action_predictor(
    module: Any,
    world: Any,
    *,
    windows: int = 20_000,
    steps: int = 10_000,
    batch_size: int = 256,
    lr: float = 1e-3,
    min_lr_ratio: float = 0.01,
    weight_decay: float = 0.01,
    holdout: int = 512,
    seed: int = 0,
    log_every: int = 1000,
    crop: int | None = None,
    rollout_steps: int | None = None,
    predictor_kwargs: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> RefitResult:
    """Re-initialise ``module.action_predictor`` and train it alone on frozen latents.

    ``module`` is an ``ActionJEPA`` (its ``encode``, ``action_predictor`` and
    ``prediction_terms``: the same teacher-forcing and roll-out losses, with the module's
    weights). ``windows`` windows of ``world`` are encoded once; the last ``holdout`` of them
    are kept out of training and scored at the end. ``steps`` AdamW updates of ``batch_size``
    windows, lr cosine from ``lr`` to ``lr * min_lr_ratio``. The encoder is not touched.
    ``crop``: train on a random ``crop``-frame stretch of each sampled window instead of the whole
    window (with ``crop = rollout_steps + 1`` every row has one roll-out start instead of
    ``T - rollout_steps``, so an update costs several times less and more windows fit in it).
    ``predictor_kwargs``: overrides of the predictor's architecture (``kind``, ``depth``,
    ``hidden``, ...). ``module.action_predictor`` is replaced by the refit predictor.
    """
    _check_arguments(
        windows=windows,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        min_lr_ratio=min_lr_ratio,
        weight_decay=weight_decay,
        holdout=holdout,
        seed=seed,
        log_every=log_every,
        crop=crop,
        rollout_steps=rollout_steps,
        predictor_kwargs=predictor_kwargs,
    )
    say = log or (lambda _: None)
    hp = module.hparams
    frames = int(world.frames)
    horizon = hp.rollout_steps if rollout_steps is None else rollout_steps
    if horizon >= frames:
        raise ValueError(
            f"rollout_steps={horizon} is out of range: allowed [0, {frames - 1}] "
            f"({frames}-frame windows)"
        )
    length = frames if crop is None else crop
    if not max(2, horizon + 1) <= length <= frames:
        raise ValueError(
            f"crop={crop} is out of range: allowed [{max(2, horizon + 1)}, {frames}] "
            f"(rollout_steps={horizon}, {frames}-frame windows)"
        )
    began = time.perf_counter()
    was_training = module.training
    module.eval()
    z, a, mask = encode_windows(module, world, refit_seeds(windows))
    encode_seconds = time.perf_counter() - began
    say(f"refit: encoded {windows} windows in {encode_seconds:.1f} s")
    span = torch.arange(length)
    old = module.action_predictor
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        predictor = refit_predictor(old.config, predictor_kwargs)
    module.action_predictor = predictor.to(next(old.parameters()).device)
    predictor.train()
    opt = torch.optim.AdamW(predictor.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: warmup_cosine(step, 0, steps, min_lr_ratio)
    )
    weights = {"pred_loss": hp.pred_weight, "rollout_loss": hp.rollout_weight}
    generator = torch.Generator(device="cpu").manual_seed(seed)

    def loss_of(rows: Tensor, cols: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        zz, aa = z[rows, cols], a[rows, cols]
        ok = None if mask is None else mask[rows, cols[:, :-1]]
        terms = module.prediction_terms(zz, zz, aa, ok, horizon)
        return sum(weights[k] * v for k, v in terms.items()), terms

    tick = time.perf_counter()
    first = last = float("nan")
    with torch.enable_grad():
        for step in range(steps):
            rows = torch.randint(windows - holdout, (batch_size, 1), generator=generator)
            start = torch.randint(frames - length + 1, (batch_size, 1), generator=generator)
            loss, _ = loss_of(rows.to(z.device), (start + span).to(z.device))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite refit loss ({loss.item()}) at update {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            last = float(loss.detach())
            first = last if step == 0 else first
            if (step + 1) % log_every == 0:
                say(f"refit: update {step + 1}/{steps} loss {last:.3g}")
    train_seconds = time.perf_counter() - tick
    predictor.eval()
    with torch.no_grad():
        held = torch.arange(windows - holdout, windows, device=z.device)[:, None]
        _, terms = loss_of(held, torch.arange(frames, device=z.device).expand(holdout, -1))
    module.train(was_training)
    heldout = {k: float(v) for k, v in terms.items()}
    say(f"refit: {steps} updates in {train_seconds:.1f} s; held-out {heldout}")
    return RefitResult(windows, steps, encode_seconds, train_seconds, first, last, heldout)


_DEFAULTS: dict[str, Any] = {
    name: parameter.default
    for name, parameter in inspect.signature(refit_action_predictor).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "log"
}
REFIT_KEYS = tuple(_DEFAULTS)  # what a recipe's `refit` may set
"""The keys a recipe's ``refit`` mapping may set."""


def _check_arguments(**kwargs: Any) -> None:
    for name, low in (("windows", 2), ("steps", 1), ("batch_size", 1), ("holdout", 1)):
        check_int(name, kwargs[name], low)
    check_int("seed", kwargs["seed"], 0)
    check_int("log_every", kwargs["log_every"], 1)
    if kwargs["crop"] is not None:
        check_int("crop", kwargs["crop"], 2)
    if kwargs["rollout_steps"] is not None:
        check_int("rollout_steps", kwargs["rollout_steps"], 0)
    for name in ("lr", "min_lr_ratio", "weight_decay"):
        value = kwargs[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ValueError(f"{name}={value!r} is out of range: allowed a number >= 0")
    check_range("min_lr_ratio", kwargs["min_lr_ratio"], 0, 1)
    extra = kwargs["predictor_kwargs"]
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"predictor_kwargs must be a mapping or None, got {type(extra).__name__}")
    if kwargs["holdout"] >= kwargs["windows"]:
        raise ValueError(f"holdout={kwargs['holdout']} must be below windows={kwargs['windows']}")

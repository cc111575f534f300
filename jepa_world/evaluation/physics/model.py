"""The model under probe, as the physics probes see it: an exported world model (or a
random-init copy), or any model of the probe protocol (:mod:`jepa_world.evaluation.adapters`).

Probes need four things from a model: the frame representation (layer-normed target-encoder
tokens: the space the predictor forecasts in), the context encoder, one training-shaped forecast
(context steps -> the rest of a window) and the autoregressive roll-out. :class:`ProbeModel` gives
them for an exported folder, a loaded :class:`~jepa_world.hub.WorldModel`, or freshly initialised
modules of the same architecture (the ``random_init`` baseline).

Clips longer than the model's training clip are encoded in consecutive windows of the training
length (the last window aligned to the clip's end), so every token is computed the way the model
saw tokens in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.evaluation.models import LoadedModel, random_init_world_model, unwrap_encoder
from jepa_world.video import to_float_video

__all__ = [
    "AdapterProbeModel",
    "ProbeModel",
    "load_probe_model",
    "random_init_like",
    "tile_windows",
]


def tile_windows(steps: int, window: int) -> list[tuple[int, int]]:
    """Cover ``steps`` time steps with windows of ``window`` steps: ``(start, first_new)`` pairs.

    Windows are consecutive; when ``steps`` is not a multiple, the last window is aligned to the
    end and only its steps from ``first_new`` on are used. A clip shorter than one window is one
    shorter window.
    """
    if steps < 1 or window < 1:
        raise ValueError(f"steps={steps} and window={window} must be >= 1")
    if steps <= window:
        return [(0, 0)]
    tiles = [(s, s) for s in range(0, steps - window + 1, window)]
    covered = tiles[-1][0] + window
    if covered < steps:
        tiles.append((steps - window, covered))
    return tiles


@dataclass
class ProbeModel:
    """Frozen encoder (target space), context encoder and predictor of one model.

    ``context_steps`` is the number of context time steps the predictor was trained with;
    ``window_steps`` (T' of the training clip) bounds every forecast window. ``objective`` is
    how it was trained (``window``: forecast the rest of a window from its first
    ``context_steps``; ``causal``: teacher forcing, every step from all of its past) and
    ``forecast_span`` the steps it learned to forecast in one call (None: unknown, the rest of
    the window after the context).
    """

    encoder: nn.Module
    context_encoder: nn.Module
    predictor: nn.Module
    config: dict[str, Any]
    context_steps: int
    name: str = "model"
    notes: dict[str, Any] = field(default_factory=dict)
    objective: str = "window"
    forecast_span: int | None = None

    def __post_init__(self) -> None:
        self.encoder = unwrap_encoder(self.encoder).eval()
        self.context_encoder = unwrap_encoder(self.context_encoder).eval()
        self.predictor = self.predictor.eval()
        self.tubelet = int(self.encoder.tubelet_size)
        self.grid_hw = (int(self.encoder.grid[1]), int(self.encoder.grid[2]))
        self.num_patches = self.grid_hw[0] * self.grid_hw[1]
        self.patch_size = int(self.encoder.patch_size)
        self.window_steps = int(self.encoder.frames) // self.tubelet
        self.size = int(self.encoder.img_size)
        self.channels = int(self.encoder.in_chans)
        if not 1 <= self.context_steps < max(2, self.window_steps):
            raise ValueError(
                f"context_steps={self.context_steps} is out of range: allowed "
                f"[1, {self.window_steps - 1}] for a model trained on {self.window_steps} steps"
            )

    @property
    def device(self) -> torch.device:
        return next(self.encoder.parameters()).device

    @property
    def frames(self) -> int:
        """Frames of the training clip."""
        return self.window_steps * self.tubelet

    # --------------------------------------------------------------------- representations
    @torch.inference_mode()
    def targets(self, video: np.ndarray | Tensor) -> Tensor:
        """Layer-normed target-encoder tokens ``(B, T', N, D)`` (float32, CPU), windowed."""
        x = to_float_video(video, self.device)
        steps = x.shape[1] // self.tubelet
        x = x[:, : steps * self.tubelet]
        parts = []
        for start, first_new in tile_windows(steps, self.window_steps):
            stop = min(steps, start + self.window_steps)
            clip = x[:, start * self.tubelet : stop * self.tubelet]
            tokens = self.encoder.forward_features(clip)
            parts.append(tokens[:, first_new - start :])
        tokens = torch.cat(parts, dim=1)
        return F.layer_norm(tokens, tokens.shape[-1:]).float().cpu()

    @torch.inference_mode()
    def window_targets(self, video: np.ndarray | Tensor, starts: list[int]) -> Tensor:
        """Layer-normed target tokens of the training-length windows starting at ``starts``.

        Returns ``(B, len(starts), W, N, D)``: each window encoded on its own, as in training.
        """
        x = to_float_video(video, self.device)
        w, tub = self.window_steps, self.tubelet
        steps = x.shape[1] // tub
        if max(starts) + w > steps or min(starts) < 0:
            raise ValueError(f"windows {starts} of {w} steps do not fit a clip of {steps} steps")
        clips = torch.stack([x[:, s * tub : (s + w) * tub] for s in starts], dim=1)
        b, k = clips.shape[:2]
        tokens = self.encoder.forward_features(clips.flatten(0, 1))
        tokens = F.layer_norm(tokens, tokens.shape[-1:])
        return tokens.view(b, k, *tokens.shape[1:]).float().cpu()

    @torch.inference_mode()
    def forecast_windows(self, windows: Tensor, context_steps: int) -> tuple[Tensor, Tensor]:
        """One training-shaped forecast per window clip ``(B, W*tubelet frames)``.

        Returns predictions ``(B, W - C, N, D)`` for the steps after the ``C`` context steps and
        the layer-normed targets ``(B, W, N, D)`` of the whole window (both float32, CPU).
        """
        x = to_float_video(windows, self.device)
        w = x.shape[1] // self.tubelet
        c = context_steps
        if not 1 <= c < w:
            raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:])
        context = self.context_encoder.forward_features(x[:, : c * self.tubelet])
        n = self.num_patches
        index = torch.arange(w * n, device=x.device)
        pred = self.predictor(
            context.flatten(1, 2), index[: c * n], index[c * n :], (w, *self.grid_hw)
        )
        b = x.shape[0]
        return pred.view(b, w - c, n, -1).float().cpu(), targets.float().cpu()

    @torch.inference_mode()
    def forecast_windows_lengths(
        self, windows: Tensor, lengths: tuple[int, ...]
    ) -> tuple[dict[int, Tensor], Tensor]:
        """:meth:`forecast_windows` for several context lengths, each window encoded once (the
        context encoder once too when its tokens do not mix time steps)."""
        x = to_float_video(windows, self.device)
        w, n, b = x.shape[1] // self.tubelet, self.num_patches, x.shape[0]
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:]).float().cpu()
        shared = None
        if not self.mixes_time:
            shared = self.context_encoder.forward_features(x[:, : max(lengths) * self.tubelet])
        index = torch.arange(w * n, device=x.device)
        preds = {}
        for c in lengths:
            if not 1 <= c < w:
                raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
            if shared is not None:
                context = shared[:, :c]
            else:
                context = self.context_encoder.forward_features(x[:, : c * self.tubelet])
            pred = self.predictor(
                context.flatten(1, 2), index[: c * n], index[c * n :], (w, *self.grid_hw)
            )
            preds[c] = pred.view(b, w - c, n, -1).float().cpu()
        return preds, targets

    @property
    def mixes_time(self) -> bool:
        """True when the encoder's tokens depend on other time steps (attention across time)."""
        return bool(getattr(self.encoder, "mixes_time", True))

    @torch.inference_mode()
    def next_step_forecasts(self, video: np.ndarray | Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced one-step forecasts of every step of ``video`` from all of its past.

        Step t is forecast from the real steps ``max(0, t - W + 1) .. t - 1`` (W: the training
        window) in one causal pass per window, as the ``causal`` objective trains at horizon 1.
        Returns forecasts ``(B, T', N, D)`` (step 0, which has no past, is NaN) and the
        layer-normed targets ``(B, T', N, D)``, float32 on the CPU. Needs an encoder whose tokens
        do not mix time steps (the context tokens of step t must not see later frames).
        """
        if self.mixes_time:
            raise ValueError(
                f"{self.name}: next-step forecasts over a growing context need an encoder whose "
                "tokens do not mix time steps; this one attends across time"
            )
        x = to_float_video(video, self.device)
        tub, w = self.tubelet, self.window_steps
        steps = x.shape[1] // tub
        x = x[:, : steps * tub]
        targets = self.encoder.forward_features(x)
        targets = F.layer_norm(targets, targets.shape[-1:])
        context = self.context_encoder.forward_features(x)
        b, _, n, d = context.shape
        out = torch.full_like(context, float("nan"))
        # window starting at s forecasts steps s+1 .. s+W-1; the first covers 1..W-1, later
        # ones add one step each
        for s in range(0, max(1, steps - w + 1)):
            length = min(w, steps - s)
            if length < 2:
                break
            index = torch.arange(length * n, device=x.device)
            pred = self.predictor(
                context[:, s : s + length - 1].flatten(1, 2),
                index[: (length - 1) * n],
                index[n:],
                (length, *self.grid_hw),
                horizon=1,
            ).view(b, length - 1, n, d)
            if s == 0:
                out[:, 1:length] = pred
            else:
                out[:, s + length - 1] = pred[:, -1]
        return out.float().cpu(), targets.float().cpu()

    @torch.inference_mode()
    def rollout(
        self,
        context_video: np.ndarray | Tensor,
        steps: int,
        window: int | None,
        chunk: int = 1,
    ) -> Tensor:
        """Encode the context frames, roll the predictor ``steps`` steps: ``(B, steps, N, D)``,
        ``chunk`` steps per predictor call (see ``Predictor.rollout``)."""
        x = to_float_video(context_video, self.device)
        context = self.context_encoder.forward_features(x)
        out = self.predictor.rollout(context, steps, self.grid_hw, window=window, chunk=chunk)
        return out.float().cpu()


class AdapterProbeModel:
    """The probes' view of any model of the probe protocol (``info`` + ``features``).

    Features are the model's tokens (or its pooled vector as one token), layer-normed as JEPA
    targets are; clips longer than ``info.clip_frames`` are encoded in windows of that length
    when the model mixes time steps (per-frame models encode any length at once). Forecasts
    come from the model's own ``predict`` when it has one (``predictor`` is then the model);
    without one ``predictor`` is None and the physics runner fits a forecaster on
    :meth:`targets` (:mod:`~jepa_world.evaluation.physics.fitted`). A predictor's forecasts use
    fixed context windows (``objective = "window"``): ``context_steps`` steps, then the rest of
    the window.
    """

    objective = "window"
    forecast_span = None
    channels = 3

    def __init__(
        self,
        model: Any,
        predictor: Any = None,
        predictor_kind: str | None = None,
        context_steps: int | None = None,
        size: int = 64,
        name: str | None = None,
    ) -> None:
        from jepa_world.evaluation.adapters.protocol import has_predictor

        info = model.info
        self.adapter, self.info = model, info
        if predictor is None and has_predictor(model):
            predictor, predictor_kind = model, "model"
        self.predictor, self.predictor_kind = predictor, predictor_kind
        self.tubelet = int(info.frames_per_step)
        self.window_steps = max(1, int(info.clip_frames) // self.tubelet)
        if self.window_steps < 2:
            raise ValueError(
                f"{info.name}: a clip of {info.clip_frames} frames gives {self.window_steps} "
                f"feature step(s) of {self.tubelet} frames; the probes need >= 2 (raise frames=)"
            )
        self.size = int(size)
        self.patch_size = 8
        self.name = name or info.name
        source = "suite" if context_steps is not None else "model info"
        if context_steps is None:
            context_steps = info.context_steps or max(1, self.window_steps // 2)
            source = "model info" if info.context_steps else "default: half the probe window"
        self.context_steps = int(context_steps)
        if not 1 <= self.context_steps < self.window_steps:
            raise ValueError(
                f"context_steps={self.context_steps} is out of range: allowed "
                f"[1, {self.window_steps - 1}] for a {self.window_steps}-step window"
            )
        self.mixes_time = bool(info.mixes_time)
        self.notes: dict[str, Any] = {"context_steps_source": source}
        self.config: dict[str, Any] = {
            "info": info.as_dict(),
            "predictor": predictor_kind or "none",
        }

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def frames(self) -> int:
        """Frames of the probe window."""
        return self.window_steps * self.tubelet

    def random_like(self, seed: int) -> AdapterProbeModel | None:
        """The untrained twin (with its own untrained predictor when the model brings one);
        None when the model has no way to build one (:attr:`random_init_note` says why)."""
        from jepa_world.evaluation.adapters.resolve import random_twin

        twin, note = random_twin(self.adapter, seed)
        self.random_init_note = note
        if twin is None:
            return None
        return AdapterProbeModel(
            twin, None, None, self.context_steps, self.size, f"random_init[{seed}]"
        )

    # --------------------------------------------------------------------- representations
    def _raw(self, video: np.ndarray | Tensor) -> Tensor:
        """The model's tokens ``(B, T', N, D)`` for one clip, shapes checked; per-frame models
        encode each distinct uint8 frame once (:meth:`_per_frame`)."""
        if (
            not self.mixes_time
            and self.tubelet == 1
            and isinstance(video, np.ndarray)
            and video.dtype == np.uint8
        ):
            return self._per_frame(video)
        return self._encode(video)

    def _per_frame(self, video: np.ndarray) -> Tensor:
        """Tokens of a per-frame model from a cache of frames already encoded (keyed by their
        bytes): the probes show the same frame many times (overlapping windows, the frames a
        quadruplet's clips share before they diverge), and a frame's features do not depend on
        its neighbours. Frames missing from the cache are encoded together, in first-seen order,
        so a run is deterministic; the cache is bounded (oldest frames dropped first)."""
        import hashlib

        b, t = video.shape[:2]
        frames = np.ascontiguousarray(video.reshape(b * t, *video.shape[2:]))
        keys = [hashlib.blake2b(f.tobytes(), digest_size=16).digest() for f in frames]
        cache = self.__dict__.setdefault("_frame_cache", {})
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        if missing:
            index = {k: i for i, k in reversed(list(enumerate(keys)))}
            batch = frames[[index[k] for k in missing]]
            for start in range(0, len(batch), 64):
                part = batch[start : start + 64]
                tokens = self._encode(part[None])[0]
                cache.update(zip(missing[start : start + 64], tokens, strict=True))
        out = torch.stack([cache[k] for k in keys]).view(b, t, *cache[keys[0]].shape)
        if missing:
            while len(cache) > self._cache_frames(tokens):
                cache.pop(next(iter(cache)))
        return out

    @staticmethod
    def _cache_frames(tokens: Tensor, budget_bytes: int = 64 * 2**20) -> int:
        """How many frames' tokens fit the cache's memory budget (at least 2048)."""
        per_frame = tokens[0].numel() * tokens.element_size()
        return max(2048, budget_bytes // max(1, per_frame))

    def _encode(self, video: np.ndarray | Tensor) -> Tensor:
        """One call of the model's ``features`` on a clip: tokens ``(B, T', N, D)``."""
        from jepa_world.evaluation.adapters.protocol import check_features

        x = video if isinstance(video, Tensor) else torch.from_numpy(np.ascontiguousarray(video))
        steps = x.shape[1] // self.tubelet
        x = x[:, : steps * self.tubelet]
        short = self.info.clip_frames - x.shape[1]
        if self.info.fixed_clip and short > 0:  # pad with the last frame: no later frame leaks
            x = torch.cat([x, x[:, -1:].expand(-1, short, *x.shape[2:])], dim=1)
        full = x.shape[1] // self.tubelet
        features = check_features(self.adapter.features(x), x.shape[0], full, self.name)
        return features.as_tokens()[:, :steps].float().cpu()

    def _tokens(self, video: np.ndarray | Tensor) -> Tensor:
        """Raw tokens of a whole clip: windows of the probe window when the model mixes time."""
        steps = video.shape[1] // self.tubelet
        if not self.mixes_time or steps <= self.window_steps:
            return self._raw(video)
        parts = []
        for start, first_new in tile_windows(steps, self.window_steps):
            stop = min(steps, start + self.window_steps)
            tokens = self._raw(video[:, start * self.tubelet : stop * self.tubelet])
            parts.append(tokens[:, first_new - start :])
        return torch.cat(parts, dim=1)

    @staticmethod
    def _norm(tokens: Tensor) -> Tensor:
        return F.layer_norm(tokens, tokens.shape[-1:])

    @torch.inference_mode()
    def targets(self, video: np.ndarray | Tensor) -> Tensor:
        """Layer-normed tokens ``(B, T', N, D)`` (float32, CPU)."""
        return self._norm(self._tokens(video))

    @torch.inference_mode()
    def window_targets(self, video: np.ndarray | Tensor, starts: list[int]) -> Tensor:
        """Layer-normed tokens of the probe windows starting at ``starts``:
        ``(B, len(starts), W, N, D)`` (one pass per window when the model mixes time)."""
        w, tub = self.window_steps, self.tubelet
        steps = video.shape[1] // tub
        if max(starts) + w > steps or min(starts) < 0:
            raise ValueError(f"windows {starts} of {w} steps do not fit a clip of {steps} steps")
        if not self.mixes_time:
            tokens = self.targets(video)
            return torch.stack([tokens[:, s : s + w] for s in starts], dim=1)
        return torch.stack(
            [self._norm(self._raw(video[:, s * tub : (s + w) * tub])) for s in starts], dim=1
        )

    def _predictor(self) -> Any:
        if self.predictor is None:
            raise ValueError(
                f"{self.name}: no predictor and no fitted forecaster: roll-out and VoE need one"
            )
        return self.predictor

    def _check_forecast(self, pred: Any, batch: int, steps: int, like: Tensor) -> Tensor:
        want = (batch, steps, *like.shape[2:])
        if not isinstance(pred, Tensor) or tuple(pred.shape) != want:
            shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
            raise ValueError(f"{self.name}: predict() gave shape {shape}, expected {want}")
        return pred.float().cpu()

    @torch.inference_mode()
    def forecast_windows(self, windows: np.ndarray | Tensor, context_steps: int):
        """Forecast the last ``W - C`` steps of each window from its first ``C`` (the context
        encoded on its own when the model mixes time). Returns predictions ``(B, W - C, N, D)``
        and the layer-normed tokens ``(B, W, N, D)`` of the whole window."""
        tub, c = self.tubelet, context_steps
        raw = self._raw(windows)
        w = raw.shape[1]
        if not 1 <= c < w:
            raise ValueError(f"context_steps={c} is out of range: allowed [1, {w - 1}]")
        context = self._raw(windows[:, : c * tub]) if self.mixes_time else raw[:, :c]
        pred = self._predictor().predict(context, w - c)
        return self._check_forecast(pred, raw.shape[0], w - c, raw), self._norm(raw)

    def next_step_forecasts(self, video: np.ndarray | Tensor):
        raise ValueError(
            f"{self.name}: forecasts over a growing context need a causal jepa-world predictor; "
            "use probes.voe.context: fixed (or auto)"
        )

    @torch.inference_mode()
    def rollout(
        self,
        context_video: np.ndarray | Tensor,
        steps: int,
        window: int | None = None,
        chunk: int = 1,
    ) -> Tensor:
        """Forecast ``steps`` steps after the context clip ``(B, steps, N, D)``; the predictor
        decides how (``window`` / ``chunk`` are the jepa-world predictor's and are not used)."""
        context = self._tokens(context_video)
        pred = self._predictor().predict(context, steps)
        return self._check_forecast(pred, context.shape[0], steps, context)


def _metadata(config: dict[str, Any]) -> dict[str, Any]:
    meta = config.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _objective_from(config: dict[str, Any]) -> tuple[str, int | None]:
    """Training objective and forecast span recorded in the export (older exports: window)."""
    meta = _metadata(config)
    objective = meta.get("objective", "window")
    span = meta.get("forecast_span")
    if objective not in ("window", "causal"):
        raise ValueError(f"config.json metadata.objective={objective!r} is not window or causal")
    if span is not None and (isinstance(span, bool) or not isinstance(span, int) or span < 1):
        raise ValueError(f"config.json metadata.forecast_span={span!r} must be an int >= 1")
    return objective, span


def _context_steps_from(config: dict[str, Any], window_steps: int) -> tuple[int, str]:
    """Training context length recorded in the export, else half the training window."""
    meta = _metadata(config)
    for source in (meta, meta.get("hparams") or {}, config):
        value = source.get("context_steps") if isinstance(source, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value, "config.json metadata"
    return max(1, window_steps // 2), "default: half the training window (not in config.json)"


def load_probe_model(
    model: Any, context_steps: int | None = None
) -> ProbeModel | AdapterProbeModel:
    """The probes' view of a model: a :class:`ProbeModel` for a jepa-world export with a video
    predictor (an export folder, a ``hub.WorldModel`` or its ``ExportAdapter``: its predictor is
    called the way it was trained), else an :class:`AdapterProbeModel` over the probe protocol
    (model strings such as ``timm:resnet18`` are resolved by
    :func:`~jepa_world.evaluation.adapters.load_adapter`)."""
    if isinstance(model, (ProbeModel, AdapterProbeModel)):
        return model
    from jepa_world.evaluation.adapters import load_adapter
    from jepa_world.evaluation.adapters.export import ExportAdapter

    adapter = load_adapter(model)
    if not isinstance(adapter, ExportAdapter) or not adapter.has_predictor:
        return AdapterProbeModel(adapter, context_steps=context_steps)
    return _export_probe_model(adapter, context_steps)


def _export_probe_model(adapter: Any, context_steps: int | None) -> ProbeModel:
    """The native view of an export with a video predictor (its config.json as the config)."""
    loaded = LoadedModel(adapter.world_model, adapter.config, adapter.info.name)
    world_model = loaded.model
    encoder = unwrap_encoder(world_model.encoder)
    window = int(encoder.frames) // int(encoder.tubelet_size)
    if context_steps is None:
        context_steps, source = _context_steps_from(loaded.config, window)
    else:
        source = "suite"
    objective, span = _objective_from(loaded.config)
    return ProbeModel(
        encoder=world_model.encoder,
        context_encoder=getattr(world_model, "context_encoder", None) or world_model.encoder,
        predictor=world_model.predictor,
        config=loaded.config,
        context_steps=context_steps,
        name=loaded.name,
        notes={"context_steps_source": source},
        objective=objective,
        forecast_span=span,
    )


def random_init_like(
    model: ProbeModel | AdapterProbeModel, seed: int
) -> ProbeModel | AdapterProbeModel | None:
    """Same architecture, fresh weights from ``torch.manual_seed(seed)`` (see
    :func:`~jepa_world.evaluation.models.random_init_world_model`); one random encoder plays both
    target and context encoder. A protocol model's twin comes from its adapter (None when it
    has none; :attr:`AdapterProbeModel.random_init_note` says why)."""
    if isinstance(model, AdapterProbeModel):
        return model.random_like(seed)
    twin = random_init_world_model(model, seed, "predictor", device=model.device)
    encoder = unwrap_encoder(twin.encoder)
    return ProbeModel(
        encoder=encoder,
        context_encoder=encoder,
        predictor=twin.predictor,
        config={"encoder": encoder.config, "predictor": twin.predictor.config, "seed": seed},
        context_steps=model.context_steps,
        name=f"random_init[{seed}]",
        objective=model.objective,
        forecast_span=model.forecast_span,
    )

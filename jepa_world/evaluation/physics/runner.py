"""``run``: run a physics suite's probes on a model and every baseline, and build the report.

Order of work: the suite is parsed first (by ``load_suite``: malformed suites fail there), then
the model is loaded, every world the suite names is built (bad world parameters fail here), and
only then are clips generated and models run.
Each probe's clips are generated once and shared by the model and all baselines.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from jepa_world.evaluation.metrics import wilson_interval
from jepa_world.evaluation.physics.baselines import aggregate_seeds, pixel_tokens
from jepa_world.evaluation.physics.clips import make_ball_clips
from jepa_world.evaluation.physics.fitted import (
    FittedModel,
    fit_for_model,
    forecaster_clips,
    has_predictor,
)
from jepa_world.evaluation.physics.identity import IDENTITY_PROTOCOL, measure_identity
from jepa_world.evaluation.physics.model import ProbeModel, load_probe_model, random_init_like
from jepa_world.evaluation.physics.report import PhysicsReport
from jepa_world.evaluation.physics.rollout import (
    rollout_baselines,
    rollout_steps,
    run_rollout_probe,
)
from jepa_world.evaluation.physics.spec import PhysicsSpec
from jepa_world.evaluation.physics.state import mean_state_baseline, run_state_probe
from jepa_world.evaluation.physics.voe import (
    SurpriseSettings,
    SurpriseTrace,
    abs_threshold,
    field_metrics,
    filtered_trace,
    length_surprise,
    model_surprise,
    pair_metrics,
    pixel_surprise,
    quad_metrics,
)
from jepa_world.evaluation.report import Log, quiet

__all__ = ["run"]


class _Run:
    """State of one suite run: the model, its random-init twins, metrics and curves."""

    def __init__(self, model: ProbeModel, suite: PhysicsSpec, log: Log) -> None:
        self.model, self.suite, self.log = model, suite, log
        twins = [random_init_like(model, s) for s in suite.baselines.random_init_seeds]
        self.randoms = [t for t in twins if t is not None]
        self.metrics: dict[str, float] = {}
        self.random_runs: list[dict[str, float]] = [{} for _ in self.randoms]
        self.curves: dict[str, Any] = {}
        self.protocol: dict[str, Any] = {}
        self.timing: dict[str, float] = {}
        self.notes: dict[str, Any] = {}
        if len(self.randoms) < len(twins):
            self.notes["random_init"] = getattr(model, "random_init_note", "no random-init twin")
        self._fitted: dict[int, FittedModel] = {}
        self._fit_video: np.ndarray | None = None

    # ------------------------------------------------------------------ forecasters
    @property
    def fits_beside(self) -> bool:
        """Fit a forecaster beside the model's own predictor (the ``*_fitted`` keys)."""
        budget = self.suite.forecaster
        return has_predictor(self.model) and budget is not None and budget.beside_predictor

    def fitted(self, model: ProbeModel) -> FittedModel:
        """``model`` with a forecaster fitted on its features (fitted once per model, cached)."""
        key = id(model)
        if key not in self._fitted:
            budget = self.suite.forecaster
            if budget is None:
                raise ValueError(
                    f"{model.name} has no predictor: the suite needs a forecaster section for "
                    "its roll-out and VoE probes"
                )
            if self._fit_video is None:
                t0 = time.perf_counter()
                frames = budget.frames or self.model.frames
                self._fit_video = forecaster_clips(budget, frames, self.model.size)
                self.timing["forecaster/data_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            fitted = fit_for_model(model, self._fit_video, budget, self.suite.batch_size)
            self.timing["forecaster/fit_s"] = self.timing.get("forecaster/fit_s", 0.0) + (
                time.perf_counter() - t0
            )
            self.notes.setdefault("forecaster_final_loss", {})[model.name] = (
                fitted.history[-1] if fitted.history else None
            )
            self._fitted[key] = FittedModel(model, fitted)
        return self._fitted[key]

    def forecasting(self, model: ProbeModel) -> Any:
        """What makes ``model``'s forecasts: its own predictor, else a fitted forecaster."""
        return model if has_predictor(model) else self.fitted(model)

    def forecast_groups(self) -> list[tuple[str, Any, list[Any]]]:
        """``(key prefix suffix, forecasting model, forecasting random-init twins)``: the model's
        own forecasts (or the fitted forecaster's when it has no predictor) under the plain
        prefix, and the fitted forecaster beside a predictor under ``_fitted``."""
        groups = [("", self.forecasting(self.model), [self.forecasting(r) for r in self.randoms])]
        if self.fits_beside:  # the model only: its random-init twins keep their predictors
            groups.append(("_fitted", self.fitted(self.model), []))
        return groups

    def forecaster_protocol(self) -> None:
        budget = self.suite.forecaster
        if budget is None or not self._fitted:
            return
        self.protocol["forecaster"] = {
            **budget.describe(),
            "frames": budget.frames or self.model.frames,
            "fitted_for": "the model (it has no predictor) and each random-init twin"
            if not has_predictor(self.model)
            else "beside the model's predictor, for the model only (keys rollout_fitted/..., "
            "voe_fitted/...); its random-init twins keep their own predictors",
        }

    def put(self, prefix: str, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            self.metrics[f"{prefix}/{key}"] = float(value)

    # ------------------------------------------------------------------ preflight
    def world_params(self, key: str, params: dict[str, Any], forbidden: tuple[str, ...]):
        for name in forbidden:
            if name in params:
                raise ValueError(f"{key}.world_params.{name} is set by the probe; remove it")
        if "size" in params and params["size"] != self.model.size:
            raise ValueError(
                f"{key}.world_params.size={params['size']} differs from the model's input size "
                f"{self.model.size}"
            )
        return {**params, "size": self.model.size}

    def preflight(self) -> dict[str, dict[str, Any]]:
        """Build every world once (cheap) so bad parameters fail before any work."""
        from jepa_world.worlds import create_world

        suite, model = self.suite, self.model
        if model.channels != 3:
            raise ValueError(f"the physics suite needs an RGB model, got in_chans={model.channels}")
        worlds: dict[str, dict[str, Any]] = {}
        if suite.state is not None:
            params = self.world_params("probes.state", suite.state.world_params, ("frames",))
            params["frames"] = suite.state.frames or model.frames
            worlds["state"] = self._try_world("probes.state", "physics2d", params, create_world)
        if suite.rollout is not None:
            spec = suite.rollout
            c = spec.context_steps or model.context_steps
            params = self.world_params("probes.rollout", spec.world_params, ("frames",))
            if not 1 <= c < model.window_steps:
                raise ValueError(
                    f"probes.rollout.context_steps={c} is out of range: allowed "
                    f"[1, {model.window_steps - 1}] for a model trained on "
                    f"{model.window_steps} steps"
                )
            steps = 0
            for fitted in self.rollout_kinds():
                window, chunk = self.rollout_shape(fitted)
                steps = max(
                    steps, rollout_steps(model.window_steps, spec.horizons, c, window, chunk)
                )
                if not fitted and window + chunk > model.window_steps:
                    if not (spec.window or spec.chunk):
                        raise ValueError(_export_too_short(model, window, chunk))
                    raise ValueError(
                        f"probes.rollout.window={window} + chunk={chunk} must fit the model's "
                        f"{model.window_steps}-step training window (each forecast is compared "
                        "with the target of the window it was made for)"
                    )
            params["frames"] = steps * model.tubelet
            worlds["rollout"] = self._try_world("probes.rollout", "physics2d", params, create_world)
        if suite.voe is not None:
            params = self.world_params("probes.voe", suite.voe.world_params, ())
            worlds["voe"] = self._try_world("probes.voe", "intuitive", params, create_world)
            world = worlds["voe"]["world"]
            steps = int(world.frames) // model.tubelet
            c = suite.voe.context_steps or model.context_steps
            window = min(model.window_steps, steps)
            if not 1 <= c < window:
                raise ValueError(
                    f"probes.voe.context_steps={c} is out of range: allowed [1, {window - 1}] "
                    f"(clips of {steps} steps, model window {model.window_steps})"
                )
            mode = _voe_context(suite.voe, model)
            if mode == "growing" and model.mixes_time:
                raise ValueError(
                    "probes.voe.context='growing' needs an encoder whose tokens do not mix time "
                    f"steps; {model.name}'s encoder attends across time (use context: fixed)"
                )
            if mode == "growing" and suite.voe.horizons not in (None, (1,)):
                raise ValueError(
                    f"probes.voe.horizons={list(suite.voe.horizons)}: a growing context "
                    "forecasts one step ahead (horizons: [1] or null)"
                )
            if suite.voe.horizons and max(suite.voe.horizons) > window - c:
                raise ValueError(
                    f"probes.voe.horizons={list(suite.voe.horizons)} exceed the {window - c} "
                    "steps one window forecasts"
                )
            wanted = suite.voe.context_lengths or tuple(range(1, window))
            self.context_lengths = tuple(n for n in wanted if 1 <= n < window)
            if not self.context_lengths:
                raise ValueError(
                    f"probes.voe.context_lengths={list(wanted)}: none fits a window of {window} "
                    f"steps (allowed 1..{window - 1})"
                )
        if suite.forecaster is not None and (self.fits_beside or not has_predictor(model)):
            budget = suite.forecaster
            frames = budget.frames or model.frames
            if frames // model.tubelet < 2:
                raise ValueError(
                    f"forecaster.frames={frames} gives fewer than 2 time steps of "
                    f"{model.tubelet} frames"
                )
            from jepa_world.worlds import create_world as create

            try:
                create(
                    budget.world, **{**budget.world_params, "frames": frames, "size": model.size}
                )
            except (TypeError, ValueError) as err:
                raise ValueError(f"forecaster.world_params: {err}") from err
        elif not has_predictor(model) and (suite.rollout is not None or suite.voe is not None):
            raise ValueError(
                f"{model.name} has no predictor: the suite needs a forecaster section for its "
                "roll-out and VoE probes"
            )
        return worlds

    def rollout_kinds(self) -> list[bool]:
        """Which roll-outs run: ``False`` the model's own predictor, ``True`` a fitted forecaster
        (instead of a missing predictor, or beside it)."""
        if not has_predictor(self.model):
            return [True]
        return [False, True] if self.fits_beside else [False]

    def rollout_shape(self, fitted: bool) -> tuple[int, int]:
        """``(window, chunk)`` of a roll-out: the predictor's (see :func:`_rollout_window`), or
        one step per forecast for a fitted forecaster, scored at a horizon-1 target's place."""
        spec, model = self.suite.rollout, self.model
        if fitted:
            return spec.context_steps or model.context_steps, 1
        return _rollout_window(spec, model), _rollout_chunk(spec, model)

    @staticmethod
    def _try_world(key: str, name: str, params: dict[str, Any], create) -> dict[str, Any]:
        if name == "physics2d" and list(params.get("num_balls", [1, 1])) != [1, 1]:
            raise ValueError(f"{key}.world_params.num_balls must be [1, 1] (one ball)")
        try:
            world = create(name, **params)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{key}.world_params: {err}") from err
        return {"world": world, "params": params}

    # ------------------------------------------------------------------ probes
    def run_state(self, worlds: dict[str, dict[str, Any]]) -> None:
        spec, model, suite = self.suite.state, self.model, self.suite
        params = dict(worlds["state"]["params"])
        frames, size = params.pop("frames"), params.pop("size")
        t0 = time.perf_counter()
        splits = {
            s: make_ball_clips(params, frames, size, getattr(spec, s).seeds())
            for s in ("train", "val", "test")
        }
        self.timing["state/data_s"] = time.perf_counter() - t0
        boot = {"resamples": suite.bootstrap_resamples, "seed": suite.bootstrap_seed}
        t0 = time.perf_counter()
        self.state_result = run_state_probe(
            model.targets, splits, model.tubelet, suite.batch_size, **boot
        )
        self.timing["state/model_s"] = time.perf_counter() - t0
        self.put("state", self.state_result.metrics)
        self.notes["state"] = self.state_result.notes
        t0 = time.perf_counter()
        size_px = suite.baselines.pixel_size

        def pixels(video: np.ndarray):
            return pixel_tokens(video, size_px, model.tubelet)

        pixel = run_state_probe(pixels, splits, model.tubelet, suite.batch_size, **boot)
        self.put("baselines/pixels/state", pixel.metrics)
        self.put("baselines/mean/state", mean_state_baseline(splits, model.tubelet, **boot))
        self.timing["state/pixels_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.random_state = []
        for run, rnd in zip(self.random_runs, self.randoms, strict=True):
            result = run_state_probe(rnd.targets, splits, model.tubelet, suite.batch_size, **boot)
            self.random_state.append(result)
            run.update({f"state/{k}": v for k, v in result.metrics.items()})
        self.timing["state/random_init_s"] = time.perf_counter() - t0
        self.protocol["state"] = {
            "world": "physics2d",
            "world_params": {**params, "frames": frames, "size": size, "num_balls": [1, 1]},
            "seeds": {s: _range(getattr(spec, s)) for s in ("train", "val", "test")},
            "clips": {s: getattr(spec, s).count for s in ("train", "val", "test")},
            "features": "layer-normed target-encoder tokens (windows of the training clip)",
            "labels": "per time step: position/visible = mean over the tubelet's frames; "
            "velocity = mean velocity of frames 1.. of the tubelet (the motion it shows)",
            "readout": "ridge on standardised features, alpha per output chosen on val "
            "(grid relative to the mean Gram eigenvalue: 1e-6..1e3)",
            "pixels": f"area-downsampled to {size_px}x{size_px}, tubelet frames as channels",
            "intervals": "95% percentile bootstrap over test clips",
        }

    def run_rollout(self, worlds: dict[str, dict[str, Any]]) -> None:
        spec, model, suite = self.suite.rollout, self.model, self.suite
        params = dict(worlds["rollout"]["params"])
        frames, size = params.pop("frames"), params.pop("size")
        c = spec.context_steps or model.context_steps
        t0 = time.perf_counter()
        clips = make_ball_clips(params, frames, size, spec.test.seeds())
        self.timing["rollout/data_s"] = time.perf_counter() - t0
        boot = {"resamples": suite.bootstrap_resamples, "seed": suite.bootstrap_seed}
        state = self.state_result
        shapes = {}
        for (suffix, forecaster, randoms), fitted in zip(
            self.forecast_groups(), self.rollout_kinds(), strict=True
        ):
            prefix = f"rollout{suffix}"
            window, chunk = self.rollout_shape(fitted)
            shapes[prefix] = {"window": window, "chunk": chunk}
            common = {
                "horizons": spec.horizons,
                "window": window,
                "chunk": chunk,
                "batch_size": suite.batch_size,
            }
            t0 = time.perf_counter()
            result = run_rollout_probe(
                forecaster, clips, state.position_readout, state.token_mean, c, **common, **boot
            )
            self.timing[f"{prefix}/model_s"] = time.perf_counter() - t0
            m = result.metrics
            self.put(prefix, {k: v for k, v in m.items() if "/" not in k})
            t0 = time.perf_counter()
            random_curves = []
            n = len(randoms)
            pairs = zip(self.random_runs[:n], randoms, self.random_state[:n], strict=True)
            for run, rnd, rs in pairs:
                r = run_rollout_probe(
                    rnd, clips, rs.position_readout, rs.token_mean, c, **common, **boot
                )
                run.update({f"{prefix}/{k}": v for k, v in r.metrics.items() if "/" not in k})
                random_curves.append(r.per_clip["position_px"].mean(0).tolist())
            if randoms:
                self.timing[f"{prefix}/random_init_s"] = time.perf_counter() - t0
            if suffix:
                self.curves[prefix] = {
                    "horizons": list(spec.horizons),
                    "position_px": {
                        "model": result.per_clip["position_px"].mean(0).tolist(),
                        "random_init": random_curves,
                    },
                    "latent_err": {"model": result.per_clip["latent_err"].mean(0).tolist()},
                }
                continue
            self.put("baselines/copy_last/rollout", _strip(m, "copy_last/"))
            self.put("baselines/mean/rollout", _strip(m, "mean/"))
            position_mean = state.position_readout.bias.numpy()
            base = rollout_baselines(clips, model.tubelet, c, position_mean, spec.horizons, **boot)
            for name in ("copy_last", "constant_velocity", "mean"):
                self.put(f"baselines/{name}/rollout", _strip(base.metrics, f"{name}/"))
            self.curves["rollout"] = {
                "horizons": list(spec.horizons),
                "position_px": {
                    "model": result.per_clip["position_px"].mean(0).tolist(),
                    "copy_last": base.per_clip["copy_last/position_px"].mean(0).tolist(),
                    "constant_velocity": base.per_clip["constant_velocity/position_px"]
                    .mean(0)
                    .tolist(),
                    "mean": base.per_clip["mean/position_px"].mean(0).tolist(),
                    "random_init": random_curves,
                },
                "latent_err": {
                    "model": result.per_clip["latent_err"].mean(0).tolist(),
                    "copy_last": result.per_clip["copy_last/latent_err"].mean(0).tolist(),
                    "mean": result.per_clip["mean/latent_err"].mean(0).tolist(),
                },
            }
        main = shapes["rollout"]
        self.protocol["rollout"] = {
            "world": "physics2d",
            "world_params": {**params, "frames": frames, "size": size, "num_balls": [1, 1]},
            "seeds": _range(spec.test),
            "clips": spec.test.count,
            "context_steps": c,
            "context_frames": c * model.tubelet,
            "horizons_steps": list(spec.horizons),
            "frames_per_step": model.tubelet,
            "window": main["window"],
            "chunk": main["chunk"],
            "forecasts": "the model's predictor"
            if has_predictor(model)
            else "a forecaster fitted on the model's frozen features (protocol.forecaster)",
            "frame_probe": "the state probe's per-patch position read-out",
            "latent_err": "mean |forecast - true layer-normed target tokens| over tokens, dims",
            "true_future": "target tokens of step t at the window position the forecast of t was "
            "made for, in the training-length window of real frames that puts t there (chunk 1: "
            "position C, a horizon-1 training target)",
            "intervals": "95% percentile bootstrap over test clips",
        }
        if "rollout_fitted" in shapes:
            self.protocol["rollout"]["fitted"] = {
                **shapes["rollout_fitted"],
                "forecasts": "a forecaster fitted on the model's frozen features "
                "(protocol.forecaster), one step per forecast, fed back",
            }

    def run_voe(self, worlds: dict[str, dict[str, Any]]) -> None:
        spec, model, suite = self.suite.voe, self.model, self.suite
        world = worlds["voe"]["world"]
        c = spec.context_steps or model.context_steps
        boot = {"resamples": suite.bootstrap_resamples, "seed": suite.bootstrap_seed}
        first_frame = c * model.tubelet
        groups = self.forecast_groups()
        scorer = _Scorer(spec, c, self.context_lengths, suite.batch_size, model)
        settings = {}
        outcomes: dict[str, dict[str, list[np.ndarray]]] = {}
        random_outcomes: dict[str, list[dict[str, list[np.ndarray]]]] = {}
        for suffix, forecaster, randoms in groups:
            settings[suffix] = scorer.settings(_voe_context(spec, forecaster))
            outcomes[suffix] = {}
            random_outcomes[suffix] = [{} for _ in randoms]
        examples: dict[str, Any] = {}
        thresholds: dict[str, dict[str, list[float]]] = {}
        data_s = 0.0
        spent: dict[str, float] = {}
        for prop in spec.properties:
            t0 = time.perf_counter()
            data = world.quadruplets(prop, spec.property_range(prop).seeds())
            calib = None
            if spec.calibration is not None:
                cal = world.quadruplets(prop, spec.calibration_range(prop).seeds())
                keep = np.asarray(cal["possible"], dtype=bool)
                calib = cal["video"][:, keep].reshape(-1, *cal["video"].shape[2:])
            data_s += time.perf_counter() - t0
            video, possible = data["video"], np.asarray(data["possible"], dtype=bool)
            q, four = video.shape[:2]
            flat = video.reshape(q * four, *video.shape[2:])
            pixels = scorer.pixels(flat, calib)
            for suffix, forecaster, randoms in groups:
                prefix = f"voe{suffix}"
                t0 = time.perf_counter()
                traces = scorer.model(forecaster, flat, calib, settings[suffix])
                spent[f"{prefix}/model_s"] = spent.get(f"{prefix}/model_s", 0.0) + (
                    time.perf_counter() - t0
                )
                named = {"model": traces["model"]}
                if not suffix:
                    named.update(copy_last=traces["copy_last"], pixels=pixels)
                for name, tr in named.items():
                    metrics, outs = scorer.metrics(tr, q, four, possible, settings[suffix], boot)
                    where = prefix if name == "model" else f"baselines/{name}/{prefix}"
                    self.put(f"{where}/{prop}", metrics)
                    for key, out in outs.items():
                        outcomes[suffix].setdefault(f"{name}:{key}", []).append(out)
                    if "threshold" in tr:
                        thresholds.setdefault(f"{where}", {}).setdefault(prop, tr["threshold"])
                t0 = time.perf_counter()
                for i, rnd in enumerate(randoms):
                    rt = scorer.model(rnd, flat, calib, settings[suffix], copy=False)["model"]
                    metrics, outs = scorer.metrics(rt, q, four, possible, settings[suffix], boot)
                    self.random_runs[i].update(
                        {f"{prefix}/{prop}/{k}": v for k, v in metrics.items()}
                    )
                    for key, out in outs.items():
                        random_outcomes[suffix][i].setdefault(key, []).append(out)
                if randoms:
                    key = f"{prefix}/random_init_s"
                    spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0
                if not suffix:
                    tr = traces["model"]["plain"]
                    examples[prop] = _example(tr, pixels["plain"], data, q, four, model.tubelet)
        for suffix, _, _ in groups:
            prefix = f"voe{suffix}"
            names = ("model",) if suffix else ("model", "copy_last", "pixels")
            for name in names:
                where = prefix if name == "model" else f"baselines/{name}/{prefix}"
                pooled = {
                    key.split(":", 1)[1]: outs
                    for key, outs in outcomes[suffix].items()
                    if key.startswith(f"{name}:")
                }
                self.put(where, _mean_over_properties(self.metrics, where, spec.properties, pooled))
            n = len(random_outcomes[suffix])
            for run, outs in zip(self.random_runs[:n], random_outcomes[suffix], strict=True):
                means = _mean_over_properties(run, prefix, spec.properties, outs)
                run.update(
                    {
                        f"{prefix}/{k}": v
                        for k, v in means.items()
                        if not k.endswith("_ci_low") and not k.endswith("_ci_high")
                    }
                )
        if spec.open_view is not None:
            t0 = time.perf_counter()
            self._open_view(world, settings[""], first_frame, groups[0])
            self.timing["voe/open_view_s"] = time.perf_counter() - t0
        self.timing.update({"voe/data_s": data_s, **spent})
        self.curves["voe_example"] = examples
        main = settings[""]
        clip_steps = int(world.frames) // model.tubelet
        window = min(model.window_steps, clip_steps)
        self.protocol["voe"] = {
            "world": "intuitive",
            "world_params": dict(worlds["voe"]["params"]),
            "properties": list(spec.properties),
            "quadruplets_per_property": spec.quadruplets.count,
            "seeds": {p: _range(spec.property_range(p)) for p in spec.properties},
            "forecasts": "the model's predictor"
            if has_predictor(model)
            else "a forecaster fitted on the model's frozen features (protocol.forecaster)",
            "context": main.context,
            "context_steps": c,
            "context_frames": first_frame,
            "window_steps": window,
            "stride_steps": spec.stride or window - c,
            "horizons": list(spec.horizons) if spec.horizons else "all",
            "token_reduction": spec.token_reduction,
            "topk": spec.topk if spec.token_reduction == "topk" else None,
            "clip_score": f"{spec.clip_score} of per-step surprise over forecast steps (additive)",
            "auroc_score": spec.auroc_score,
            "relative_acc": "quadruplet correct when S(C)+S(D) > S(A)+S(B), ties 0.5; "
            "95% Wilson interval",
            "auroc": "over all clips of a property (impossible = positive); 95% bootstrap over "
            "quadruplets",
            "pixel_novelty": "sum |x_f - x_(f-1)| per frame from frame "
            f"{first_frame} on (exact integers)",
            "filtered": {
                "clip_frames": int(world.frames),
                "clip_steps": clip_steps,
                "window_steps": window,
                "context_lengths_steps": list(self.context_lengths),
                "context_lengths_frames": [n * model.tubelet for n in self.context_lengths],
                "context_lengths_asked": list(spec.context_lengths)
                if spec.context_lengths
                else "every length the window allows",
                "rule": "per step, the minimum over the context lengths of fixed-window surprise "
                "(the first C steps of each training-length window as context, the rest "
                "forecast; stride window - C) over the lengths that forecast the step; "
                "relative_acc_filtered sums it (additive), auroc_filtered scores it with "
                "auroc_score; pixel novelty from frame C * tubelet per length",
            },
        }
        if spec.calibration is not None:
            self.protocol["voe"]["abs_acc"] = {
                "rule": "a clip is flagged impossible when its max per-step surprise exceeds the "
                f"threshold: the {spec.abs_percentile:g}th percentile (linear interpolation) of "
                "the max per-step surprise of the possible clips (A, B) of the property's "
                "calibration quadruplets; abs_acc on the plain trace, abs_acc_filtered on the "
                "filtered one (its own threshold); chance 0.5; 95% bootstrap over quadruplets",
                "calibration_quadruplets_per_property": spec.calibration.count,
                "calibration_clips_per_property": 2 * spec.calibration.count,
                "seeds": {p: _range(spec.calibration_range(p)) for p in spec.properties},
                "percentile": spec.abs_percentile,
            }
            self.notes["voe_abs_thresholds"] = thresholds
        if len(groups) > 1:
            self.protocol["voe"]["fitted"] = {
                "context": settings["_fitted"].context,
                "forecasts": "a forecaster fitted on the model's frozen features "
                "(protocol.forecaster); pixel and copy-last baselines as under voe/",
            }
        if spec.open_view is not None:
            self.protocol["voe"]["open_view"] = {
                "kinds": list(spec.open_view_kinds),
                "pairs_per_kind": spec.open_view.count,
                "seeds": {k: _range(spec.open_view_range(k)) for k in spec.open_view_kinds},
                "pairwise_acc": "impossible clip's clip score > its twin's, ties 0.5; Wilson",
            }

    def _open_view(
        self, world: Any, settings: SurpriseSettings, first_frame: int, group: tuple
    ) -> None:
        spec, model = self.suite.voe, self.model
        _, forecaster, randoms = group
        pooled: dict[str, list[np.ndarray]] = {"model": [], "pixels": [], "copy_last": []}
        random_pooled: list[list[np.ndarray]] = [[] for _ in randoms]
        for kind in spec.open_view_kinds:
            data = world.open_view_pairs(kind, spec.open_view_range(kind).seeds())
            video = data["video"]
            q, two = video.shape[:2]
            flat = video.reshape(q * two, *video.shape[2:])
            trace, copy = model_surprise(forecaster, flat, settings, self.suite.batch_size)
            pix = pixel_surprise(
                flat, first_frame, spec.token_reduction, spec.topk, model.patch_size
            )
            for name, tr in (("model", trace), ("copy_last", copy), ("pixels", pix)):
                out = pair_metrics(_shape(tr, q, two))
                prefix = "voe" if name == "model" else f"baselines/{name}/voe"
                self.put(f"{prefix}/open_view/{kind}", _pairwise(out))
                pooled[name].append(out)
            for i, rnd in enumerate(randoms):
                rt, _ = model_surprise(rnd, flat, settings, self.suite.batch_size)
                out = pair_metrics(_shape(rt, q, two))
                random_pooled[i].append(out)
                self.random_runs[i][f"voe/open_view/{kind}/pairwise_acc"] = float(out.mean())
        for name, outs in pooled.items():
            prefix = "voe" if name == "model" else f"baselines/{name}/voe"
            self.put(f"{prefix}/open_view", _pairwise(np.concatenate(outs)))
        for i, outs in enumerate(random_pooled):
            self.random_runs[i]["voe/open_view/pairwise_acc"] = float(np.concatenate(outs).mean())

    def run_identity(self) -> None:
        """``identity/*`` for a model whose encoder exposes its units (keypoints, slots)."""
        t0 = time.perf_counter()
        model = self.model
        encoder = getattr(model, "encoder", None)
        if encoder is None:
            return
        found = measure_identity(
            encoder, size=model.size, frames=model.window_steps * model.tubelet
        )
        if found is not None:
            self.put("identity", found)
            self.timing["identity_s"] = time.perf_counter() - t0
            self.protocol["identity"] = IDENTITY_PROTOCOL


# ---------------------------------------------------------------------- VoE scoring
class _Scorer:
    """Surprise traces of one property's clips (and its calibration clips) for one forecasting
    model or for pixel novelty: the plain trace (the suite's context), the filtered one (per
    step the minimum over context lengths of fixed-window surprise) and the abs_acc thresholds
    from the calibration clips."""

    def __init__(
        self, spec: Any, context_steps: int, lengths: tuple[int, ...], batch: int, model: Any
    ) -> None:
        self.spec, self.c, self.lengths, self.batch = spec, context_steps, lengths, batch
        self.tubelet, self.patch = model.tubelet, model.patch_size

    def settings(self, context: str) -> SurpriseSettings:
        """The plain score's settings under ``context`` (``fixed`` or ``growing``)."""
        spec = self.spec
        return SurpriseSettings(
            context_steps=self.c,
            stride=spec.stride,
            horizons=spec.horizons,
            token_reduction=spec.token_reduction,
            topk=spec.topk,
            clip_score=spec.clip_score,
            auroc_score=spec.auroc_score,
            context=context,
        )

    def _traces(self, forecaster: Any, video: np.ndarray, settings: SurpriseSettings):
        plain, copy = model_surprise(forecaster, video, settings, self.batch)
        per_length = length_surprise(forecaster, video, self.lengths, settings, self.batch)
        return {
            "model": (plain, filtered_trace([m for m, _ in per_length])),
            "copy_last": (copy, filtered_trace([cp for _, cp in per_length])),
        }

    def model(
        self,
        forecaster: Any,
        video: np.ndarray,
        calib: np.ndarray | None,
        settings: SurpriseSettings,
        copy: bool = True,
    ) -> dict[str, dict[str, Any]]:
        """``{"model": bundle, "copy_last": bundle}``; a bundle holds ``plain``, ``filtered``
        and, with calibration clips, ``threshold`` (plain, filtered)."""
        scored = self._traces(forecaster, video, settings)
        calibrated = self._traces(forecaster, calib, settings) if calib is not None else None
        names = ("model", "copy_last") if copy else ("model",)
        return {name: self._bundle(scored[name], calibrated and calibrated[name]) for name in names}

    def pixels(self, video: np.ndarray, calib: np.ndarray | None) -> dict[str, Any]:
        """Pixel novelty as a bundle: the same per-frame score at every context length, counted
        from frame ``C * tubelet``."""

        def traces(clips: np.ndarray):
            spec = self.spec
            full = pixel_surprise(clips, 1, spec.token_reduction, spec.topk, self.patch)
            plain = _from_frame(full, self.c * self.tubelet)
            return plain, filtered_trace(
                [_from_frame(full, n * self.tubelet) for n in self.lengths]
            )

        return self._bundle(traces(video), traces(calib) if calib is not None else None)

    def _bundle(self, scored, calibrated) -> dict[str, Any]:
        bundle: dict[str, Any] = {"plain": scored[0], "filtered": scored[1]}
        if calibrated is not None:
            p = self.spec.abs_percentile
            bundle["threshold"] = (abs_threshold(calibrated[0], p), abs_threshold(calibrated[1], p))
        return bundle

    @staticmethod
    def metrics(
        bundle: dict[str, Any],
        q: int,
        members: int,
        possible: np.ndarray,
        settings: SurpriseSettings,
        boot: dict[str, int],
    ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Every per-property key and the per-quadruplet outcomes of the relative accuracies."""
        plain = _shape(bundle["plain"], q, members)
        filtered = _shape(bundle["filtered"], q, members)
        metrics, outcomes = quad_metrics(plain, possible, settings, **boot)
        field, filtered_outcomes = field_metrics(
            plain, possible, settings, filtered, bundle.get("threshold"), **boot
        )
        return {**metrics, **field}, {
            "relative_acc": outcomes,
            "relative_acc_filtered": filtered_outcomes,
        }


def _from_frame(trace: SurpriseTrace, first: int) -> SurpriseTrace:
    """``trace`` counted from frame ``first`` on (earlier frames: no score)."""
    valid = trace.valid & (np.arange(len(trace.valid)) >= first)
    return SurpriseTrace(np.where(valid, trace.values, 0.0), valid, trace.step_frames)


# ---------------------------------------------------------------------- helpers
def _range(r) -> list[int]:
    return [r.start, r.stop]


def _export_too_short(model: ProbeModel, window: int, chunk: int) -> str:
    """The roll-out's defaults come from the export alone: its frames and metadata disagree."""
    where = f"{model.config.get('path', model.name)}/config.json"
    return (
        f"{where}: encoder.frames={model.frames} ({model.window_steps} steps of "
        f"{model.tubelet} frames) is too short for what its metadata says the model forecasts: "
        f"{chunk} steps (metadata.forecast_span) after {window} context step(s); fix "
        "encoder.frames or metadata in that file, or re-export the checkpoint with jepa-world "
        "export"
    )


def _rollout_chunk(spec: Any, model: ProbeModel) -> int:
    """Steps per predictor call: the suite's, else the span the model was trained to forecast."""
    c = spec.context_steps or model.context_steps
    return spec.chunk or model.forecast_span or max(1, model.window_steps - c)


def _rollout_window(spec: Any, model: ProbeModel) -> int:
    """Context steps per predictor call: the suite's, else what training showed the predictor
    (its context length; for causal models every step that fits beside the chunk)."""
    if spec.window:
        return spec.window
    if model.objective == "causal":
        return max(1, model.window_steps - _rollout_chunk(spec, model))
    return spec.context_steps or model.context_steps


def _objective(model: Any) -> str:
    """How a model forecasts: its export's objective, or for a model without a predictor that of
    the fitted forecaster (``causal`` next-step unless the encoder mixes time steps)."""
    if has_predictor(model):
        return model.objective
    return "window" if model.mixes_time else "causal"


def _voe_context(spec: Any, model: Any) -> str:
    """``fixed`` or ``growing``: ``auto`` grows the context for causal-objective models."""
    if spec.context != "auto":
        return spec.context
    return "growing" if _objective(model) == "causal" else "fixed"


def _strip(metrics: Mapping[str, float], prefix: str) -> dict[str, float]:
    return {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix)}


def _shape(trace, q: int, members: int):
    from jepa_world.evaluation.physics.voe import SurpriseTrace

    values = trace.values.reshape(q, members, -1)
    return SurpriseTrace(values, trace.valid, trace.step_frames)


def _pairwise(outcomes: np.ndarray) -> dict[str, float]:
    low, high = wilson_interval(float(outcomes.sum()), len(outcomes))
    return {
        "pairwise_acc": float(outcomes.mean()),
        "pairwise_acc_ci_low": low,
        "pairwise_acc_ci_high": high,
    }


def _mean_over_properties(
    metrics: Mapping[str, float],
    prefix: str,
    props: tuple[str, ...],
    outs: Mapping[str, list[np.ndarray]],
) -> dict[str, float]:
    """``mean/<key>``: relative accuracies pooled over every property's quadruplets (Wilson
    interval); AUROC and absolute accuracy the mean over properties."""
    out: dict[str, float] = {}
    for key in ("relative_acc", "relative_acc_filtered"):
        if key not in outs:
            continue
        pooled = np.concatenate(outs[key])
        out[f"mean/{key}"] = float(pooled.mean())
        out[f"mean/{key}_ci_low"], out[f"mean/{key}_ci_high"] = wilson_interval(
            float(pooled.sum()), len(pooled)
        )
    for key in ("auroc", "auroc_filtered", "abs_acc", "abs_acc_filtered"):
        values = [metrics.get(f"{prefix}/{p}/{key}") for p in props]
        if all(v is not None for v in values):
            out[f"mean/{key}"] = float(np.mean(values))
    return out


def _example(trace, pix, data: Mapping[str, Any], q: int, four: int, tub: int) -> dict[str, Any]:
    """The first quadruplet's per-step surprise (model and pixel novelty) for the plot."""
    values = trace.values.reshape(q, four, -1)[0]
    pixels = pix.values.reshape(q, four, -1)[0]
    divergence = np.asarray(data.get("divergence", np.zeros((q, four))))[0]
    return {
        "possible": [bool(p) for p in np.asarray(data["possible"])],
        "step_frames": tub,
        "valid_steps": [int(i) for i in np.flatnonzero(trace.valid)],
        "model": values.tolist(),
        "pixels": pixels.tolist(),
        "valid_frames": [int(i) for i in np.flatnonzero(pix.valid)],
        "divergence_frame": [int(d) for d in np.atleast_1d(divergence)],
    }


def _alias_fitted(run: _Run) -> None:
    """A model without a predictor forecasts with the fitted forecaster only: its ``rollout/``
    and ``voe/`` keys are also its ``rollout_fitted/`` and ``voe_fitted/`` keys, so every model
    carries the same keys."""
    for metrics in (run.metrics, *run.random_runs):
        for key in [k for k in metrics if k.startswith(("rollout/", "voe/"))]:
            probe, rest = key.split("/", 1)
            metrics.setdefault(f"{probe}_fitted/{rest}", metrics[key])


def _model_input(model: Any) -> dict[str, Any]:
    """How a protocol model sees the worlds (exports: nothing to add, their report is as ever)."""
    info = getattr(model, "info", None)
    if info is None:
        return {}
    return {
        "model_input": info.preprocessing,
        "frames_per_step": info.frames_per_step,
        "probe_window_frames": info.clip_frames,
        "forecasts_from": "the model's own predictor"
        if model.predictor is not None
        else "a forecaster fitted on its frozen features (see forecaster)",
        "random_init": getattr(model, "random_init_note", info.random_init),
    }


def run(
    model: Any,
    spec: PhysicsSpec,
    out: str | Path | None = None,
    log: Log | None = None,
) -> PhysicsReport:
    """Run a parsed physics suite on a model and every baseline; return the report.

    ``model``: an export folder (``jepa-world export`` / the ``encoder`` folder of a run), a
    loaded ``jepa_world.hub.WorldModel``, a :class:`ProbeModel`, a model string (``timm:...``)
    or any model of the probe protocol (:mod:`jepa_world.evaluation.adapters`). ``log``
    receives progress lines. ``out`` is where the caller writes the report
    (:func:`jepa_world.evaluation.run_suite` writes it); nothing is written here.
    """
    log = log or quiet
    start = time.perf_counter()
    probe_model = load_probe_model(model)
    run = _Run(probe_model, spec, log)
    worlds = run.preflight()
    log(f"[probe] suite {spec.name!r}: {', '.join(spec.probes)} on {probe_model.name}")
    if spec.state is not None:
        log("[probe] state ...")
        run.run_state(worlds)
    if spec.rollout is not None:
        log("[probe] roll-out ...")
        run.run_rollout(worlds)
    if spec.voe is not None:
        log("[probe] violation of expectation ...")
        run.run_voe(worlds)
    if getattr(probe_model, "predictor", True) is None:
        _alias_fitted(run)
    if run.random_runs:
        run.put("baselines/random_init", aggregate_seeds(run.random_runs))
    run.forecaster_protocol()
    run.run_identity()
    run.timing["total_s"] = time.perf_counter() - start
    return PhysicsReport(
        suite=spec.name,
        metrics=dict(sorted(run.metrics.items())),
        protocol={
            "suite": spec.source,
            "random_init_seeds": list(spec.baselines.random_init_seeds),
            "bootstrap_resamples": spec.bootstrap_resamples,
            "bootstrap_seed": spec.bootstrap_seed,
            "model_context_steps": probe_model.context_steps,
            "model_context_steps_source": probe_model.notes.get("context_steps_source"),
            "tubelet_size": probe_model.tubelet,
            "window_steps": probe_model.window_steps,
            **_model_input(probe_model),
            **run.protocol,
        },
        model={"name": probe_model.name, "config": probe_model.config},
        curves=run.curves,
        timing=run.timing,
        notes=run.notes,
    )

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
        self.randoms = [random_init_like(model, s) for s in suite.baselines.random_init_seeds]
        self.metrics: dict[str, float] = {}
        self.random_runs: list[dict[str, float]] = [{} for _ in self.randoms]
        self.curves: dict[str, Any] = {}
        self.protocol: dict[str, Any] = {}
        self.timing: dict[str, float] = {}
        self.notes: dict[str, Any] = {}

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
            window, chunk = _rollout_window(spec, model), _rollout_chunk(spec, model)
            steps = rollout_steps(model.window_steps, spec.horizons, c, window, chunk)
            params["frames"] = steps * model.tubelet
            worlds["rollout"] = self._try_world("probes.rollout", "physics2d", params, create_world)
            if not 1 <= c < model.window_steps:
                raise ValueError(
                    f"probes.rollout.context_steps={c} is out of range: allowed "
                    f"[1, {model.window_steps - 1}] for a model trained on "
                    f"{model.window_steps} steps"
                )
            if window + chunk > model.window_steps:
                raise ValueError(
                    f"probes.rollout.window={window} + chunk={chunk} must fit the model's "
                    f"{model.window_steps}-step training window (each forecast is compared with "
                    "the target of the window it was made for)"
                )
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
        return worlds

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
        common = {
            "horizons": spec.horizons,
            "window": _rollout_window(spec, model),
            "chunk": _rollout_chunk(spec, model),
            "batch_size": suite.batch_size,
        }
        t0 = time.perf_counter()
        state = self.state_result
        result = run_rollout_probe(
            model, clips, state.position_readout, state.token_mean, c, **common, **boot
        )
        self.timing["rollout/model_s"] = time.perf_counter() - t0
        m = result.metrics
        self.put("rollout", {k: v for k, v in m.items() if "/" not in k})
        self.put("baselines/copy_last/rollout", _strip(m, "copy_last/"))
        self.put("baselines/mean/rollout", _strip(m, "mean/"))
        position_mean = state.position_readout.bias.numpy()
        base = rollout_baselines(clips, model.tubelet, c, position_mean, spec.horizons, **boot)
        for name in ("copy_last", "constant_velocity", "mean"):
            self.put(f"baselines/{name}/rollout", _strip(base.metrics, f"{name}/"))
        t0 = time.perf_counter()
        random_curves = []
        for run, rnd, rs in zip(self.random_runs, self.randoms, self.random_state, strict=True):
            r = run_rollout_probe(
                rnd, clips, rs.position_readout, rs.token_mean, c, **common, **boot
            )
            run.update({f"rollout/{k}": v for k, v in r.metrics.items() if "/" not in k})
            random_curves.append(r.per_clip["position_px"].mean(0).tolist())
        self.timing["rollout/random_init_s"] = time.perf_counter() - t0
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
        self.protocol["rollout"] = {
            "world": "physics2d",
            "world_params": {**params, "frames": frames, "size": size, "num_balls": [1, 1]},
            "seeds": _range(spec.test),
            "clips": spec.test.count,
            "context_steps": c,
            "context_frames": c * model.tubelet,
            "horizons_steps": list(spec.horizons),
            "frames_per_step": model.tubelet,
            "window": _rollout_window(spec, model),
            "chunk": common["chunk"],
            "frame_probe": "the state probe's per-patch position read-out",
            "latent_err": "mean |forecast - true layer-normed target tokens| over tokens, dims",
            "true_future": "target tokens of step t at the window position the forecast of t was "
            "made for, in the training-length window of real frames that puts t there (chunk 1: "
            "position C, a horizon-1 training target)",
            "intervals": "95% percentile bootstrap over test clips",
        }

    def run_voe(self, worlds: dict[str, dict[str, Any]]) -> None:
        spec, model, suite = self.suite.voe, self.model, self.suite
        world = worlds["voe"]["world"]
        c = spec.context_steps or model.context_steps
        settings = SurpriseSettings(
            context_steps=c,
            stride=spec.stride,
            horizons=spec.horizons,
            token_reduction=spec.token_reduction,
            topk=spec.topk,
            clip_score=spec.clip_score,
            auroc_score=spec.auroc_score,
            context=_voe_context(spec, model),
        )
        boot = {"resamples": suite.bootstrap_resamples, "seed": suite.bootstrap_seed}
        first_frame = c * model.tubelet
        outcomes: dict[str, list[np.ndarray]] = {"model": [], "pixels": [], "copy_last": []}
        random_outcomes: list[list[np.ndarray]] = [[] for _ in self.randoms]
        examples: dict[str, Any] = {}
        data_s = model_s = random_s = 0.0
        for prop in spec.properties:
            t0 = time.perf_counter()
            data = world.quadruplets(prop, spec.property_range(prop).seeds())
            data_s += time.perf_counter() - t0
            video, possible = data["video"], np.asarray(data["possible"], dtype=bool)
            q, four = video.shape[:2]
            flat = video.reshape(q * four, *video.shape[2:])
            t0 = time.perf_counter()
            trace, copy = model_surprise(model, flat, settings, suite.batch_size)
            model_s += time.perf_counter() - t0
            pix = pixel_surprise(
                flat, first_frame, spec.token_reduction, spec.topk, model.patch_size
            )
            for name, tr in (("model", trace), ("copy_last", copy), ("pixels", pix)):
                shaped = _shape(tr, q, four)
                metrics, out = quad_metrics(shaped, possible, settings, **boot)
                prefix = "voe" if name == "model" else f"baselines/{name}/voe"
                self.put(f"{prefix}/{prop}", metrics)
                outcomes[name].append(out)
            t0 = time.perf_counter()
            for i, rnd in enumerate(self.randoms):
                rt, _ = model_surprise(rnd, flat, settings, suite.batch_size)
                metrics, out = quad_metrics(_shape(rt, q, four), possible, settings, **boot)
                self.random_runs[i].update({f"voe/{prop}/{k}": v for k, v in metrics.items()})
                random_outcomes[i].append(out)
            random_s += time.perf_counter() - t0
            examples[prop] = _example(trace, pix, data, q, four, model.tubelet)
        for name, outs in outcomes.items():
            prefix = "voe" if name == "model" else f"baselines/{name}/voe"
            self.put(prefix, _mean_over_properties(self.metrics, prefix, spec.properties, outs))
        for i, outs in enumerate(random_outcomes):
            run = self.random_runs[i]
            run["voe/mean/relative_acc"] = float(np.concatenate(outs).mean())
            run["voe/mean/auroc"] = float(np.mean([run[f"voe/{p}/auroc"] for p in spec.properties]))
        if spec.open_view is not None:
            t0 = time.perf_counter()
            self._open_view(world, settings, first_frame)
            self.timing["voe/open_view_s"] = time.perf_counter() - t0
        self.timing.update(
            {"voe/data_s": data_s, "voe/model_s": model_s, "voe/random_init_s": random_s}
        )
        self.curves["voe_example"] = examples
        self.protocol["voe"] = {
            "world": "intuitive",
            "world_params": dict(worlds["voe"]["params"]),
            "properties": list(spec.properties),
            "quadruplets_per_property": spec.quadruplets.count,
            "seeds": {p: _range(spec.property_range(p)) for p in spec.properties},
            "context": settings.context,
            "context_steps": c,
            "context_frames": first_frame,
            "window_steps": min(model.window_steps, int(world.frames) // model.tubelet),
            "stride_steps": spec.stride
            or min(model.window_steps, int(world.frames) // model.tubelet) - c,
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
        }
        if spec.open_view is not None:
            self.protocol["voe"]["open_view"] = {
                "kinds": list(spec.open_view_kinds),
                "pairs_per_kind": spec.open_view.count,
                "seeds": {k: _range(spec.open_view_range(k)) for k in spec.open_view_kinds},
                "pairwise_acc": "impossible clip's clip score > its twin's, ties 0.5; Wilson",
            }

    def _open_view(self, world: Any, settings: SurpriseSettings, first_frame: int) -> None:
        spec, model = self.suite.voe, self.model
        pooled: dict[str, list[np.ndarray]] = {"model": [], "pixels": [], "copy_last": []}
        random_pooled: list[list[np.ndarray]] = [[] for _ in self.randoms]
        for kind in spec.open_view_kinds:
            data = world.open_view_pairs(kind, spec.open_view_range(kind).seeds())
            video = data["video"]
            q, two = video.shape[:2]
            flat = video.reshape(q * two, *video.shape[2:])
            trace, copy = model_surprise(model, flat, settings, self.suite.batch_size)
            pix = pixel_surprise(
                flat, first_frame, spec.token_reduction, spec.topk, model.patch_size
            )
            for name, tr in (("model", trace), ("copy_last", copy), ("pixels", pix)):
                out = pair_metrics(_shape(tr, q, two))
                prefix = "voe" if name == "model" else f"baselines/{name}/voe"
                self.put(f"{prefix}/open_view/{kind}", _pairwise(out))
                pooled[name].append(out)
            for i, rnd in enumerate(self.randoms):
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
        found = measure_identity(
            model.encoder, size=model.size, frames=model.window_steps * model.tubelet
        )
        if found is not None:
            self.put("identity", found)
            self.timing["identity_s"] = time.perf_counter() - t0
            self.protocol["identity"] = IDENTITY_PROTOCOL


# ---------------------------------------------------------------------- helpers
def _range(r) -> list[int]:
    return [r.start, r.stop]


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


def _voe_context(spec: Any, model: ProbeModel) -> str:
    """``fixed`` or ``growing``: ``auto`` grows the context for causal-objective models."""
    if spec.context != "auto":
        return spec.context
    return "growing" if model.objective == "causal" else "fixed"


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
    metrics: Mapping[str, float], prefix: str, props: tuple[str, ...], outs: list[np.ndarray]
) -> dict[str, float]:
    pooled = np.concatenate(outs)
    low, high = wilson_interval(float(pooled.sum()), len(pooled))
    return {
        "mean/relative_acc": float(pooled.mean()),
        "mean/relative_acc_ci_low": low,
        "mean/relative_acc_ci_high": high,
        "mean/auroc": float(np.mean([metrics[f"{prefix}/{p}/auroc"] for p in props])),
    }


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


def run(
    model: Any,
    spec: PhysicsSpec,
    out: str | Path | None = None,
    log: Log | None = None,
) -> PhysicsReport:
    """Run a parsed physics suite on a model and every baseline; return the report.

    ``model``: an export folder (``jepa-world export`` / the ``encoder`` folder of a run), a
    loaded ``jepa_world.hub.WorldModel`` or a :class:`ProbeModel`. ``log`` receives progress
    lines. ``out`` is where the caller writes the report (:func:`jepa_world.evaluation.run_suite`
    writes it); nothing is written here.
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
    run.put("baselines/random_init", aggregate_seeds(run.random_runs))
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
            **run.protocol,
        },
        model={"name": probe_model.name, "config": probe_model.config},
        curves=run.curves,
        timing=run.timing,
        notes=run.notes,
    )

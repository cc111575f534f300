"""End to end: a tiny suite on a tiny random model writes every documented key and plot."""

from __future__ import annotations

import json

import pytest
import yaml

from jepa_world.evaluation.physics.report import PLOTS
from jepa_world.evaluation.physics.spec import PROPERTIES

HORIZONS = (1, 2, 4)
S = 3_000_000_000
TINY_VOE_WORLD = {"frames": 24, "distractors": [0, 1]}


def tiny_suite() -> dict:
    return {
        "kind": "physics",
        "name": "tiny",
        "batch_size": 16,
        "bootstrap": {"resamples": 20, "seed": 0},
        "probes": {
            "state": {
                "world_params": {"occluders": [0, 0]},
                "train": {"seed_start": S, "clips": 12},
                "val": {"seed_start": S + 1000, "clips": 4},
                "test": {"seed_start": S + 2000, "clips": 6},
            },
            "rollout": {"test": {"seed_start": S + 3000, "clips": 4}, "horizons": list(HORIZONS)},
            "voe": {
                "world_params": TINY_VOE_WORLD,
                "quadruplets": {"seed_start": S + 10_000_000, "count": 2},
                "open_view": {"seed_start": S + 20_000_000, "pairs": 2},
                "calibration": {"seed_start": S + 40_000_000, "count": 2},
            },
        },
        "baselines": {"random_init": {"seeds": [0, 1, 2, 3, 4]}, "pixels": {"size": 8}},
        "forecaster": {"clips": 8, "steps": 5, "batch_size": 8, "width": 8, "heads": 2},
    }


VOE_KEYS = (
    "relative_acc",
    "relative_acc_filtered",
    "auroc",
    "auroc_filtered",
    "abs_acc",
    "abs_acc_filtered",
)


def expected_keys(fitted: bool = False) -> list[str]:
    keys = ["state/position_r2", "state/position_pooled_r2", "state/velocity_r2"]
    keys += ["state/position_px"]
    keys += [f"rollout/position_px@{k}" for k in HORIZONS]
    keys += [f"rollout/latent_err@{k}" for k in HORIZONS]
    for prop in (*PROPERTIES, "mean"):
        keys += [f"voe/{prop}/{key}" for key in VOE_KEYS]
    keys += ["voe/open_view/pairwise_acc"]
    if fitted:  # the fitted forecaster beside the model's predictor
        keys += [k.replace("rollout/", "rollout_fitted/") for k in keys if "rollout/" in k]
        keys += [k.replace("voe/", "voe_fitted/") for k in keys if k.startswith("voe/")]
        keys.remove("voe_fitted/open_view/pairwise_acc")
    return keys


BASELINE_KEYS = {
    "random_init": expected_keys(),
    "pixels": [k for k in expected_keys() if k.startswith(("state/", "voe/"))],
    "copy_last": [k for k in expected_keys() if k.startswith(("rollout/", "voe/"))],
    "constant_velocity": [k for k in expected_keys() if k.startswith("rollout/position_px")],
    "mean": [k for k in expected_keys() if k.startswith(("state/", "rollout/"))],
}


@pytest.fixture(scope="module")
def run(tiny_model_dir, tmp_path_factory):
    from jepa_world.evaluation.command import probe

    root = tmp_path_factory.mktemp("suite")
    suite_path = root / "tiny.yaml"
    suite_path.write_text(yaml.safe_dump(tiny_suite()))
    out = root / "report"
    probe(str(suite_path), str(tiny_model_dir), str(out))
    return out


def test_report_has_every_documented_key(run):
    report = json.loads((run / "report.json").read_text())
    metrics = report["metrics"]
    missing = [k for k in expected_keys(fitted=True) if k not in metrics]
    assert not missing
    for name, keys in BASELINE_KEYS.items():
        missing = [k for k in keys if f"baselines/{name}/{k}" not in metrics]
        assert not missing, f"baselines/{name} lacks {missing}"
    assert "baselines/random_init/voe/mean/relative_acc_std" in metrics
    assert "voe/permanence/relative_acc_ci_low" in metrics
    assert all(isinstance(v, float) for v in metrics.values())
    protocol = report["protocol"]
    assert protocol["random_init_seeds"] == [0, 1, 2, 3, 4]
    assert protocol["state"]["seeds"]["train"] == [S, S + 12]
    assert protocol["voe"]["clip_score"].startswith("sum")
    assert report["model"]["config"]["encoder"]["img_size"] == 64


def test_pixel_novelty_ties_on_matched_quadruplets(run):
    metrics = json.loads((run / "report.json").read_text())["metrics"]
    for prop in (*PROPERTIES, "mean"):
        assert metrics[f"baselines/pixels/voe/{prop}/relative_acc"] == 0.5
        assert metrics[f"baselines/pixels/voe/{prop}/relative_acc_filtered"] == 0.5


def test_report_states_the_field_protocol_and_the_forecaster_budget(run):
    report = json.loads((run / "report.json").read_text())
    voe, budget = report["protocol"]["voe"], report["protocol"]["forecaster"]
    filtered = voe["filtered"]
    assert filtered["clip_frames"] == 24 and filtered["window_steps"] == 4
    assert filtered["context_lengths_steps"] == [1, 2, 3]  # null: all the window allows
    assert filtered["context_lengths_frames"] == [2, 4, 6]  # 2-frame tubelets
    assert voe["abs_acc"]["percentile"] == 90.0
    assert voe["abs_acc"]["seeds"]["permanence"] == [S + 40_000_000, S + 40_000_002]
    assert budget["steps"] == 5 and budget["clips"] == 8 and budget["seeds"] == [0, 8]
    assert report["protocol"]["rollout"]["fitted"] == {
        "window": 2,
        "chunk": 1,
        "forecasts": report["protocol"]["rollout"]["fitted"]["forecasts"],
    }
    thresholds = report["notes"]["voe_abs_thresholds"]["voe"]
    assert set(thresholds) == set(PROPERTIES) and all(len(t) == 2 for t in thresholds.values())


def test_a_model_without_a_predictor_gets_every_probe_through_the_forecaster(
    tiny_model_dir, monkeypatch
):
    """An encoder without a predictor (and its random-init twins) gets roll-out and VoE from a
    forecaster fitted on its frozen features; without a forecaster section it is refused."""
    from jepa_world.evaluation import run_suite
    from jepa_world.evaluation.physics import runner
    from jepa_world.evaluation.physics.model import load_probe_model, random_init_like

    def encoder_only(model):
        model.predictor = None
        return model

    full = load_probe_model(tiny_model_dir)  # twins: the same encoder, random, no predictor
    monkeypatch.setattr(
        runner, "random_init_like", lambda m, seed: encoder_only(random_init_like(full, seed))
    )
    model = encoder_only(load_probe_model(tiny_model_dir))
    suite = tiny_suite()
    suite["probes"]["voe"].pop("open_view")
    suite["probes"]["voe"]["properties"] = ["permanence"]
    report = run_suite(model, suite)
    metrics = report["metrics"]
    keys = [k for k in expected_keys() if "/open_view/" not in k]
    keys = [
        k for k in keys if not k.startswith("voe/") or k.split("/")[1] in ("permanence", "mean")
    ]
    assert not [k for k in keys if k not in metrics]
    assert not [k for k in keys if f"baselines/random_init/{k}" not in metrics]
    # its only forecasts are the fitted forecaster's: the *_fitted keys repeat them, so every
    # model's report carries the same keys
    fitted = [k for k in metrics if "_fitted/" in k and not k.startswith("baselines/")]
    assert fitted and all(metrics[k] == metrics[k.replace("_fitted/", "/")] for k in fitted)
    assert "forecaster" in report["protocol"]["voe"]["forecasts"]
    assert metrics["baselines/pixels/voe/permanence/relative_acc"] == 0.5
    del suite["forecaster"]
    with pytest.raises(ValueError, match="no predictor: the suite needs a forecaster section"):
        run_suite(model, suite)


def test_report_files_and_plots(run):
    for filename in PLOTS.values():
        assert (run / filename).read_bytes()[:4] == b"\x89PNG"
    table = (run / "report.md").read_text()
    assert "| voe/mean/relative_acc |" in table and "| state/velocity_r2 |" in table


def test_malformed_suite_fails_before_any_work(tiny_model_dir, monkeypatch):
    from jepa_world.evaluation import run_suite
    from jepa_world.evaluation.physics import runner

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the suite was validated")

    monkeypatch.setattr(runner, "load_probe_model", forbidden)
    suite = tiny_suite()
    suite["probes"]["voe"]["properties"] = ["permanence", "telekinesis"]
    with pytest.raises(ValueError, match="probes.voe.properties"):
        run_suite(tiny_model_dir, suite)


def test_bad_world_params_fail_before_clips_are_made(tiny_model_dir, monkeypatch):
    from jepa_world.evaluation import run_suite
    from jepa_world.evaluation.physics import runner

    def forbidden(*args, **kwargs):
        raise AssertionError("clips generated before the worlds were checked")

    monkeypatch.setattr(runner, "make_ball_clips", forbidden)
    suite = tiny_suite()
    suite["probes"]["voe"]["world_params"] = {**TINY_VOE_WORLD, "occluder_width": [9.0, 99.0]}
    with pytest.raises(ValueError, match="probes.voe.world_params"):
        run_suite(tiny_model_dir, suite)
    suite = tiny_suite()
    suite["probes"]["state"]["world_params"] = {"size": 32}
    with pytest.raises(ValueError, match="probes.state.world_params.size=32 differs"):
        run_suite(tiny_model_dir, suite)
    suite = tiny_suite()
    suite["probes"]["rollout"]["chunk"] = 3  # 2 context steps + 3 > the 4-step window
    with pytest.raises(ValueError, match=r"probes.rollout.window=2 \+ chunk=3 must fit"):
        run_suite(tiny_model_dir, suite)


@pytest.fixture(scope="module")
def causal_report(tiny_causal_dir):
    from jepa_world.evaluation import run_suite

    return run_suite(tiny_causal_dir, tiny_suite())


def test_causal_models_get_a_growing_context_and_their_forecast_span(causal_report):
    """``context: auto`` grows the VoE context for a causal-objective model; the roll-out
    forecasts its trained span (2 steps) per call from every step that fits beside it."""
    metrics, protocol = causal_report["metrics"], causal_report["protocol"]
    assert not [k for k in expected_keys() if k not in metrics]
    assert protocol["voe"]["context"] == "growing"
    assert (protocol["rollout"]["chunk"], protocol["rollout"]["window"]) == (2, 8 - 2)
    for prop in PROPERTIES:
        assert metrics[f"baselines/pixels/voe/{prop}/relative_acc"] == 0.5


def test_identity_switch_rate_is_reported_for_models_that_expose_their_units(causal_report, run):
    metrics = causal_report["metrics"]  # a keypoint encoder: its units are its keypoints
    assert 0.0 <= metrics["identity/switch_rate"] <= 1.0 and metrics["identity/pairs"] > 0
    assert causal_report["protocol"]["identity"]["seeds"][0] == 3_030_000_000
    vit = json.loads((run / "report.json").read_text())["metrics"]  # a ViT exposes no units
    assert not [k for k in vit if k.startswith("identity/")]


def test_growing_context_needs_an_encoder_that_keeps_time_steps_apart(tiny_model_dir, run):
    from jepa_world.evaluation import run_suite

    report = json.loads((run / "report.json").read_text())
    assert report["protocol"]["voe"]["context"] == "fixed"  # auto, for a window-objective ViT
    suite = tiny_suite()
    suite["probes"]["voe"]["context"] = "growing"
    with pytest.raises(ValueError, match="probes.voe.context='growing' needs an encoder"):
        run_suite(tiny_model_dir, suite)
    suite["probes"]["voe"]["context"] = "sliding"
    with pytest.raises(ValueError, match="probes.voe.context"):
        run_suite(tiny_model_dir, suite)

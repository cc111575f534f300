"""End-to-end training through the `jepa-world` LightningCLI with a tiny model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from jepa_world.cli import build_cli, main
from jepa_world.hub import load_encoder

QUICKSTART = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "quickstart.yaml")


def fit(tmp_path: Path, tiny_args, *extra: str, steps: int = 2):
    args = [
        "fit",
        f"--config={QUICKSTART}",
        *tiny_args,
        f"--trainer.default_root_dir={tmp_path}",
        f"--trainer.max_steps={steps}",
        *extra,
    ]
    return build_cli(args)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_args):
    """One tiny 2-step run shared by the tests that only read what a run wrote."""
    root = tmp_path_factory.mktemp("run")
    cli = fit(root, tiny_args, "--trainer.callbacks+=jepa_world.training.callbacks.ClipLedger")
    return root, cli


def test_fit_writes_one_run_folder(trained):
    tmp_path, cli = trained
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "encoder" / "config.json").is_file()
    assert (tmp_path / "encoder" / "model.safetensors").is_file()
    assert (tmp_path / "config.yaml").is_file()
    metrics = cli.trainer.callback_metrics
    for key in ("val/pred_loss", "val/copy_last_loss", "val/velocity_r2"):
        assert key in metrics and torch.isfinite(torch.as_tensor(metrics[key]))
    logged = cli.trainer.logged_metrics
    for key in ("train/loss", "train/target_std_min", "train/target_std_mean", "train/momentum"):
        assert key in logged


def test_fit_ends_with_the_probe_suite_on_the_exported_model(trained, capsys):
    tmp_path, cli = trained
    report = json.loads((tmp_path / "probe" / "report.json").read_text())
    assert report["suite"] == "tiny" and report["model"]["name"] == "encoder"
    for key in (
        "state/position_r2",
        "rollout/latent_err@1",
        "baselines/copy_last/rollout/latent_err@1",
    ):
        assert key in report["metrics"]
    assert (tmp_path / "probe" / "report.md").is_file()
    assert (tmp_path / "probe" / "rollout_error.png").is_file()


def test_malformed_probe_suite_fails_before_training(tmp_path, tiny_args):
    suite = tmp_path / "bad.yaml"
    suite.write_text("kind: physics\nname: bad\nprobes: {state: {not_a_key: 1}}\n")
    with pytest.raises(ValueError, match="not_a_key"):
        fit(tmp_path, tiny_args, f"--trainer.callbacks.suite={suite}")
    assert not (tmp_path / "checkpoints").exists()


def test_probe_suite_needs_an_encoder_export_before_it(tmp_path, tiny_args):
    from jepa_world.training.callbacks import EncoderExport, ProbeSuite

    cli = build_cli(
        ["--config", QUICKSTART, *tiny_args, f"--trainer.default_root_dir={tmp_path}"], run=False
    )
    cli.trainer.callbacks = [c for c in cli.trainer.callbacks if not isinstance(c, EncoderExport)]
    assert any(isinstance(c, ProbeSuite) for c in cli.trainer.callbacks)
    with pytest.raises(ValueError, match="EncoderExport"):
        cli.trainer.fit(cli.model, cli.datamodule)


def test_exported_encoder_matches_module(trained):
    tmp_path, cli = trained
    encoder = load_encoder(tmp_path / "encoder")
    video = torch.rand(2, 4, 3, 32, 32)
    module_encoder = cli.model.target_encoder.eval()
    with torch.no_grad():
        assert torch.equal(encoder(video), module_encoder.forward_features(video))


def test_export_command_rebuilds_from_checkpoint(trained, tmp_path):
    run, _ = trained
    out = tmp_path / "exported"
    main(["export", "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), "--out", str(out)])
    a = load_encoder(out)
    b = load_encoder(run / "encoder")
    video = torch.rand(1, 4, 3, 32, 32)
    assert torch.equal(a(video), b(video))
    # both exports tell the probes how the model was trained (causal objective, 2-step span)
    meta = [json.loads((d / "config.json").read_text())["metadata"] for d in (out, run / "encoder")]
    assert meta[0] == meta[1] == {"context_steps": 1, "objective": "causal", "forecast_span": 2}


def test_export_rejects_corrupt_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--ckpt_path", str(bad), "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2 and "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_non_finite_loss_stops_with_step_and_keeps_checkpoint(tmp_path, tiny_args, monkeypatch):
    fit(tmp_path, tiny_args, steps=2)
    last = tmp_path / "checkpoints" / "last.ckpt"
    before = last.read_bytes()

    import jepa_world.training.video_jepa as module

    real = module.prediction_loss

    def poisoned(*args, **kwargs):
        return real(*args, **kwargs) * float("nan")

    monkeypatch.setattr(module, "prediction_loss", poisoned)
    with pytest.raises(FloatingPointError, match="step 2"):
        fit(tmp_path, tiny_args, "--ckpt_path=last", steps=4)
    assert last.read_bytes() == before


def test_unknown_recipe_key_is_named(tmp_path, tiny_args, capsys):
    with pytest.raises(SystemExit):
        fit(tmp_path, tiny_args, "--model.init_args.not_a_key=1")
    assert "not_a_key" in capsys.readouterr().err


def test_bad_value_is_named(tmp_path, tiny_args, capsys):
    with pytest.raises(SystemExit):
        fit(tmp_path, tiny_args, "--model.init_args.context_steps=abc")
    assert "context_steps" in capsys.readouterr().err


def test_saved_config_names_classes(trained):
    saved = (trained[0] / "config.yaml").read_text()
    assert "jepa_world.training.JEPA" in saved and "WorldDataModule" in saved


def test_clip_ledger_records_seeds(trained):
    ledger = json.loads((trained[0] / "clips" / "rank0.json").read_text())
    assert len(ledger["seeds"]) == 2 * 4 and len(set(ledger["seeds"])) == 8

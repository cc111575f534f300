"""The training LightningCLI: old class paths fail in one line naming the new one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from jepa_world.cli import build_cli, main
from jepa_world.training.class_paths import MovedClassPath, moved_to

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("jepa_world.module.JEPA", "jepa_world.training.JEPA"),
        ("jepa_world.action_module.ActionJEPA", "jepa_world.training.ActionJEPA"),
        ("jepa_world.callbacks.ClipLedger", "jepa_world.training.callbacks.ClipLedger"),
        ("jepa_world.callbacks.ProbeSuite", "jepa_world.training.callbacks.ProbeSuite"),
    ],
)
def test_old_class_paths_name_their_new_home(old, new):
    assert moved_to(old) == (old, new)
    assert moved_to(new) is None and moved_to("jepa_world.data.WorldDataModule") is None


def _old_recipe(tmp_path: Path) -> Path:
    config = yaml.safe_load(QUICKSTART.read_text())
    config["model"]["class_path"] = "jepa_world.module.JEPA"
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_old_model_class_path_in_a_config_fails_before_parsing(tmp_path, capsys):
    path = _old_recipe(tmp_path)
    with pytest.raises(
        MovedClassPath, match=r"'jepa_world.module.JEPA' has moved: use 'jepa_world.training.JEPA'"
    ):
        build_cli(["fit", f"--config={path}"], run=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(err) == 1 and "use 'jepa_world.training.JEPA'" in err[0]


@pytest.mark.parametrize(
    "arg",
    [
        "--trainer.callbacks+=jepa_world.callbacks.ClipLedger",
        "--model=jepa_world.action_module.ActionJEPA",
    ],
)
def test_old_class_path_on_the_command_line_fails_naming_the_new_one(arg, capsys):
    new = moved_to(arg)[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", f"--config={QUICKSTART}", arg])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and new in err[0]


def test_the_command_prints_one_line_for_an_old_class_path(tmp_path):
    path = _old_recipe(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "jepa_world.cli", "fit", f"--config={path}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"jepa-world: error: {path}: class path 'jepa_world.module.JEPA' has moved: use "
        "'jepa_world.training.JEPA'"
    ]


@pytest.mark.parametrize("where", ["class record", "hyper-parameters"])
def test_export_of_a_checkpoint_naming_an_old_class_fails_naming_the_new_one(
    tmp_path, where, capsys
):
    checkpoint = {"state_dict": {}, "hyper_parameters": {}}
    if where == "class record":
        checkpoint["jepa_world_class"] = "jepa_world.action_module.ActionJEPA"
    else:
        checkpoint["hyper_parameters"]["_class_path"] = "jepa_world.action_module.ActionJEPA"
    path = tmp_path / "old.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--ckpt_path", str(path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "use 'jepa_world.training.ActionJEPA'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_new_class_paths_resolve_to_the_task_modules():
    import jepa_world.training as training
    from jepa_world.training.action_jepa import ActionJEPA
    from jepa_world.training.video_jepa import JEPA

    assert training.JEPA is JEPA and training.ActionJEPA is ActionJEPA
    with pytest.raises(AttributeError):
        training.NotATask  # noqa: B018


def test_importing_the_training_package_and_runtime_does_not_import_lightning():
    code = (
        "import sys, jepa_world.training, jepa_world.training.runtime, jepa_world.cli; "
        "print('lightning' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def _fit(root: Path, tiny_args, *extra: str, steps: int = 1) -> None:
    main(
        [
            "fit",
            f"--config={QUICKSTART}",
            *tiny_args,
            f"--trainer.default_root_dir={root}",
            f"--trainer.max_steps={steps}",
            *extra,
        ]
    )


def test_parse_errors_are_one_line_and_exit_status_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", f"--config={QUICKSTART}", "--trainer.max_stepz=3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1
    assert "--trainer.max_stepz" in err[0] and "jepa-world fit --help" in err[0]


def test_run_folder_logging_and_resume(tmp_path, tiny_args, capsys):
    """One tiny run folder, four commands: a fit (WANDB_MODE=disabled, as the tests set: no
    wandb files; stdout is not a terminal: plain step lines); a second fit refused in one line;
    the same with --overwrite and no logger at all (the LR monitor would fail); a resume with a
    CSV logger, which is never refused."""
    import os

    assert os.environ["WANDB_MODE"] == "disabled"
    _fit(tmp_path, tiny_args, "--trainer.enable_progress_bar=true")
    out = capsys.readouterr().out
    assert not (tmp_path / "wandb").exists()
    assert re.search(r"^step 1/1 loss \S+ lr \S+", out, re.MULTILINE), out

    with pytest.raises(SystemExit) as exit_info:
        _fit(tmp_path, tiny_args)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert err[-1].startswith("jepa-world: error: run folder") and "--overwrite" in err[-1]
    assert "--ckpt_path last" in err[-1] and str(tmp_path / "encoder") in err[-1]

    _fit(tmp_path, tiny_args, "--overwrite", "--trainer.logger=false")
    assert "step 1/1" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["last.ckpt"]

    csv = ["--trainer.logger=CSVLogger", f"--trainer.logger.save_dir={tmp_path}"]
    _fit(tmp_path, tiny_args, "--ckpt_path=last", *csv, steps=2)
    metrics = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text()
    assert "train/" in metrics and "lr/" in metrics


def test_wandb_mode_wins_over_the_recipes_offline_flag():
    from jsonargparse import Namespace

    from jepa_world.training.cli import _loggers

    def wandb():
        args = Namespace(project="p", offline=True, save_dir=None)
        return [Namespace(class_path="lightning.pytorch.loggers.WandbLogger", init_args=args)]

    assert _loggers(wandb(), "runs/x", "disabled") is False
    kept = _loggers(wandb(), "runs/x", "offline")
    assert kept[0].init_args.offline is False and kept[0].init_args.save_dir == "runs/x"
    unset = _loggers(wandb(), "runs/x", None)  # no variable: the recipe's offline run
    assert unset[0].init_args.offline is True

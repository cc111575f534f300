"""The training LightningCLI: old class paths fail in one line naming the new one."""

from __future__ import annotations

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

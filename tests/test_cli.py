"""The `jepa-world` dispatcher: the tool subcommands (worlds, recipes) and the process setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from jepa_world.cli import main
from jepa_world.worlds import WORLDS


def test_worlds_list_names_every_world(capsys):
    main(["worlds", "list"])
    out = capsys.readouterr().out
    for name in WORLDS:
        assert name in out


@pytest.mark.parametrize("name", ["physics2d", "two_rooms", "intuitive"])
def test_worlds_preview_writes_an_animation(tmp_path, name):
    out = tmp_path / f"{name}.gif"
    main(["worlds", "preview", name, "--out", str(out), "--seed", "3"])
    with Image.open(out) as gif:
        assert gif.n_frames >= 8
        width, height = gif.size
    assert width >= 64 and height >= 64
    if name == "intuitive":  # a quadruplet side by side
        assert width > 3 * height


def test_worlds_preview_png_strip(tmp_path):
    out = tmp_path / "strip.png"
    main(["worlds", "preview", "physics2d", "--out", str(out)])
    with Image.open(out) as png:
        assert png.size[0] > png.size[1]


def test_worlds_preview_rejects_unknown_world_and_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["worlds", "preview", "nope", "--out", str(tmp_path / "a.gif")])
    assert exit_info.value.code == 2 and "unknown world" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["worlds", "preview", "physics2d", "--out", str(tmp_path / "a.mp4")])
    assert exit_info.value.code == 2 and ".gif or .png" in capsys.readouterr().err


def test_worlds_generate_writes_readable_shards(tmp_path):
    from jepa_world.data import ShardDataModule

    out = tmp_path / "shards"
    params = '{"frames": 4, "size": 32}'
    main(["worlds", "generate", "physics2d", "--out", str(out), "--clips", "6", "--params", params])
    data = ShardDataModule(str(out), batch_size=2, val_fraction=0.34)
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))
    assert tuple(batch["video"].shape) == (2, 4, 3, 32, 32)


def test_recipes_list_and_show(capsys):
    main(["recipes", "list"])
    listed = capsys.readouterr().out
    assert "quickstart" in listed
    main(["recipes", "show", "quickstart"])
    shown = capsys.readouterr().out
    assert "class_path: jepa_world.training.JEPA" in shown
    with pytest.raises(SystemExit) as exit_info:
        main(["recipes", "show", "nope"])
    assert exit_info.value.code == 2 and "unknown recipe 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["recipes", "list"], ["worlds", "list"]])
def test_every_command_line_run_sets_up_the_process(monkeypatch, capsys, command):
    """Tools such as ``probe`` run heavy models too: they get the same process settings as fit."""
    import jepa_world.cli as cli
    from jepa_world.training import runtime

    calls = []
    monkeypatch.setattr(runtime, "flush_denormal_floats", lambda: calls.append("denormals"))
    monkeypatch.setattr(runtime, "keep_large_allocations_on_the_heap", lambda: calls.append("heap"))
    monkeypatch.setattr(sys, "argv", ["jepa-world", *command])
    cli.main()
    assert sorted(calls) == ["denormals", "heap"]
    assert capsys.readouterr().out
    calls.clear()
    cli.main(command)  # called from Python: the caller's process is left alone
    assert calls == []


def test_help_lists_every_command(capsys):
    from jepa_world.cli import RUN_STAGES, TOOLS

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in (*RUN_STAGES, *TOOLS):
        assert f"\n  {command} " in out, command
    assert "--debug" in out and "JEPA_WORLD_DEBUG" in out


def _shards(tmp_path) -> str:
    out = tmp_path / "shards"
    params = '{"frames": 2, "size": 32}'
    main(["worlds", "generate", "physics2d", "--out", str(out), "--clips", "1", "--params", params])
    return str(out)


# each: (arguments, what the one line must say); {tmp} is the test's folder
USER_ERRORS = [
    (
        [
            "worlds",
            "generate",
            "physics2d",
            "--out",
            "{tmp}/x",
            "--clips",
            "2",
            "--params",
            '{"frame": 8}',
        ],
        "unknown physics2d world parameter 'frame': did you mean 'frames'?",
    ),
    (["worlds", "generate", "nope", "--out", "{tmp}/x", "--clips", "2"], "unknown world 'nope'"),
    (["worlds", "generate", "physics2d", "--out", "{shards}", "--clips", "1"], "--overwrite"),
    (
        ["worlds", "generate", "physics2d", "--out", "{tmp}/x", "--clips", "two"],
        "(jepa-world worlds generate --help lists the options)",
    ),
    (
        ["probe", "--suite", "physics", "--model", "{tmp}/missing", "--out", "{tmp}/p"],
        "not an export folder",
    ),
    (
        ["probe", "--suite", "{tmp}/missing.yaml", "--model", "{tmp}", "--out", "{tmp}/p"],
        "suite '{tmp}/missing.yaml' not found",
    ),
    (
        ["probe", "--suite", "physics", "--modle", "{tmp}", "--out", "{tmp}/p"],
        "unrecognized arguments: --modle",
    ),
    (
        ["export", "--ckpt_path", "{tmp}/missing.ckpt", "--out", "{tmp}/e"],
        "--ckpt_path takes a .ckpt a fit wrote",
    ),
    (["recipes", "show", "nope"], "unknown recipe 'nope'"),
    (["frobnicate"], "unknown command 'frobnicate'"),
]


@pytest.mark.parametrize(
    ("args", "says"),
    USER_ERRORS,
    ids=[" ".join(a[:3]) + f" #{i}" for i, (a, _) in enumerate(USER_ERRORS)],
)
def test_user_errors_are_one_line_and_exit_status_2(tmp_path, capsys, args, says):
    shards = _shards(tmp_path) if "{shards}" in args else ""
    capsys.readouterr()
    args = [a.replace("{tmp}", str(tmp_path)).replace("{shards}", shards) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(err) == 1 and err[0].startswith("jepa-world: error: "), err
    assert says.replace("{tmp}", str(tmp_path)) in err[0]


def test_debug_flag_or_variable_shows_the_traceback(tmp_path, monkeypatch):
    bad = ["worlds", "generate", "physics2d", "--out", str(tmp_path), "--clips", "2"]
    bad += ["--params", '{"frame": 8}']
    with pytest.raises(ValueError, match="unknown physics2d world parameter"):
        main(["--debug", *bad])
    monkeypatch.setenv("JEPA_WORLD_DEBUG", "1")
    with pytest.raises(ValueError, match="unknown physics2d world parameter"):
        main(bad)


def test_the_command_prints_one_line_and_debug_the_traceback(tmp_path):
    args = [sys.executable, "-m", "jepa_world.cli", "worlds", "generate", "physics2d"]
    args += ["--out", str(tmp_path / "x"), "--clips", "2", "--params", '{"frame": 8}']
    env = {k: v for k, v in os.environ.items() if k != "JEPA_WORLD_DEBUG"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "jepa-world: error: unknown physics2d world parameter 'frame': did you mean 'frames'? "
        + done.stderr.split("'frames'? ", 1)[1].strip()
    ]
    debug = subprocess.run(
        [*args[:3], "--debug", *args[3:]], capture_output=True, text=True, timeout=120, env=env
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_a_bug_keeps_its_traceback_and_other_os_errors_exit_1(monkeypatch, capsys):
    import errno

    import jepa_world.cli as cli

    def bug() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "recipes_list", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["recipes", "list"])

    def disk_full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "runs/x/last.ckpt")

    monkeypatch.setattr(cli, "recipes_list", disk_full)
    with pytest.raises(SystemExit) as exit_info:
        main(["recipes", "list"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 1 and len(err) == 1 and "No space left" in err[0]


def test_worlds_generate_overwrite_replaces_the_folder(tmp_path):
    out = _shards(tmp_path)
    params = '{"frames": 2, "size": 32}'
    main(
        [
            "worlds",
            "generate",
            "physics2d",
            "--out",
            out,
            "--clips",
            "2",
            "--overwrite",
            "--params",
            params,
        ]
    )
    assert json.loads((Path(out) / "index.json").read_text())["clips"] == 2

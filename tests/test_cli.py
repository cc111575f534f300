"""The `jepa-world` dispatcher: the tool subcommands (worlds, recipes) and the process setup."""

from __future__ import annotations

import sys

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

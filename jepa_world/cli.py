"""The ``jepa-world`` command: one dispatcher for training and the tool subcommands.

``jepa-world fit|validate|test|predict --config recipes/NAME.yaml`` is LightningCLI
(:mod:`jepa_world.training.cli`: model and data in subclass mode, so any key can be overridden on
the command line). ``worlds``, ``recipes``, ``export`` and ``probe`` are small tools dispatched
before Lightning is imported.

Errors: a mistake the user can fix (a missing file or folder, a bad key or value, an existing
output) ends the command with one line on stderr, ``jepa-world: error: ...``, and exit status 2;
other operating-system errors (disk full, no permission) with one line and status 1. Anything
else is a bug and keeps its traceback. ``--debug`` (anywhere on the command line) or
``JEPA_WORLD_DEBUG=1`` shows the traceback of every error.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from jepa_world.training import runtime

TOOLS = ("worlds", "recipes", "export", "probe")
RUN_STAGES = ("fit", "validate", "test", "predict")
DEBUG_FLAG = "--debug"
DEBUG_ENV = "JEPA_WORLD_DEBUG"

HELP = """\
usage: jepa-world [--debug] COMMAND [ARGS]

Train, export and probe JEPA video world models.

training (LightningCLI: any key of the config can be overridden, e.g. --trainer.max_steps 100):
  fit        train from a recipe: jepa-world fit --config recipes/quickstart.yaml
             (--ckpt_path last resumes a run; --overwrite replaces a finished run's folder)
  validate   run the validation loop of a config (and --ckpt_path)
  test       run the test loop
  predict    run the predict loop

tools:
  worlds     the embedded worlds: list | preview NAME --out clip.gif | generate NAME --out DIR
  recipes    the shipped recipes: list | show NAME
  export     turn a training checkpoint into an exported model folder
  probe      run a probe or planning suite on an exported model

options:
  --debug    show the traceback of an error (also JEPA_WORLD_DEBUG=1)
  -h, --help show this message; jepa-world COMMAND --help shows a command's options
"""


class UsageError(ValueError):
    """A mistake on the command line, with how to fix it: one line, exit status 2."""


# ---------------------------------------------------------------------- worlds
def worlds_list() -> None:
    """List the embedded worlds."""
    from jepa_world.worlds import WORLDS

    width = max(len(n) for n in WORLDS)
    for name, (_, _, summary) in WORLDS.items():
        print(f"{name:<{width}}  {summary}")


def worlds_preview(name: str, *, out: str, seed: int = 0, prop: str = "permanence") -> None:
    """Write an animated GIF (or PNG film strip) of a world's clip.

    Args:
        name: world name (see ``jepa-world worlds list``).
        out: output file, ``.gif`` or ``.png``.
        seed: clip seed.
        prop: for ``intuitive``, the property whose quadruplet to show.
    """
    from jepa_world.worlds.preview import preview_frames, save_preview

    path = save_preview(preview_frames(name, seed=seed, prop=prop), out)
    print(f"wrote {path}")


def worlds_generate(
    name: str,
    *,
    out: str,
    clips: int,
    params: dict[str, Any] | None = None,
    shard_size: int = 256,
    seed_start: int = 0,
    overwrite: bool = False,
) -> None:
    """Write cached shards of a world that ``ShardDataModule`` reads memory-mapped.

    Args:
        name: world name.
        out: output folder (written atomically).
        clips: number of clips.
        params: world parameters, e.g. ``'{"frames": 16, "num_balls": [1, 3]}'``.
        shard_size: clips per shard.
        seed_start: first clip seed (train seeds start at 0).
        overwrite: replace an existing, non-empty ``out`` folder.
    """
    from jepa_world.data.shards import write_shards

    try:
        shards = write_shards(
            name,
            out,
            clips,
            world_params=params,
            shard_size=shard_size,
            seed_start=seed_start,
            overwrite=overwrite,
        )
    except FileExistsError as err:
        raise UsageError(
            f"--out {out} already exists and is not empty: pass --overwrite to replace it, "
            "or choose another folder"
        ) from err
    print(f"wrote {clips} clips in {len(shards)} shards to {out}")


# ---------------------------------------------------------------------- recipes
def _recipe_dir() -> Path:
    return Path(str(resources.files("jepa_world") / "recipes"))


def recipes_list() -> None:
    """List the shipped pretraining recipes."""
    for path in sorted(_recipe_dir().glob("*.yaml")):
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        print(f"{path.stem:<20}  {first}")


def recipes_show(name: str) -> None:
    """Print a shipped recipe's YAML (copy it, edit it, pass it to ``--config``)."""
    path = _recipe_dir() / f"{Path(name).stem}.yaml"
    if not path.is_file():
        names = sorted(p.stem for p in _recipe_dir().glob("*.yaml"))
        raise UsageError(f"unknown recipe {name!r}: choose one of {names}")
    print(path.read_text(), end="")


# ---------------------------------------------------------------------- export
def export(*, ckpt_path: str, out: str) -> None:
    """Turn a training checkpoint into an exported model folder (config.json + safetensors), or
    rewrite an export from an older jepa-world with the checksums of its weight files.

    Args:
        ckpt_path: a ``.ckpt`` written by ``jepa-world fit``, or an export folder (rewritten with
            weight checksums; ``--out`` may be the same folder).
        out: output folder.
    """
    from jepa_world.hub import add_checksums, save_pretrained

    if Path(ckpt_path).is_dir():
        print(f"exported {add_checksums(ckpt_path, out)} (weight checksums in config.json)")
        return
    from jepa_world.training.callbacks import export_metadata
    from jepa_world.training.checkpoints import module_from_checkpoint

    with _hint(ckpt_path, "--ckpt_path takes a .ckpt a fit wrote (<run>/checkpoints/last.ckpt)"):
        module = module_from_checkpoint(ckpt_path)
    print(f"exported {save_pretrained(module, out, metadata=export_metadata(module))}")


# ---------------------------------------------------------------------- probe
def probe(*, suite: str, model: str, out: str) -> None:
    """Run a probe suite on a model; write OUT/report.json, report.md and plots.

    Args:
        suite: suite YAML (e.g. ``probes/physics.yaml``) or the name of a shipped suite.
        model: a model string: an export folder, ``timm:<name>``, ``torchvision:<name>``,
            ``hf:<folder or id>`` or ``py:<module>:<factory>`` (docs/probes.md, "Probe any model").
        out: output folder for the report.
    """
    from jepa_world.evaluation.command import check_suite
    from jepa_world.evaluation.command import probe as run_probe

    check_suite(suite)  # a bad suite is named before the model is looked at
    hint = (
        "--model takes an export folder (a run's encoder/) or a model string "
        "(timm:, torchvision:, hf:, py:)"
    )
    with _hint(model, hint):
        run_probe(suite, model, out)


class _hint:
    """Add how to fix it to a ``FileNotFoundError`` about ``path`` (a ``UsageError`` then)."""

    def __init__(self, path: str, how: str) -> None:
        self.path, self.how = str(path), how

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, err, tb) -> bool:
        if isinstance(err, FileNotFoundError) and self.path in str(err):
            raise UsageError(f"{one_line(str(err))}: {self.how}") from err
        return False


def run_tool(argv: list[str]) -> None:
    """Dispatch the tool subcommands with jsonargparse (typed flags, --help from docstrings)."""
    from jsonargparse import CLI

    components = {
        "worlds": {"list": worlds_list, "preview": worlds_preview, "generate": worlds_generate},
        "recipes": {"list": recipes_list, "show": recipes_show},
        "export": export,
        "probe": probe,
    }
    CLI(components, args=bare_flags(argv), as_positional=True, exit_on_error=False)


FLAGS = ("--overwrite",)


def bare_flags(argv: list[str]) -> list[str]:
    """``--overwrite`` alone means ``--overwrite true`` (jsonargparse wants the value)."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        following = argv[i + 1].lower() if i + 1 < len(argv) else ""
        if arg in FLAGS and following not in ("true", "false", "yes", "no"):
            out.append("true")
    return out


# ---------------------------------------------------------------------- training
def resolve_config_paths(argv: list[str]) -> list[str]:
    """Let ``--config recipes/NAME.yaml`` find the packaged recipe outside a source checkout."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--config" and not Path(out[i + 1]).exists():
            packaged = _recipe_dir() / Path(out[i + 1]).name
            if packaged.is_file():
                out[i + 1] = str(packaged)
    return out


def build_cli(args: list[str] | None = None, run: bool = True, exit_on_error: bool = True) -> Any:
    """The training CLI; importable so tests can drive it in-process (``exit_on_error``: see
    :class:`~jepa_world.training.cli.JepaLightningCLI`)."""
    from jepa_world.training.cli import JepaLightningCLI

    return JepaLightningCLI(args=args, run=run, exit_on_error=exit_on_error)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``jepa-world``; from the command line (``argv`` None) it also applies the
    process settings of :mod:`jepa_world.training.runtime`. User errors end the command with one
    line and exit status 2 (see the module docstring); ``--debug`` keeps the traceback."""
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, "0") not in ("", "0")
    argv = [arg for arg in argv if arg != DEBUG_FLAG]
    if from_command_line:
        if debug:  # DDP launchers re-run the command in child processes: they debug too
            os.environ[DEBUG_ENV] = "1"
        runtime.tune_process()
    if not argv or argv[0] in ("-h", "--help"):
        print(HELP, end="")
        raise SystemExit(0 if argv else 2)
    try:
        dispatch(argv, from_command_line)
    except Exception as err:
        status = exit_status(err)
        if debug or status is None:
            raise
        print(f"jepa-world: error: {describe(err, argv)}", file=sys.stderr, flush=True)
        raise SystemExit(status) from None


def exit_status(err: BaseException) -> int | None:
    """2 for a user error, 1 for another operating-system error, None for a bug (traceback)."""
    user = (ValueError, argparse.ArgumentError, FileNotFoundError, FileExistsError)
    if isinstance(err, user + (NotADirectoryError, IsADirectoryError)):
        return 2
    return 1 if isinstance(err, OSError) else None


def describe(err: BaseException, argv: list[str]) -> str:
    """One line saying what is wrong; parse errors add where the options are listed."""
    text = one_line(str(err) or type(err).__name__)
    if isinstance(err, argparse.ArgumentError):
        command = argv[:1] if argv[0] in TOOLS + RUN_STAGES else []
        if command and command[0] in ("worlds", "recipes") and argv[1:2] != ["--help"]:
            command += argv[1:2]
        text += f" ({' '.join(['jepa-world', *command, '--help'])} lists the options)"
    return text


def one_line(text: str) -> str:
    """The first line of a message, or for jsonargparse's nested report (``Parser key "model":``
    then one indented reason per type tried) the key and the innermost class-path problem."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else text
    for i, line in enumerate(lines[:-1]):
        if line.startswith("- Problem with given class_path"):
            return f"{lines[0]} {line[2:]} {lines[i + 1]}"
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") else lines[0]


def dispatch(argv: list[str], from_command_line: bool) -> None:
    """Run a tool subcommand, or LightningCLI for fit / validate / test / predict."""
    if argv and not argv[0].startswith("-") and argv[0] not in TOOLS + RUN_STAGES:
        raise UsageError(
            f"unknown command {argv[0]!r}: choose one of {', '.join(RUN_STAGES + TOOLS)} "
            "(jepa-world --help)"
        )
    if argv and argv[0] in TOOLS:
        run_tool(argv)
        return
    argv = resolve_config_paths(argv)
    if from_command_line:
        # LightningCLI reads sys.argv itself, and DDP launchers re-run it in each child process.
        sys.argv[1:] = argv
        build_cli(exit_on_error=False)
    else:
        build_cli(argv, exit_on_error=False)


if __name__ == "__main__":
    main()

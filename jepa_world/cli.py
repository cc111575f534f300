"""The ``jepa-world`` command: one dispatcher for training and the tool subcommands.

``jepa-world fit|validate|test|predict --config recipes/NAME.yaml`` is LightningCLI
(:mod:`jepa_world.training.cli`: model and data in subclass mode, so any key can be overridden on
the command line). ``worlds``, ``recipes``, ``export`` and ``probe`` are small tools dispatched
before Lightning is imported.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from jepa_world.training import runtime
from jepa_world.training.class_paths import MovedClassPath

TOOLS = ("worlds", "recipes", "export", "probe")
RUN_STAGES = ("fit", "validate", "test", "predict")


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
) -> None:
    """Write cached shards of a world that ``ShardDataModule`` reads memory-mapped.

    Args:
        name: world name.
        out: output folder (written atomically).
        clips: number of clips.
        params: world parameters, e.g. ``'{"frames": 16, "num_balls": [1, 3]}'``.
        shard_size: clips per shard.
        seed_start: first clip seed (train seeds start at 0).
    """
    from jepa_world.data.shards import write_shards

    shards = write_shards(
        name, out, clips, world_params=params, shard_size=shard_size, seed_start=seed_start
    )
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
        raise SystemExit(f"unknown recipe {name!r}: choose one of {names}")
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
    from jepa_world.evaluation.command import probe as run_probe

    run_probe(suite, model, out)


def run_tool(argv: list[str]) -> None:
    """Dispatch the tool subcommands with jsonargparse (typed flags, --help from docstrings)."""
    from jsonargparse import CLI

    components = {
        "worlds": {"list": worlds_list, "preview": worlds_preview, "generate": worlds_generate},
        "recipes": {"list": recipes_list, "show": recipes_show},
        "export": export,
        "probe": probe,
    }
    CLI(components, args=argv, as_positional=True)


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


def build_cli(args: list[str] | None = None, run: bool = True) -> Any:
    """The training CLI; importable so tests can drive it in-process."""
    from jepa_world.training.cli import JepaLightningCLI

    return JepaLightningCLI(args=args, run=run)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``jepa-world``; from the command line (``argv`` None) it also applies the
    process settings of :mod:`jepa_world.training.runtime`, and an old class path in a config,
    argument or checkpoint ends the run with one line naming the new path."""
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if from_command_line:
        runtime.tune_process()
    try:
        dispatch(argv, from_command_line)
    except MovedClassPath as err:
        raise SystemExit(str(err)) from None


def dispatch(argv: list[str], from_command_line: bool) -> None:
    """Run a tool subcommand, or LightningCLI for fit / validate / test / predict."""
    if argv and argv[0] in TOOLS:
        run_tool(argv)
        return
    argv = resolve_config_paths(argv)
    if from_command_line:
        # LightningCLI reads sys.argv itself, and DDP launchers re-run it in each child process.
        sys.argv[1:] = argv
        build_cli()
    else:
        build_cli(argv)


if __name__ == "__main__":
    main()

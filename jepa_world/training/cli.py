"""LightningCLI for ``fit / validate / test / predict`` with one run folder per run.

Everything a run writes lives under ``trainer.default_root_dir``: ``checkpoints/``,
``encoder/`` (export callback), the logger's files and the resolved ``config.yaml``. The clip
geometry (frames, size, channels) is linked from the data module into the model, so a recipe
states it once.

Run-folder and logging rules applied before the classes are built:

- a new ``fit`` into a folder that already holds an export or checkpoints is refused unless
  ``--overwrite`` is given (which deletes them first); ``--ckpt_path`` (resume) never is;
- ``WANDB_MODE`` wins over a recipe's ``offline: true`` (``disabled`` drops the wandb logger);
  a logger without ``save_dir`` writes into the run folder; with no logger at all
  (``--trainer.logger false``) a ``LearningRateMonitor`` is dropped instead of failing;
- when stdout is not a terminal the progress bar is off and
  :class:`~jepa_world.training.progress.StepLines` prints plain lines.

The ``jepa-world`` command builds it with ``exit_on_error=False`` and prints a parse error as one
line.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback

from jepa_world.training.class_paths import check_class_paths, strings

__all__ = [
    "JepaLightningCLI",
    "RunConfigSaver",
    "RunFolderInUse",
    "check_arguments",
    "check_run_folder",
    "clear_run_folder",
    "run_outputs",
]

CHECKPOINT_CLASSES = ("lightning.pytorch.callbacks.ModelCheckpoint", "ModelCheckpoint")
WANDB_CLASSES = ("lightning.pytorch.loggers.WandbLogger", "WandbLogger")
EXPORT_CLASSES = ("jepa_world.training.callbacks.EncoderExport", "EncoderExport")
SUBCOMMANDS = ("fit", "validate", "test", "predict")


class RunFolderInUse(FileExistsError):
    """A new fit would replace another run's export or checkpoints."""


class RunConfigSaver(SaveConfigCallback):
    """Write the resolved config to ``<run>/config.yaml`` whatever the logger's own folder is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["save_to_log_dir"] = False
        super().__init__(*args, **kwargs)

    def save_config(self, trainer, pl_module, stage: str) -> None:
        if not trainer.is_global_zero:
            return
        os.makedirs(trainer.default_root_dir, exist_ok=True)
        path = os.path.join(trainer.default_root_dir, self.config_filename)
        self.parser.save(self.config, path, skip_none=False, overwrite=True, multifile=False)


class JepaLightningCLI(LightningCLI):
    """LightningCLI with jepa-world's run-folder conventions."""

    def __init__(
        self,
        args: list[str] | None = None,
        run: bool = True,
        exit_on_error: bool = True,
        **kwargs: Any,
    ) -> None:
        """``exit_on_error`` False: a parse error raises ``argparse.ArgumentError`` instead of
        printing the usage and exiting (the ``jepa-world`` command prints it as one line)."""
        super().__init__(
            model_class=LightningModule,
            datamodule_class=LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            save_config_callback=RunConfigSaver,
            save_config_kwargs={"overwrite": True},
            parser_kwargs={
                "exit_on_error": exit_on_error,
                **{name: {"exit_on_error": exit_on_error} for name in SUBCOMMANDS},
            },
            args=args,
            run=run,
            **kwargs,
        )

    def instantiate_trainer(self, **kwargs: Any) -> Any:
        """The trainer, writing its checkpoints crash-safe (:class:`AtomicCheckpointIO`)."""
        from jepa_world.training.checkpoints import install_atomic_checkpoints

        trainer = super().instantiate_trainer(**kwargs)
        install_atomic_checkpoints(trainer)
        return trainer

    def parse_arguments(self, parser, args) -> None:
        """Reject old class paths in the arguments and config files, then parse."""
        check_arguments(args)
        super().parse_arguments(parser, args)

    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any):
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        if subcommand == "fit":
            parser.add_argument(
                "--overwrite",
                action="store_true",
                help="Start a new run in a run folder that already holds an export or "
                "checkpoints, replacing them (without it such a fit is refused; --ckpt_path "
                "resumes instead).",
            )
        return parser

    def add_arguments_to_parser(self, parser) -> None:
        for source, target in (
            ("frames", "frames"),
            ("size", "img_size"),
            ("channels", "in_chans"),
        ):
            parser.link_arguments(
                "data",
                f"model.init_args.{target}",
                compute_fn=_attribute_getter(source),
                apply_on="instantiate",
            )

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        root = trainer.default_root_dir or os.getcwd()
        for callback in _as_list(trainer.get("callbacks")):
            if _class_path(callback) in CHECKPOINT_CLASSES and not callback.init_args.get(
                "dirpath"
            ):
                callback.init_args.dirpath = os.path.join(root, "checkpoints")
        trainer.logger = _loggers(trainer.get("logger"), root, os.environ.get("WANDB_MODE"))
        if not sys.stdout.isatty():
            trainer.enable_progress_bar = False
        if self.subcommand == "fit" and not config.get("ckpt_path"):
            callbacks = _as_list(trainer.get("callbacks"))
            if config.get("overwrite"):
                clear_run_folder(root, callbacks)
            else:
                check_run_folder(root, callbacks)

    def after_instantiate_classes(self) -> None:
        super().after_instantiate_classes()
        from lightning.pytorch.callbacks import LearningRateMonitor

        from jepa_world.training.progress import StepLines

        callbacks = self.trainer.callbacks
        if not self.trainer.loggers:  # the monitor would fail at the first step
            callbacks[:] = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
        if not sys.stdout.isatty() and not any(isinstance(c, StepLines) for c in callbacks):
            callbacks.insert(0, StepLines())


def run_outputs(root: str, callbacks: list[Any]) -> list[Path]:
    """The export and checkpoint folders of the run in ``root`` that hold files."""
    names = [
        c.init_args.get("dirname") or "encoder"
        for c in callbacks
        if _class_path(c) in EXPORT_CLASSES
    ] or ["encoder"]
    dirs = [c.init_args.get("dirpath") for c in callbacks if _class_path(c) in CHECKPOINT_CLASSES]
    candidates = [Path(root, name) for name in names] + [Path(d) for d in dirs if d]
    return [p for p in candidates if p.is_dir() and any(p.iterdir())]


def check_run_folder(root: str, callbacks: list[Any]) -> None:
    """Raise :class:`RunFolderInUse` when ``root`` holds an export or checkpoints of a run."""
    held = run_outputs(root, callbacks)
    if held:
        raise RunFolderInUse(
            f"run folder {root} already holds {', '.join(str(p) for p in held)}: resume it with "
            "--ckpt_path last, replace it with --overwrite, or start elsewhere with "
            "--trainer.default_root_dir NEW_FOLDER"
        )


def clear_run_folder(root: str, callbacks: list[Any]) -> None:
    """``--overwrite``: delete the old run's export and checkpoints (rank 0), so nothing of it
    is left beside the new run (ModelCheckpoint would write ``last-v1.ckpt`` beside the old
    ``last.ckpt``, and ``--ckpt_path last`` could resume either)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    if getattr(rank_zero_only, "rank", 0) == 0:
        for path in run_outputs(root, callbacks):
            shutil.rmtree(path)


LOGGER_DIR_KEYS = {
    "WandbLogger": "save_dir",
    "CSVLogger": "save_dir",
    "TensorBoardLogger": "save_dir",
}


def _loggers(value: Any, root: str, wandb_mode: str | None) -> Any:
    """The trainer's ``logger`` value with the rules of the module docstring applied."""
    if value is None or isinstance(value, bool):
        return value
    kept = []
    for logger in _as_list(value):
        name = (_class_path(logger) or "").rsplit(".", 1)[-1]
        if name == "WandbLogger" and wandb_mode:
            if wandb_mode == "disabled":
                continue
            logger.init_args.offline = False  # Lightning would force WANDB_MODE=dryrun
        key = LOGGER_DIR_KEYS.get(name)
        if key and logger.init_args.get(key) in (None, "", "."):
            logger.init_args[key] = root
            os.makedirs(root, exist_ok=True)
        kept.append(logger)
    if not kept:
        return False
    return kept if isinstance(value, list) else kept[0]


CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def check_arguments(args: Any) -> None:
    """Raise :class:`~jepa_world.training.class_paths.MovedClassPath` when a command-line value,
    a config file it names, or an argument mapping names an old class path."""
    if args is None:
        args = sys.argv[1:]
    if isinstance(args, dict):
        check_class_paths(strings(args), where="arguments")
        return
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if value.endswith(CONFIG_SUFFIXES) and Path(value).is_file():
            try:
                config = yaml.safe_load(Path(value).read_text())
            except yaml.YAMLError:  # LightningCLI names what is wrong with it
                continue
            check_class_paths(strings(config), where=value)
        else:
            check_class_paths([value], where=f"argument {arg!r}")


def _attribute_getter(name: str):
    def get(data: Any) -> Any:
        return getattr(data, name)

    get.__name__ = f"get_{name}"
    return get


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool):
        return []
    return list(value) if isinstance(value, list) else [value]


def _class_path(node: Any) -> str | None:
    return getattr(node, "class_path", None) if node is not None else None

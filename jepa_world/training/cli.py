"""LightningCLI for ``fit / validate / test / predict`` with one run folder per run.

Everything a run writes lives under ``trainer.default_root_dir``: ``checkpoints/``,
``encoder/`` (export callback), the logger's files and the resolved ``config.yaml``. The clip
geometry (frames, size, channels) is linked from the data module into the model, so a recipe
states it once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback

from jepa_world.training.class_paths import check_class_paths, strings

__all__ = ["JepaLightningCLI", "RunConfigSaver", "check_arguments"]

CHECKPOINT_CLASSES = ("lightning.pytorch.callbacks.ModelCheckpoint", "ModelCheckpoint")
WANDB_CLASSES = ("lightning.pytorch.loggers.WandbLogger", "WandbLogger")


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

    def __init__(self, args: list[str] | None = None, run: bool = True, **kwargs: Any) -> None:
        super().__init__(
            model_class=LightningModule,
            datamodule_class=LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            save_config_callback=RunConfigSaver,
            save_config_kwargs={"overwrite": True},
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
        for logger in _as_list(trainer.get("logger")):
            unset = logger.init_args.get("save_dir") in (None, "", ".") if logger else False
            if _class_path(logger) in WANDB_CLASSES and unset:
                logger.init_args.save_dir = root
                os.makedirs(root, exist_ok=True)


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

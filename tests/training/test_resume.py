"""Resume is exact with the quickstart recipe's own settings, and a full disk loses no run.

The runs use the recipe as shipped (validation between steps with the online velocity probe, an
EMA target on its momentum schedule, a checkpoint every N steps, one dataloader worker), shrunk by
the tests' TINY_ARGS. Two changes keep them short and change no weight: the probe suite that
runs after training is dropped and the online probe draws 16 clips instead of 256.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest
import torch
import yaml

from jepa_world.atomic import WriteError
from jepa_world.cli import build_cli

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"
EVERY = 2  # checkpoint and validation interval (steps)
STEPS = 4


def tiny_recipe(folder: Path, keep_all: bool = True) -> Path:
    """The quickstart recipe, a checkpoint every EVERY steps, all of them kept when ``keep_all``
    (else only last.ckpt, as in the recipe); the sizes come from TINY_ARGS."""
    config = yaml.safe_load(QUICKSTART.read_text())
    callbacks = []
    for callback in config["trainer"]["callbacks"]:
        name = callback["class_path"].rsplit(".", 1)[-1]
        if name == "ModelCheckpoint":
            callback["init_args"].update(
                every_n_train_steps=EVERY, save_top_k=-1 if keep_all else 0
            )
        elif name == "OnlineVelocityProbe":
            callback["init_args"]["clips"] = 16
        elif name == "ProbeSuite":
            continue
        callbacks.append(callback)
    config["trainer"]["callbacks"] = callbacks
    path = folder / f"recipe{'_all' if keep_all else ''}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def fit(recipe: Path, run: Path, tiny_args, *extra: str):
    args = [a for a in tiny_args if "callbacks.suite" not in a and "num_workers" not in a]
    return build_cli(
        [
            "fit",
            f"--config={recipe}",
            *args,
            f"--trainer.val_check_interval={EVERY}",
            f"--trainer.max_steps={STEPS}",
            f"--trainer.default_root_dir={run}",
            *extra,
        ]
    )


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    diffs = {k: (wa[k] - wb[k]).abs().max().item() for k in wa if wa[k].is_floating_point()}
    worst = max(diffs, key=diffs.get)
    assert all(torch.equal(wa[k], wb[k]) for k in wa), f"max |diff| {diffs[worst]:.3g} in {worst}"


@pytest.fixture(scope="module", autouse=True)
def _subnormals_flushed():
    """Train as the jepa-world command does (subnormal floats flushed: about 2x faster here)."""
    from jepa_world.training.runtime import flush_denormal_floats

    flush_denormal_floats()
    yield
    torch.set_flush_denormal(False)


@pytest.fixture(scope="module")
def straight(tmp_path_factory, tiny_args) -> tuple[Path, Path]:
    """The recipe (tiny) run for STEPS steps without a stop: (recipe, run folder)."""
    root = tmp_path_factory.mktemp("resume")
    recipe = tiny_recipe(root)
    run = root / "straight"
    fit(recipe, run, tiny_args)
    assert (run / "checkpoints" / f"epoch=0-step={EVERY}.ckpt").is_file()
    return recipe, run


def test_resumed_run_equals_uninterrupted_run_weight_for_weight(straight, tmp_path, tiny_args):
    recipe, run = straight
    middle = run / "checkpoints" / f"epoch=0-step={EVERY}.ckpt"
    fit(recipe, tmp_path, tiny_args, f"--ckpt_path={middle}")
    assert_same_weights(run / "checkpoints" / "last.ckpt", tmp_path / "checkpoints" / "last.ckpt")
    # the run did train: the weights moved between the two checkpoints
    first, last = weights(middle), weights(run / "checkpoints" / "last.ckpt")
    assert any(not torch.equal(first[k], last[k]) for k in first)


def _fill_disk_at_second_checkpoint(monkeypatch) -> list[str]:
    """Let the first checkpoint write through, then fill the disk in the middle of the next one;
    return the temporary files written to."""
    real_write, seen = os.write, []

    def write(fd: int, data) -> int:
        try:
            name = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            name = ""
        if ".ckpt." not in name or not name.endswith(".tmp"):
            return real_write(fd, data)
        if name not in seen:
            seen.append(name)
        elif len(seen) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if len(seen) > 1:
            return real_write(fd, bytes(memoryview(data)[:4096]))  # a few bytes fit, no more
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds file names in /proc")
def test_disk_full_keeps_the_last_checkpoint_and_the_run_resumes(
    straight, tmp_path, monkeypatch, tiny_args
):
    _, run = straight
    recipe = tiny_recipe(tmp_path, keep_all=False)  # only last.ckpt, as in the recipe
    last = tmp_path / "checkpoints" / "last.ckpt"

    seen = _fill_disk_at_second_checkpoint(monkeypatch)
    with pytest.raises(WriteError) as caught:
        fit(recipe, tmp_path, tiny_args)
    monkeypatch.undo()
    message = str(caught.value)
    assert len(seen) == 2 and caught.value.errno == errno.ENOSPC
    assert message.startswith(f"disk full while writing {last}: ") and "\n" not in message
    assert "the previous checkpoint is kept" in message
    assert_same_weights(run / "checkpoints" / f"epoch=0-step={EVERY}.ckpt", last)
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.ckpt"]  # no temporary left

    fit(recipe, tmp_path, tiny_args, "--ckpt_path=last")  # room again: the run goes on
    assert_same_weights(run / "checkpoints" / "last.ckpt", last)

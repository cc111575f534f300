"""Kill a tiny fit with SIGKILL at random points: every run resumes, nothing left is unreadable.

A driver process imports jepa-world once and forks each fit from itself (a fresh interpreter per
fit would spend most of the test importing). It runs one uninterrupted reference fit, then ten
fits each killed after a delay drawn from a fixed seed over the reference's duration; after each
kill it copies the run folder aside and resumes the run with ``--ckpt_path last``. The test then
loads every checkpoint and export the kills left, and compares every resumed run with the
reference weight for weight. Files inside hidden temporaries (``.NAME.*.tmp``, ``.NAME.tmp-*/``)
are the unfinished writes that the renames never published; they are not part of a run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

QUICKSTART = Path(__file__).parents[2] / "recipes" / "quickstart.yaml"
KILLS = 10
SEED = 34
STEPS = 4


def tiny_recipe(folder: Path) -> Path:
    """The quickstart recipe with a checkpoint every step (many writes to be killed in) and the
    export at the end; the probe suite is left out (it only reads the export)."""
    config = yaml.safe_load(QUICKSTART.read_text())
    callbacks = []
    for callback in config["trainer"]["callbacks"]:
        name = callback["class_path"].rsplit(".", 1)[-1]
        if name == "ModelCheckpoint":
            callback["init_args"]["every_n_train_steps"] = 1
        elif name == "OnlineVelocityProbe":
            callback["init_args"]["clips"] = 16
        elif name == "ProbeSuite":
            continue
        callbacks.append(callback)
    config["trainer"]["callbacks"] = callbacks
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# ----------------------------------------------------------------------------- driver process


def _fork_fit(args: list[str], log: Path, delay: float | None) -> dict:
    """Run ``jepa-world fit ARGS`` in a forked child; SIGKILL it after ``delay`` seconds."""
    from jepa_world.cli import build_cli
    from jepa_world.training import runtime

    pid = os.fork()
    if pid == 0:  # the child: one fit, output to its log, never back into the driver
        code = 1
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            torch.set_num_threads(1)
            runtime.tune_process()  # as the jepa-world command does
            build_cli(args)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    start, status, killed = time.monotonic(), None, False
    if delay is not None:
        while status is None and time.monotonic() - start < delay:
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
            time.sleep(0.005)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            killed = True
    if status is None:
        _, status = os.waitpid(pid, 0)
    return {
        "killed": killed,
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": time.monotonic() - start,
    }


def drive(spec_file: str) -> None:
    """The driver: reference fit, then KILLS killed-and-resumed fits (see the module docstring)."""
    import shutil

    import jepa_world.cli  # noqa: F401  (imported once, before the forks)
    import jepa_world.training.cli  # noqa: F401

    try:
        import wandb  # noqa: F401  (the recipe's logger, disabled)
    except ImportError:
        pass
    spec = json.loads(Path(spec_file).read_text())
    root = Path(spec["root"])

    def args(run: Path, *extra: str) -> list[str]:
        return ["fit", *spec["args"], f"--trainer.default_root_dir={run}", *extra]

    reference = _fork_fit(args(root / "reference"), root / "reference.log", None)
    report = {"reference": reference, "runs": []}
    rng = np.random.default_rng(spec["seed"])
    for i, fraction in enumerate(rng.uniform(0.02, 1.0, spec["kills"])):
        run, log = root / f"run{i}", root / f"run{i}.log"
        killed = _fork_fit(args(run), log, fraction * reference["seconds"])
        if run.exists():
            shutil.copytree(run, root / f"killed{i}", symlinks=True)
        resumed = _fork_fit(args(run, "--ckpt_path=last"), log, None)
        report["runs"].append({"delay": fraction, "killed": killed, "resumed": resumed})
    (root / "report.json").write_text(json.dumps(report, indent=1))


# ----------------------------------------------------------------------------------- the test


def published(folder: Path, suffix: str) -> list[Path]:
    """Files with ``suffix`` under ``folder``, outside hidden temporaries."""
    return sorted(
        p
        for p in folder.rglob(f"*{suffix}")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def unreadable(folder: Path) -> list[str]:
    """Every checkpoint, export and safetensors file under ``folder`` that does not load."""
    from safetensors.torch import load_file

    from jepa_world.hub import load_encoder, load_world_model
    from jepa_world.training.checkpoints import load_checkpoint

    bad = []
    for path in published(folder, ".ckpt"):
        try:
            load_checkpoint(path)
        except Exception as err:
            bad.append(f"{path}: {err}")
    for path in published(folder, ".safetensors"):
        try:
            load_file(path)
        except Exception as err:
            bad.append(f"{path}: {err}")
    for config in published(folder, "config.json"):
        try:
            load_encoder(config.parent)
            load_world_model(config.parent)
        except Exception as err:
            bad.append(f"{config.parent}: {err}")
    return bad


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks each fit from a driver process")
def test_sigkilled_fits_all_resume_and_leave_nothing_unreadable(tmp_path, tiny_args):
    args = [a for a in tiny_args if "callbacks.suite" not in a]
    spec = {
        "root": str(tmp_path),
        "seed": SEED,
        "kills": KILLS,
        "args": [f"--config={tiny_recipe(tmp_path)}", *args, f"--trainer.max_steps={STEPS}"],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")]
        ),
        "WANDB_MODE": "disabled",
        "OMP_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path / "spec.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["reference"]["exit"] == 0, (tmp_path / "reference.log").read_text()[-3000:]
    reference = weights(tmp_path / "reference" / "checkpoints" / "last.ckpt")

    kills = [r for r in report["runs"] if r["killed"]["killed"]]
    assert len(kills) >= KILLS // 2, report  # most delays end inside the run
    for i, run in enumerate(report["runs"]):
        log = (tmp_path / f"run{i}.log").read_text()[-3000:]
        assert run["resumed"]["exit"] == 0, log
        folder = tmp_path / f"run{i}"
        last = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)
        assert last["global_step"] == STEPS
        resumed = weights(folder / "checkpoints" / "last.ckpt")
        assert all(torch.equal(resumed[k], reference[k]) for k in reference), f"run{i}"
        assert not (bad := unreadable(folder)), bad
        if (tmp_path / f"killed{i}").exists():
            assert not (bad := unreadable(tmp_path / f"killed{i}")), bad


if __name__ == "__main__":
    drive(sys.argv[1])

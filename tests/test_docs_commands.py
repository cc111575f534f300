"""Every fenced shell command and Python snippet in README.md and docs/*.md runs here, at tiny
sizes, or is marked not runnable in CI: ``<!-- not-run: REASON -->`` on the line before its fence.

Every fence names its language; ``text`` (output, folder trees) and data formats are not run.
Each runnable block runs in a fresh folder holding the checkout's ``recipes/``, in this process
(no interpreter start-up per command), with these substitutions, which are all it changes:

- ``jepa-world ARGS`` calls :func:`jepa_world.cli.main`. A ``fit`` gets tiny overrides: the
  recipe's model shrunk (placed right after ``--config``, so keys the command sets win) and a
  2-step budget on tiny clips, CPU, one process, no validation, and the end-of-fit probe suite
  cut to ``tests/docs_suites/fit_end.yaml`` (placed last).
- Suites: a shipped suite (``physics``, ``two_rooms``, ``probes/NAME.yaml``) means the suite of
  that name in ``tests/docs_suites/``: the same kind and probes, a few clips or episodes each.
- ``runs/quickstart`` and ``runs/two_rooms`` (what the docs' fits write) are copied in from one
  tiny fit each when a block reads them without running a fit itself.
- ``pip install -e .`` / ``pip install -e ".[EXTRA]"`` checks that the extras exist in
  pyproject.toml: the test environment is that install.
- ``python FILE ARGS`` runs the file with those arguments; ``NAME=VALUE cmd`` sets a variable.

A shell block is split into commands: ``\\`` continues a line, ``#`` starts a comment, ``&&`` and
``;`` chain, ``> FILE`` sends stdout to a file. Any other command fails the test: mark the block
not-run, with the reason, or teach this module the command.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "shell", "console")
RUNNABLE = (*SHELL, "python")
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
DOCS_SUITES = ROOT / "tests" / "docs_suites"
TINY_SUITES = {p.stem: p for p in DOCS_SUITES.glob("*.yaml") if p.stem != "fit_end"}

# fit overrides per task class: (model shrink, before the command's arguments; budget, after)
TRAINER_BUDGET = [
    "--trainer.accelerator=cpu",
    "--trainer.devices=1",
    "--trainer.num_nodes=1",
    "--trainer.strategy=auto",
    "--trainer.precision=32-true",
    "--trainer.max_steps=2",
    "--trainer.val_check_interval=100",  # no validation: 2 steps say nothing
    "--trainer.log_every_n_steps=1",
    "--data.init_args.batch_size=4",
    "--data.init_args.val_clips=4",
    "--data.init_args.num_workers=0",
]
TINY_FIT = {
    "JEPA": (
        [
            '--model.init_args.encoder_kwargs={"embed_dim": 16, "keypoints": 4, "width": 8, '
            '"depth": 0}',
            "--model.init_args.predictor_depth=1",
            "--model.init_args.predictor_dim=16",
            "--model.init_args.predictor_heads=2",
            "--model.init_args.context_steps=1",
            "--model.init_args.horizons=[1, 2]",
            "--model.init_args.warmup_steps=1",
        ],
        [
            *TRAINER_BUDGET,
            '--data.init_args.world_params={"frames": 4}',  # 64 px, the size the docs use
            f"--trainer.callbacks.suite={DOCS_SUITES / 'fit_end.yaml'}",  # the ProbeSuite
        ],
    ),
    "ActionJEPA": (
        [
            '--model.init_args.encoder_kwargs={"embed_dim": 8, "keypoints": 4, "width": 8, '
            '"depth": 0}',
            '--model.init_args.predictor_kwargs={"hidden": 16, "depth": 1}',
            "--model.init_args.idm_hidden=16",
            "--model.init_args.rollout_steps=2",
            "--model.init_args.warmup_steps=1",
            "--model.init_args.refit=null",
        ],
        [*TRAINER_BUDGET, '--data.init_args.world_params={"frames": 4}'],
    ),
}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its not-run reason (or None)."""

    page: str
    line: int
    lang: str
    text: str
    not_run: str | None


def blocks() -> list[Block]:
    """Every fenced block of the pages, in page order."""
    found = []
    for page in PAGES:
        lines = page.read_text().splitlines()
        i = 0
        while i < len(lines):
            match = FENCE.match(lines[i])
            if not match:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = NOT_RUN.match(before)
            text = "\n".join(line[len(match["indent"]) :] for line in lines[i + 1 : end])
            name = page.relative_to(ROOT).as_posix()
            found.append(Block(name, i + 1, match["lang"], text, marker and marker["reason"]))
            i = end + 1
    return found


BLOCKS = blocks()
TO_RUN: dict[tuple[str, str], list[Block]] = {}
for _block in BLOCKS:
    if _block.lang in RUNNABLE and _block.not_run is None:
        TO_RUN.setdefault((_block.lang, _block.text), []).append(_block)


def test_every_fence_names_its_language_and_every_marker_a_reason():
    unnamed = [f"{b.page}:{b.line}" for b in BLOCKS if not b.lang]
    assert not unnamed, f"fences without a language (```text for output): {unnamed}"
    empty = [f"{b.page}:{b.line}" for b in BLOCKS if b.not_run is not None and not b.not_run]
    assert not empty, f"not-run markers without a reason: {empty}"
    for page in PAGES:  # a marker must stand right before a fence
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if NOT_RUN.match(line.strip()):
                after = next((x for x in lines[i + 1 :] if x.strip()), "")
                assert FENCE.match(after), f"{page.name}:{i + 1}: marker not before a fence"


def test_the_docs_have_commands_to_run():
    assert {lang for lang, _ in TO_RUN} >= {"bash", "python"}


# ----------------------------------------------------------------------------- the workspace
@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> Path:
    """``runs/quickstart`` and ``runs/two_rooms`` from one tiny fit each (2 steps)."""
    folder = tmp_path_factory.mktemp("docs_runs")
    with _workspace(folder), _tiny_suites():
        for recipe in ("quickstart", "two_rooms"):
            _jepa_world(["fit", "--config", f"recipes/{recipe}.yaml"], io.StringIO())
    return folder / "runs"


@contextlib.contextmanager
def _workspace(folder: Path):
    (folder / "recipes").mkdir(parents=True, exist_ok=True)
    for recipe in (ROOT / "recipes").glob("*.yaml"):
        shutil.copy(recipe, folder / "recipes" / recipe.name)
    probes = folder / "probes"
    probes.mkdir(exist_ok=True)
    for name, path in TINY_SUITES.items():
        shutil.copy(path, probes / f"{name}.yaml")
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _tiny_suites():
    """Shipped suite names resolve to the tiny suites (the ``probes/NAME.yaml`` files of the
    workspace already are the tiny ones)."""
    import jepa_world.evaluation.suite as suite

    real = suite.resolve_suite_path

    def tiny(path):
        name = Path(str(path)).stem
        if not Path(str(path)).is_file() and name in TINY_SUITES:
            return TINY_SUITES[name]
        return real(path)

    suite.resolve_suite_path = tiny
    try:
        yield
    finally:
        suite.resolve_suite_path = real


# ----------------------------------------------------------------------------- commands
def _tiny_fit(args: list[str]) -> list[str]:
    """The fit's arguments with the tiny overrides: the shrink right after ``--config`` (the model
    class must be known first), so the command's own keys win; the budget at the end."""
    at = next(
        (i for i, a in enumerate(args) if a in ("--config", "-c") or a.startswith("--config=")),
        None,
    )
    assert at is not None, f"a docs fit without --config: {args}"
    end = at + 1 if "=" in args[at] else at + 2
    config = args[at].split("=", 1)[1] if "=" in args[at] else args[at + 1]
    task = yaml.safe_load(Path(config).read_text())["model"]["class_path"].rsplit(".", 1)[-1]
    shrink, budget = TINY_FIT[task]
    return [*args[:end], *shrink, *args[end:], *budget]


def _jepa_world(args: list[str], stdout) -> None:
    from jepa_world.cli import main

    if args and args[0] == "fit":
        args = _tiny_fit(args)
    with contextlib.redirect_stdout(stdout):
        try:
            main(args)
        except SystemExit as done:  # --help, --print_config: a clean exit
            assert done.code in (0, None), f"jepa-world {' '.join(args)} exited {done.code}"


def _pip(args: list[str]) -> None:
    assert args[:2] == ["install", "-e"] and len(args) == 3, f"pip {args}: only pip install -e"
    target = re.fullmatch(r"\.(?:\[(?P<extras>[\w,-]+)\])?", args[2])
    assert target, f"pip install -e {args[2]}: expected . or .[EXTRAS]"
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = re.findall(r"^([\w-]+)\s*=", section, re.MULTILINE)
    for extra in (target["extras"] or "").split(","):
        assert not extra or extra in extras, f"pyproject.toml has no extra {extra!r}"


def _python(args: list[str], stdout) -> None:
    saved = sys.argv
    sys.argv = [str(ROOT / args[0]), *args[1:]]
    try:
        with contextlib.redirect_stdout(stdout):
            runpy.run_path(str(ROOT / args[0]), run_name="__main__")
    except SystemExit as done:
        assert done.code in (0, None), f"python {' '.join(args)} exited {done.code}"
    finally:
        sys.argv = saved


def commands(script: str) -> list[list[str]]:
    """A shell block's commands (token lists; ``>`` and a file name end one that redirects)."""
    out: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="&;>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token in ("&&", ";"):
                out.append(current)
                current = []
            else:
                current.append(token)
        out.append(current)
    return [c for c in out if c]


def run_command(tokens: list[str], monkeypatch) -> None:
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
        name, value = tokens.pop(0).split("=", 1)
        monkeypatch.setenv(name, value)
    stdout: io.TextIOBase = io.StringIO()
    if len(tokens) >= 2 and tokens[-2] == ">":
        stdout = open(tokens[-1], "w")  # noqa: SIM115 - closed below
        tokens = tokens[:-2]
    try:
        program, args = tokens[0], tokens[1:]
        if program == "jepa-world":
            _jepa_world(args, stdout)
        elif program == "pip":
            _pip(args)
        elif program == "python":
            _python(args, stdout)
        else:
            pytest.fail(f"command {program!r} is not run by the docs test: mark the block")
    finally:
        if stdout is not sys.stdout:
            stdout.close()


@pytest.mark.parametrize(
    ("lang", "text"),
    list(TO_RUN),
    ids=[", ".join(f"{b.page}:{b.line}" for b in found) for found in TO_RUN.values()],
)
def test_documented_block_runs(lang, text, tmp_path, tiny_runs, monkeypatch):
    with _workspace(tmp_path), _tiny_suites():
        if not re.search(r"jepa-world\s+fit\b", text):  # reads runs it does not write
            shutil.copytree(tiny_runs, tmp_path / "runs")
        if lang == "python":
            exec(compile(text, "<docs>", "exec"), {"__name__": "__docs__"})  # noqa: S102
            return
        for tokens in commands(text):
            run_command(tokens, monkeypatch)

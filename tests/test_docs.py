"""The documentation site builds cleanly, and every exported name it documents has a docstring.

The API reference is generated from docstrings (mkdocstrings), so a public name without one is a
hole in the reference. The modules checked are the ones the pages under ``docs/api/`` name in
their ``::: module`` blocks, so the check follows the docs as pages are added.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API_DIR = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)


def documented_modules() -> list[str]:
    """Every module named by a ``::: module`` block of the API pages, in page order."""
    names: list[str] = []
    for page in sorted(API_DIR.glob("*.md")):
        for name in DIRECTIVE.findall(page.read_text()):
            if name not in names:
                names.append(name)
    return names


def test_api_pages_name_modules() -> None:
    assert documented_modules(), "docs/api/*.md name no module in a '::: module' block"


HISTORY = re.compile(
    r"PROTOCOLS\.md|DESIGN\.md|(?i:\bsessions?\b|\bissues? #?\d)|\b20\d\d-\d\d-\d\d\b"
)


@pytest.mark.parametrize(
    "page", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
)
def test_pages_are_user_docs(page: str) -> None:
    """Pages say what the software does: a few hundred lines at most, no dated diary, no
    pointers to notes outside the repository."""
    text = (ROOT / page).read_text()
    assert len(text.encode()) < 25_000, f"{page}: {len(text.encode())} bytes; split it"
    found = sorted({m.group(0) for m in HISTORY.finditer(text)})
    assert not found, f"{page}: history or outside pointers {found}"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict`` passes: no broken link or anchor, no page left out of the nav,
    no docstring mkdocstrings cannot render."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


@functools.cache
def _static_module(module: str):
    import griffe

    return griffe.load(module, search_paths=[str(ROOT)], resolve_aliases=True)


def _attribute_docstring(module: str, name: str) -> str | None:
    """The docstring written under a module-level constant (``X = ...`` then a string literal),
    which only static analysis sees."""
    docstring = _static_module(module)[name].docstring
    return docstring.value if docstring is not None else None


def _own_docstring(obj: object) -> str | None:
    """A class's or function's own docstring (not one inherited from a base class)."""
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__")
    return getattr(obj, "__doc__", None)


@pytest.mark.parametrize("module", documented_modules())
def test_exported_names_have_docstrings(module: str) -> None:
    mod = importlib.import_module(module)
    missing = []
    for name in getattr(mod, "__all__", ()):
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
            doc = _own_docstring(obj)
        else:
            doc = _attribute_docstring(module, name)
        has_doc = bool(doc and doc.strip())
        if not has_doc:
            missing.append(name)
    assert not missing, f"{module}: exported names without a docstring: {missing}"

"""The one-line error for a class path that names a module the training classes moved out of.

Recipes, command lines and checkpoints name classes by import path. The tasks live in
:mod:`jepa_world.training` and the callbacks in :mod:`jepa_world.training.callbacks`; an old path
(``jepa_world.module.JEPA``, ``jepa_world.action_module.ActionJEPA``,
``jepa_world.callbacks.<Name>``) fails naming the new one instead of with an import traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["MovedClassPath", "check_class_paths", "moved_to", "strings"]

_NEW_HOME = {
    "module": "jepa_world.training",
    "action_module": "jepa_world.training",
    "callbacks": "jepa_world.training.callbacks",
}
_OLD_PATH = re.compile(r"\bjepa_world\.(module|action_module|callbacks)\.([A-Za-z_]\w*)")


class MovedClassPath(ValueError):
    """A class path names a module the training classes moved out of."""


def moved_to(path: str) -> tuple[str, str] | None:
    """``(old, new)`` for the first old class path inside ``path``, or None if it has none."""
    match = _OLD_PATH.search(path)
    if match is None:
        return None
    module, name = match.groups()
    return match.group(0), f"{_NEW_HOME[module]}.{name}"


def check_class_paths(values: Iterable[str], where: str) -> None:
    """Raise :class:`MovedClassPath`, one line naming the new path, on the first of ``values``
    that names an old class path."""
    for value in values:
        moved = moved_to(value)
        if moved is not None:
            old, new = moved
            raise MovedClassPath(f"{where}: class path {old!r} has moved: use {new!r}")


def strings(node: Any) -> Iterator[str]:
    """Every string in a parsed YAML / JSON tree (mapping keys and values, list items)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from strings(item)

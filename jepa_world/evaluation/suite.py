"""Suites: read and validate any evaluation suite (YAML file, shipped name or mapping) up front.

A suite is a YAML mapping whose top-level ``kind:`` names what it evaluates (``physics``: state
read-outs, roll-out and surprise probes; ``planning``: MPC episodes to goal images). Each kind
lives in its own module (:data:`KINDS`), imported only when a suite of that kind is read, and
supplies ``parse(data, source) -> spec`` (built on :class:`Section`) and
``run(model, spec, out, log) -> Report``.

Everything is checked before any work starts, so a typo costs a second, not a half-finished run:
a key written twice in one mapping, unknown keys, missing keys, values of the wrong type or out
of range are rejected with a ``ValueError`` that names the key (``probes.state.train.clips``).

Seed ranges are half-open ``[start, start + count)`` and start at :data:`PROBE_SEED_START` or
above, so no evaluation clip is ever a training, validation or test clip.
"""

from __future__ import annotations

import copy
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from jepa_world.checks import check_int
from jepa_world.data.seeds import PROBE_SEED_START

__all__ = [
    "KINDS",
    "MAX_SEED",
    "PROBE_SEED_START",
    "SEED_BLOCK",
    "Section",
    "SeedRange",
    "Suite",
    "check_disjoint",
    "kind_module",
    "load_suite",
    "parse_suite",
    "plain",
    "read_suite_yaml",
    "resolve_suite_path",
]

KINDS: dict[str, str] = {
    "physics": "jepa_world.evaluation.physics",
    "planning": "jepa_world.evaluation.planning",
}
"""Suite kinds and the module that parses and runs each (imported on first use)."""

SEED_BLOCK = 1_000_000
"""Seeds per block: the most clips one seed range may hold, and the spacing of per-item blocks."""
MAX_SEED = 2**62


@dataclass(frozen=True)
class SeedRange:
    """Half-open seed range ``[start, start + count)``."""

    start: int
    count: int

    @property
    def stop(self) -> int:
        return self.start + self.count

    def seeds(self) -> list[int]:
        return list(range(self.start, self.stop))


@dataclass(frozen=True)
class Suite:
    """A validated suite: its ``kind``, its ``name`` and the kind's parsed ``spec``.

    Attributes the spec defines read through the suite too (``suite.probes`` is
    ``suite.spec.probes``), so code written against one kind's spec takes the suite as it is.
    """

    kind: str
    name: str
    spec: Any
    source: str = "<dict>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "spec":
            raise AttributeError(name)
        return getattr(self.spec, name)


# ------------------------------------------------------------------------------ the section reader
class Section:
    """Reads one mapping of a suite, remembering its key path for error messages.

    ``None`` (a key written with no value) reads as an empty section. Unknown keys are rejected
    at once, naming the first one and the whole list.
    """

    def __init__(self, data: Any, path: str, allowed: tuple[str, ...]) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ValueError(f"{path or 'suite'} must be a mapping, got {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            where = f"{path}." if path else ""
            raise ValueError(
                f"unknown key {where}{unknown[0]}: {path or 'suite'} has unknown key(s) "
                f"{unknown}; allowed keys are {sorted(allowed)}"
            )
        self.data, self.path = data, path

    def key(self, name: str) -> str:
        """The full key path of ``name`` in this section (``probes.state.train``)."""
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def get(self, name: str, default: Any = None) -> Any:
        """The raw value of ``name``, or ``default`` when absent or null."""
        return self.data[name] if self.has(name) else default

    def required(self, name: str) -> Any:
        if not self.has(name):
            raise ValueError(f"missing key {self.key(name)}")
        return self.data[name]

    def section(self, name: str, allowed: tuple[str, ...], required: bool = False) -> Section:
        """The sub-mapping ``name`` as a section (empty when absent and not ``required``)."""
        data = self.required(name) if required else self.get(name)
        return Section(data, self.key(name), allowed)

    def int(self, name: str, default: int | None, low: int, high: int | None = None) -> int | None:
        if not self.has(name):
            return default
        return check_int(self.key(name), self.data[name], low, high)

    def string(self, name: str, default: str) -> str:
        """A non-empty string."""
        value = self.get(name, default)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{self.key(name)} must be a non-empty string, got {value!r}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        if not self.has(name):
            return default
        value = self.data[name]
        if value not in choices:
            raise ValueError(f"{self.key(name)}={value!r} is not allowed: choose one of {choices}")
        return str(value)

    def mapping(self, name: str) -> dict[str, Any]:
        """A free-form mapping (world parameters ...), as plain dicts and lists."""
        if not self.has(name):
            return {}
        value = self.data[name]
        if not isinstance(value, Mapping):
            raise ValueError(f"{self.key(name)} must be a mapping, got {type(value).__name__}")
        return {str(k): plain(v) for k, v in value.items()}

    def names(self, name: str, default: tuple[str, ...], allowed: tuple[str, ...]) -> tuple:
        """A non-empty list of distinct names drawn from ``allowed``."""
        if not self.has(name):
            return default
        value = self.data[name]
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"{self.key(name)} must be a non-empty list drawn from {allowed}")
        for item in value:
            if item not in allowed:
                raise ValueError(
                    f"{self.key(name)} has unknown entry {item!r}: choose from {allowed}"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"{self.key(name)} lists an entry twice: {list(value)}")
        return tuple(str(v) for v in value)

    def seed_range(self, name: str, count_key: str, min_count: int) -> SeedRange:
        """A required ``{seed_start, <count_key>}`` mapping, inside the probe seed range."""
        sub = self.section(name, ("seed_start", count_key), required=True)
        start = check_int(
            sub.key("seed_start"), sub.required("seed_start"), PROBE_SEED_START, MAX_SEED
        )
        count = check_int(sub.key(count_key), sub.required(count_key), min_count, SEED_BLOCK)
        return SeedRange(start, count)


def plain(value: Any) -> Any:
    """``value`` with every mapping a plain ``dict`` and every sequence a ``list`` (JSON-ready)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return copy.deepcopy(value)


def check_disjoint(ranges: Mapping[str, SeedRange]) -> None:
    """Raise a ValueError naming two keys whose seed ranges overlap."""
    items = sorted(ranges.items(), key=lambda kv: kv[1].start)
    for (key_a, a), (key_b, b) in zip(items, items[1:], strict=False):
        if b.start < a.stop:
            raise ValueError(
                f"seed ranges overlap: {key_b} [{b.start}, {b.stop}) and {key_a} "
                f"[{a.start}, {a.stop}); probe splits must use disjoint seeds"
            )


# ------------------------------------------------------------------------------ files
def resolve_suite_path(path: str | os.PathLike) -> Path:
    """A suite file path, or the name of a shipped suite (``physics`` -> probes/physics.yaml)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"suite must be a path, a name or a mapping, got {type(path).__name__}")
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    packaged = Path(str(resources.files("jepa_world") / "probes")) / f"{candidate.stem}.yaml"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError(
        f"suite {str(path)!r} not found (neither a file nor a shipped suite in {packaged.parent})"
    )


def read_suite_yaml(path: Path) -> Any:
    """A suite file's YAML, refusing what plain ``yaml.safe_load`` lets through silently: a key
    written twice in one mapping (the last would win unseen) is an error naming the key."""
    import yaml

    class _StrictLoader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ValueError(f"{path}: key {key!r} appears twice in one mapping (line {line})")
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from err


# ------------------------------------------------------------------------------ kinds
def kind_module(kind: str) -> ModuleType:
    """The module that parses and runs suites of ``kind`` (``parse`` and ``run``)."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is unknown: allowed kinds are {sorted(KINDS)}")
    try:
        return importlib.import_module(KINDS[kind])
    except ModuleNotFoundError as err:
        if err.name is None or not KINDS[kind].startswith(err.name):
            raise
        raise ModuleNotFoundError(
            f"suites of kind={kind!r} need the module {KINDS[kind]}, which this copy of "
            "jepa_world does not have",
            name=KINDS[kind],
        ) from err


def _kind(data: Mapping[str, Any]) -> str:
    if "kind" not in data or data["kind"] is None:
        raise ValueError(
            f"missing key kind: a suite says what it evaluates, one of {sorted(KINDS)}"
        )
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind={kind!r} is unknown: allowed kinds are {sorted(KINDS)}")
    return kind


def parse_suite(data: Any, source: str = "<dict>") -> Suite:
    """Validate a suite mapping (with its ``kind:``) and return a :class:`Suite`."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: a suite must be a YAML mapping, got {type(data).__name__}")
    kind = _kind(data)
    rest = {k: v for k, v in data.items() if k != "kind"}
    spec = kind_module(kind).parse(rest, source)
    return Suite(kind=kind, name=str(getattr(spec, "name", kind)), spec=spec, source=source)


def load_suite(suite: str | os.PathLike | Mapping[str, Any] | Suite) -> Suite:
    """Load and validate a suite of any kind: a YAML file, a shipped suite name or a mapping."""
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, Mapping):
        return parse_suite(suite)
    path = resolve_suite_path(suite)
    return parse_suite(read_suite_yaml(path), source=str(path))

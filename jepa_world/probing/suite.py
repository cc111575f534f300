"""Probe-suite schema: parse and validate a suite (YAML or dict) before any work starts.

A suite names its probes (``state``, ``rollout``, ``voe``), their worlds, seed ranges and sizes,
and the baselines. Everything is checked up front, so a typo costs a second, not a half-finished
run: unknown keys, missing keys, out-of-range values, unknown properties, and seed ranges that
fall below :data:`PROBE_SEED_START` (3e9) or overlap each other are rejected with
a ``ValueError`` that names the key (``probes.state.train.clips`` ...).

Seed ranges are half-open ``[seed_start, seed_start + count)``. Each VoE property (and each
open-view kind) draws from its own block of :data:`SEED_BLOCK` seeds starting at
``seed_start + index * SEED_BLOCK``, in the order the suite lists them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "AUROC_SCORES",
    "CLIP_SCORES",
    "OPEN_VIEW_KINDS",
    "PROBES",
    "PROBE_SEED_START",
    "PROPERTIES",
    "SEED_BLOCK",
    "BaselineSpec",
    "RolloutSpec",
    "SeedRange",
    "StateSpec",
    "Suite",
    "VoESpec",
    "load_suite",
    "parse_suite",
    "resolve_suite_path",
]

PROBES = ("state", "rollout", "voe")
PROPERTIES = ("permanence", "continuity", "solidity", "gravity", "colour")
OPEN_VIEW_KINDS = ("teleport", "vanish", "colour_flip")
CLIP_SCORES = ("sum", "mean")
AUROC_SCORES = ("sum", "mean", "max", "peak")
TOKEN_REDUCTIONS = ("mean", "topk")
CONTEXT_MODES = ("auto", "fixed", "growing")
SEED_BLOCK = 1_000_000
MAX_SEED = 2**62
PROBE_SEED_START = 3 * 10**9
"""Same value as ``jepa_world.data.seeds.PROBE_SEED_START`` (a test keeps them equal); not
imported from there because ``jepa_world.data`` loads Lightning, which probing never needs."""


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
class StateSpec:
    """Linear read-outs of ball state from frozen features (one ball per clip)."""

    train: SeedRange
    val: SeedRange
    test: SeedRange
    world: str = "physics2d"
    world_params: dict[str, Any] = field(default_factory=dict)
    frames: int | None = None  # None: the model's training clip length


@dataclass(frozen=True)
class RolloutSpec:
    """Predictor roll-out read by the state probe's per-patch position read-out."""

    test: SeedRange
    world: str = "physics2d"
    world_params: dict[str, Any] = field(default_factory=dict)
    horizons: tuple[int, ...] = (1, 2, 4, 8, 16)
    context_steps: int | None = None  # None: the model's training context
    window: int | None = None  # None: the context length (what the predictor was trained on)
    chunk: int | None = None  # steps per predictor call; None: the trained forecast span


@dataclass(frozen=True)
class VoESpec:
    """Violation-of-expectation surprise on matched quadruplets and open-view pairs."""

    quadruplets: SeedRange  # count per property; property i starts at start + i * SEED_BLOCK
    world: str = "intuitive"
    world_params: dict[str, Any] = field(default_factory=dict)
    properties: tuple[str, ...] = PROPERTIES
    open_view: SeedRange | None = None  # count per kind, blocks as for properties
    open_view_kinds: tuple[str, ...] = OPEN_VIEW_KINDS
    context_steps: int | None = None
    context: str = "auto"  # fixed | growing | auto (growing for causal-objective models)
    stride: int | None = None  # None: window - context, so each step is forecast once
    horizons: tuple[int, ...] | None = None  # None: every horizon a window forecasts
    token_reduction: str = "mean"
    topk: int = 4
    clip_score: str = "sum"
    auroc_score: str = "max"

    def property_range(self, prop: str) -> SeedRange:
        i = self.properties.index(prop)
        return SeedRange(self.quadruplets.start + i * SEED_BLOCK, self.quadruplets.count)

    def open_view_range(self, kind: str) -> SeedRange:
        if self.open_view is None:
            raise ValueError("this suite has no probes.voe.open_view")
        i = self.open_view_kinds.index(kind)
        return SeedRange(self.open_view.start + i * SEED_BLOCK, self.open_view.count)


@dataclass(frozen=True)
class BaselineSpec:
    """Baselines every report carries (PROTOCOLS.md sections 2-3)."""

    random_init_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    pixel_size: int = 16


@dataclass(frozen=True)
class Suite:
    """A validated probe suite; build with :func:`parse_suite` or :func:`load_suite`."""

    name: str
    state: StateSpec | None
    rollout: RolloutSpec | None
    voe: VoESpec | None
    baselines: BaselineSpec
    batch_size: int = 32
    bootstrap_resamples: int = 1000
    bootstrap_seed: int = 0
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def probes(self) -> tuple[str, ...]:
        return tuple(p for p in PROBES if getattr(self, p) is not None)

    def seed_ranges(self) -> dict[str, SeedRange]:
        """Every seed range the suite draws from, by key (used to prove disjointness)."""
        ranges: dict[str, SeedRange] = {}
        if self.state is not None:
            for split in ("train", "val", "test"):
                ranges[f"probes.state.{split}"] = getattr(self.state, split)
        if self.rollout is not None:
            ranges["probes.rollout.test"] = self.rollout.test
        if self.voe is not None:
            for prop in self.voe.properties:
                ranges[f"probes.voe.quadruplets[{prop}]"] = self.voe.property_range(prop)
            if self.voe.open_view is not None:
                for kind in self.voe.open_view_kinds:
                    ranges[f"probes.voe.open_view[{kind}]"] = self.voe.open_view_range(kind)
        return ranges


# ------------------------------------------------------------------------------ parsing helpers
class _Section:
    """Reads one mapping of the suite, remembering its key path for error messages."""

    def __init__(self, data: Any, path: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{path or 'suite'} must be a mapping, got {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            where = f"{path}." if path else ""
            raise ValueError(
                f"unknown key {where}{unknown[0]!s}: allowed keys are {sorted(allowed)}"
            )
        self.data, self.path = data, path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def required(self, name: str) -> Any:
        if name not in self.data or self.data[name] is None:
            raise ValueError(f"missing key {self.key(name)}")
        return self.data[name]

    def int(self, name: str, default: int | None, low: int, high: int | None = None) -> int | None:
        if not self.has(name):
            return default
        return check_int(self.key(name), self.data[name], low, high)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        if not self.has(name):
            return default
        value = self.data[name]
        if value not in choices:
            raise ValueError(f"{self.key(name)}={value!r} is not allowed: choose one of {choices}")
        return str(value)

    def mapping(self, name: str) -> dict[str, Any]:
        if not self.has(name):
            return {}
        value = self.data[name]
        if not isinstance(value, Mapping):
            raise ValueError(f"{self.key(name)} must be a mapping, got {type(value).__name__}")
        return {str(k): _plain(v) for k, v in value.items()}

    def names(self, name: str, default: tuple[str, ...], allowed: tuple[str, ...]) -> tuple:
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


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_int(key: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as int, or raise a ValueError naming ``key`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{key}={value} is out of range: allowed {allowed}")
    return int(value)


def _seed_range(section: _Section, name: str, count_key: str, min_count: int) -> SeedRange:
    sub = _Section(section.required(name), section.key(name), ("seed_start", count_key))
    start = check_int(sub.key("seed_start"), sub.required("seed_start"), PROBE_SEED_START, MAX_SEED)
    count = check_int(sub.key(count_key), sub.required(count_key), min_count, SEED_BLOCK)
    return SeedRange(start, count)


def _horizons(section: _Section, name: str, default: tuple[int, ...] | None):
    if not section.has(name):
        return default
    value = section.data[name]
    key = section.key(name)
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{key} must be a non-empty list of positive ints, got {value!r}")
    out = tuple(check_int(f"{key}[{i}]", v, 1, 4096) for i, v in enumerate(value))
    if list(out) != sorted(set(out)):
        raise ValueError(f"{key}={list(out)} must be strictly increasing")
    return out


def _world(section: _Section, expected: str) -> str:
    world = section.data.get("world", expected)
    if world != expected:
        raise ValueError(
            f"{section.key('world')}={world!r} is not supported here: this probe reads "
            f"ground truth that only the {expected!r} world provides"
        )
    return world


# ------------------------------------------------------------------------------ sections
def _parse_state(data: Any) -> StateSpec:
    s = _Section(data, "probes.state", ("world", "world_params", "frames", "train", "val", "test"))
    return StateSpec(
        world=_world(s, "physics2d"),
        world_params=s.mapping("world_params"),
        frames=s.int("frames", None, 1, 4096),
        train=_seed_range(s, "train", "clips", 2),
        val=_seed_range(s, "val", "clips", 1),
        test=_seed_range(s, "test", "clips", 2),
    )


def _parse_rollout(data: Any) -> RolloutSpec:
    s = _Section(
        data,
        "probes.rollout",
        ("world", "world_params", "test", "horizons", "context_steps", "window", "chunk"),
    )
    return RolloutSpec(
        world=_world(s, "physics2d"),
        world_params=s.mapping("world_params"),
        test=_seed_range(s, "test", "clips", 2),
        horizons=_horizons(s, "horizons", (1, 2, 4, 8, 16)),
        context_steps=s.int("context_steps", None, 1, 4096),
        window=s.int("window", None, 1, 4096),
        chunk=s.int("chunk", None, 1, 4096),
    )


def _parse_voe(data: Any) -> VoESpec:
    s = _Section(
        data,
        "probes.voe",
        (
            "world",
            "world_params",
            "properties",
            "quadruplets",
            "open_view",
            "context_steps",
            "context",
            "stride",
            "horizons",
            "token_reduction",
            "topk",
            "clip_score",
            "auroc_score",
        ),
    )
    if s.has("clip_score") and s.data["clip_score"] not in CLIP_SCORES:
        raise ValueError(
            f"probes.voe.clip_score={s.data['clip_score']!r} is not allowed: choose one of "
            f"{CLIP_SCORES}. The clip score of matched quadruplets must be additive over frames "
            "(a max over frames breaks the matching; PROTOCOLS.md section 2)"
        )
    open_view, kinds = None, OPEN_VIEW_KINDS
    if s.has("open_view"):
        ov = _Section(s.data["open_view"], "probes.voe.open_view", ("seed_start", "pairs", "kinds"))
        kinds = ov.names("kinds", OPEN_VIEW_KINDS, OPEN_VIEW_KINDS)
        open_view = SeedRange(
            check_int(ov.key("seed_start"), ov.required("seed_start"), PROBE_SEED_START, MAX_SEED),
            check_int(ov.key("pairs"), ov.required("pairs"), 1, SEED_BLOCK),
        )
    return VoESpec(
        world=_world(s, "intuitive"),
        world_params=s.mapping("world_params"),
        properties=s.names("properties", PROPERTIES, PROPERTIES),
        quadruplets=_seed_range(s, "quadruplets", "count", 2),
        open_view=open_view,
        open_view_kinds=kinds,
        context_steps=s.int("context_steps", None, 1, 4096),
        context=s.choice("context", "auto", CONTEXT_MODES),
        stride=s.int("stride", None, 1, 4096),
        horizons=_horizons(s, "horizons", None),
        token_reduction=s.choice("token_reduction", "mean", TOKEN_REDUCTIONS),
        topk=s.int("topk", 4, 1, 1_000_000),
        clip_score=s.choice("clip_score", "sum", CLIP_SCORES),
        auroc_score=s.choice("auroc_score", "max", AUROC_SCORES),
    )


def _parse_baselines(data: Any) -> BaselineSpec:
    s = _Section(data, "baselines", ("random_init", "pixels"))
    seeds = BaselineSpec.random_init_seeds
    if s.has("random_init"):
        ri = _Section(s.data["random_init"], "baselines.random_init", ("seeds",))
        value = ri.required("seeds")
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError(f"baselines.random_init.seeds must be a list of ints, got {value!r}")
        seeds = tuple(
            check_int(f"baselines.random_init.seeds[{i}]", v, 0, 2**31 - 1)
            for i, v in enumerate(value)
        )
        if len(set(seeds)) < 5:
            raise ValueError(
                f"baselines.random_init.seeds needs >= 5 distinct seeds (PROTOCOLS.md: mean and "
                f"spread over >= 5 random-init models), got {list(seeds)}"
            )
    pixel_size = BaselineSpec.pixel_size
    if s.has("pixels"):
        px = _Section(s.data["pixels"], "baselines.pixels", ("size",))
        pixel_size = px.int("size", pixel_size, 2, 512)
    return BaselineSpec(random_init_seeds=seeds, pixel_size=pixel_size)


def parse_suite(data: Mapping[str, Any]) -> Suite:
    """Validate a suite mapping and return a :class:`Suite`; raise ValueError naming the key."""
    top = _Section(data, "", ("name", "batch_size", "bootstrap", "probes", "baselines"))
    probes = _Section(top.required("probes"), "probes", PROBES)
    if not any(probes.has(p) for p in PROBES):
        raise ValueError(f"probes must list at least one probe of {PROBES}")
    state = _parse_state(probes.data["state"]) if probes.has("state") else None
    rollout = _parse_rollout(probes.data["rollout"]) if probes.has("rollout") else None
    voe = _parse_voe(probes.data["voe"]) if probes.has("voe") else None
    if rollout is not None and state is None:
        raise ValueError(
            "probes.rollout needs probes.state: the roll-out is read by the state probe's "
            "position read-out"
        )
    boot = _Section(top.data.get("bootstrap") or {}, "bootstrap", ("resamples", "seed"))
    name = top.data.get("name", "suite")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    suite = Suite(
        name=name,
        state=state,
        rollout=rollout,
        voe=voe,
        baselines=_parse_baselines(top.data.get("baselines") or {}),
        batch_size=top.int("batch_size", 32, 1, 4096),
        bootstrap_resamples=boot.int("resamples", 1000, 10, 100_000),
        bootstrap_seed=boot.int("seed", 0, 0, 2**31 - 1),
        source=_plain(copy.deepcopy(dict(data))),
    )
    _check_disjoint(suite.seed_ranges())
    return suite


def _check_disjoint(ranges: dict[str, SeedRange]) -> None:
    items = sorted(ranges.items(), key=lambda kv: kv[1].start)
    for (key_a, a), (key_b, b) in zip(items, items[1:], strict=False):
        if b.start < a.stop:
            raise ValueError(
                f"seed ranges overlap: {key_b} [{b.start}, {b.stop}) and {key_a} "
                f"[{a.start}, {a.stop}); probe splits must use disjoint seeds"
            )


def resolve_suite_path(path: str | Path) -> Path:
    """A suite file path, or the name of a shipped suite (``physics`` -> probes/physics.yaml)."""
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


def load_suite(path: str | Path | Mapping[str, Any]) -> Suite:
    """Load and validate a suite from a YAML file, a shipped suite name, or a mapping."""
    if isinstance(path, Suite):
        return path
    if isinstance(path, Mapping):
        return parse_suite(path)
    resolved = resolve_suite_path(path)
    data = read_suite_yaml(resolved)
    if not isinstance(data, Mapping):
        raise ValueError(f"{resolved}: a suite must be a YAML mapping, got {type(data).__name__}")
    return parse_suite(data)

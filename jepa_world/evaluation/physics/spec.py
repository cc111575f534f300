"""The physics suite's schema: its probes (``state``, ``rollout``, ``voe``), their worlds, seed
ranges and sizes, and the baselines, read with the strict section reader of
:mod:`jepa_world.evaluation.suite`.

Beyond the reader's checks (unknown and missing keys, types, ranges), out-of-range values,
unknown properties and seed ranges that fall below :data:`PROBE_SEED_START` (3e9) or overlap each
other are rejected with a ``ValueError`` that names the key (``probes.state.train.clips`` ...).

Each VoE property (and each open-view kind, and each property's calibration quadruplets) draws
from its own block of :data:`SEED_BLOCK` seeds starting at ``seed_start + index * SEED_BLOCK``, in
the order the suite lists them.

The optional top-level ``forecaster`` section is the budget of the forecaster fitted on frozen
features (:class:`ForecasterBudget`); its clips come from the training seed range, like the
features a linear probe is fitted on, and never from a probe range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jepa_world.checks import check_int
from jepa_world.data.seeds import PROBE_SEED_START, seed_range
from jepa_world.evaluation.suite import (
    MAX_SEED,
    SEED_BLOCK,
    Section,
    SeedRange,
    check_disjoint,
    plain,
)
from jepa_world.worlds.intuitive import OPEN_VIEW_KINDS, PROPERTIES

__all__ = [
    "AUROC_SCORES",
    "CLIP_SCORES",
    "CONTEXT_MODES",
    "PROBES",
    "ForecasterBudget",
    "TOKEN_REDUCTIONS",
    "BaselineSpec",
    "PhysicsSpec",
    "RolloutSpec",
    "SeedRange",
    "StateSpec",
    "VoESpec",
    "parse",
]

PROBES = ("state", "rollout", "voe")
"""The probes a physics suite may run, in report order."""
CLIP_SCORES = ("sum", "mean")
"""Additive clip scores for VoE relative accuracy (matched quadruplets need additivity)."""
AUROC_SCORES = ("sum", "mean", "max", "peak")
"""Single-clip scores the VoE AUROC may use."""
TOKEN_REDUCTIONS = ("mean", "topk")
"""How a frame's surprise is reduced over tokens."""
CONTEXT_MODES = ("auto", "fixed", "growing")
"""How VoE forecasts are made: fixed windows, a growing context, or chosen from the model."""

_TRAIN_START, _TRAIN_STOP = seed_range("train")


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
    # filtered surprise: per step, the minimum over these context lengths (steps) of fixed-window
    # forecasts; None: every length the model's window allows
    context_lengths: tuple[int, ...] | None = None
    calibration: SeedRange | None = None  # quadruplets per property whose possible clips set
    abs_percentile: float = 90.0  # the abs_acc threshold: this percentile of their max surprise

    def property_range(self, prop: str) -> SeedRange:
        i = self.properties.index(prop)
        return SeedRange(self.quadruplets.start + i * SEED_BLOCK, self.quadruplets.count)

    def calibration_range(self, prop: str) -> SeedRange:
        if self.calibration is None:
            raise ValueError("this suite has no probes.voe.calibration")
        i = self.properties.index(prop)
        return SeedRange(self.calibration.start + i * SEED_BLOCK, self.calibration.count)

    def open_view_range(self, kind: str) -> SeedRange:
        if self.open_view is None:
            raise ValueError("this suite has no probes.voe.open_view")
        i = self.open_view_kinds.index(kind)
        return SeedRange(self.open_view.start + i * SEED_BLOCK, self.open_view.count)


@dataclass(frozen=True)
class ForecasterBudget:
    """Everything that fixes a fitted forecaster (the suite's ``forecaster`` section).

    ``seed_start`` / ``clips``: the fitting clips' seeds, ``[seed_start, seed_start + clips)``,
    inside the training seed range (the forecaster is fitted on training-world clips, like a
    probe on training features; probe clips are never used). ``frames``: clip length (None: the
    model's training clip). ``context_steps``: K, the steps each forecast sees (the transformer's
    memory; capped at the fitting clip's length - 1). ``linear_steps``: the steps the linear
    autoregression reads (at most K): its closed-form fit grows with the cube of steps x feature
    width, so it stays short while the transformer looks further back. ``seed``: weight init
    and batch draws.
    """

    steps: int = 300
    clips: int = 256
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    width: int = 64
    depth: int = 2
    heads: int = 4
    context_steps: int = 4
    linear_steps: int = 4
    seed_start: int = 0
    seed: int = 0
    frames: int | None = None
    world: str = "physics2d"
    world_params: dict[str, Any] = field(default_factory=dict)
    beside_predictor: bool = True

    def __post_init__(self) -> None:
        check_int("forecaster.steps", self.steps, 1, 1_000_000)
        check_int("forecaster.clips", self.clips, 1, 1_000_000)
        check_int("forecaster.batch_size", self.batch_size, 1, 1_000_000)
        check_int("forecaster.width", self.width, 2, 4096)
        check_int("forecaster.depth", self.depth, 0, 64)
        check_int("forecaster.heads", self.heads, 1, 64)
        check_int("forecaster.context_steps", self.context_steps, 1, 1024)
        check_int("forecaster.linear_steps", self.linear_steps, 1, 1024)
        check_int("forecaster.seed", self.seed, 0, 2**31 - 1)
        check_int("forecaster.seed_start", self.seed_start, _TRAIN_START, _TRAIN_STOP - 1)
        if self.seed_start + self.clips > _TRAIN_STOP:
            raise ValueError(
                f"forecaster seeds [{self.seed_start}, {self.seed_start + self.clips}) leave the "
                f"training seed range [{_TRAIN_START}, {_TRAIN_STOP})"
            )
        if self.frames is not None:
            check_int("forecaster.frames", self.frames, 2, 4096)
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr <= 1):
            raise ValueError(f"forecaster.lr={self.lr!r} is out of range: allowed (0, 1]")
        if not (isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay <= 1):
            raise ValueError(
                f"forecaster.weight_decay={self.weight_decay!r} is out of range: allowed [0, 1]"
            )
        if self.depth and self.width % self.heads:
            raise ValueError(
                f"forecaster.width={self.width} must be divisible by forecaster.heads={self.heads}"
            )

    def seeds(self) -> list[int]:
        return list(range(self.seed_start, self.seed_start + self.clips))

    def describe(self) -> dict[str, Any]:
        """The budget as the report states it."""
        return {
            "what": "next-step forecaster fitted on frozen layer-normed features of training-"
            "world clips (linear autoregression over the last linear_steps steps plus a small "
            "transformer over the tokens of the last context_steps steps), L1 loss, AdamW with "
            "cosine decay; rolled out autoregressively",
            "steps": self.steps,
            "clips": self.clips,
            "seeds": [self.seed_start, self.seed_start + self.clips],
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "width": self.width,
            "depth": self.depth,
            "heads": self.heads,
            "context_steps": self.context_steps,
            "linear_steps": self.linear_steps,
            "seed": self.seed,
            "world": self.world,
            "world_params": dict(self.world_params),
            "frames": self.frames,
        }


@dataclass(frozen=True)
class BaselineSpec:
    """Baselines every report carries (docs/protocols.md)."""

    random_init_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    pixel_size: int = 16


@dataclass(frozen=True)
class PhysicsSpec:
    """A validated physics suite; build with :func:`parse` (or ``load_suite``)."""

    name: str
    state: StateSpec | None
    rollout: RolloutSpec | None
    voe: VoESpec | None
    baselines: BaselineSpec
    forecaster: ForecasterBudget | None = None
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
            if self.voe.calibration is not None:
                for prop in self.voe.properties:
                    key = f"probes.voe.calibration[{prop}]"
                    ranges[key] = self.voe.calibration_range(prop)
            if self.voe.open_view is not None:
                for kind in self.voe.open_view_kinds:
                    ranges[f"probes.voe.open_view[{kind}]"] = self.voe.open_view_range(kind)
        return ranges


# ------------------------------------------------------------------------------ value readers
def _horizons(section: Section, name: str, default: tuple[int, ...] | None):
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


def _world(section: Section, expected: str) -> str:
    world = section.data.get("world", expected)
    if world != expected:
        raise ValueError(
            f"{section.key('world')}={world!r} is not supported here: this probe reads "
            f"ground truth that only the {expected!r} world provides"
        )
    return world


# ------------------------------------------------------------------------------ sections
def _parse_state(data: Any) -> StateSpec:
    s = Section(data, "probes.state", ("world", "world_params", "frames", "train", "val", "test"))
    return StateSpec(
        world=_world(s, "physics2d"),
        world_params=s.mapping("world_params"),
        frames=s.int("frames", None, 1, 4096),
        train=s.seed_range("train", "clips", 2),
        val=s.seed_range("val", "clips", 1),
        test=s.seed_range("test", "clips", 2),
    )


def _parse_rollout(data: Any) -> RolloutSpec:
    s = Section(
        data,
        "probes.rollout",
        ("world", "world_params", "test", "horizons", "context_steps", "window", "chunk"),
    )
    return RolloutSpec(
        world=_world(s, "physics2d"),
        world_params=s.mapping("world_params"),
        test=s.seed_range("test", "clips", 2),
        horizons=_horizons(s, "horizons", (1, 2, 4, 8, 16)),
        context_steps=s.int("context_steps", None, 1, 4096),
        window=s.int("window", None, 1, 4096),
        chunk=s.int("chunk", None, 1, 4096),
    )


def _parse_voe(data: Any) -> VoESpec:
    s = Section(
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
            "context_lengths",
            "calibration",
        ),
    )
    if s.has("clip_score") and s.data["clip_score"] not in CLIP_SCORES:
        raise ValueError(
            f"probes.voe.clip_score={s.data['clip_score']!r} is not allowed: choose one of "
            f"{CLIP_SCORES}. The clip score of matched quadruplets must be additive over frames "
            "(a max over frames breaks the matching of quadruplets; docs/protocols.md)"
        )
    open_view, kinds = None, OPEN_VIEW_KINDS
    if s.has("open_view"):
        ov = s.section("open_view", ("seed_start", "pairs", "kinds"))
        kinds = ov.names("kinds", OPEN_VIEW_KINDS, OPEN_VIEW_KINDS)
        open_view = SeedRange(
            check_int(ov.key("seed_start"), ov.required("seed_start"), PROBE_SEED_START, MAX_SEED),
            check_int(ov.key("pairs"), ov.required("pairs"), 1, SEED_BLOCK),
        )
    calibration, percentile = None, VoESpec.abs_percentile
    if s.has("calibration"):
        cal = s.section("calibration", ("seed_start", "count", "percentile"))
        calibration = SeedRange(
            check_int(
                cal.key("seed_start"), cal.required("seed_start"), PROBE_SEED_START, MAX_SEED
            ),
            check_int(cal.key("count"), cal.required("count"), 1, SEED_BLOCK),
        )
        percentile = _number(cal, "percentile", percentile, 0.0, 100.0)
    return VoESpec(
        world=_world(s, "intuitive"),
        world_params=s.mapping("world_params"),
        properties=s.names("properties", PROPERTIES, PROPERTIES),
        quadruplets=s.seed_range("quadruplets", "count", 2),
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
        context_lengths=_horizons(s, "context_lengths", None),
        calibration=calibration,
        abs_percentile=percentile,
    )


def _number(section: Section, name: str, default: float, low: float, high: float) -> float:
    if not section.has(name):
        return default
    value = section.data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{section.key(name)}={value!r} must be a number in [{low}, {high}]")
    return float(value)


FORECASTER_KEYS = (
    "steps",
    "clips",
    "batch_size",
    "lr",
    "weight_decay",
    "width",
    "depth",
    "heads",
    "context_steps",
    "linear_steps",
    "seed_start",
    "seed",
    "frames",
    "world",
    "world_params",
    "beside_predictor",
)


def _parse_forecaster(data: Any) -> ForecasterBudget:
    s = Section(data, "forecaster", FORECASTER_KEYS)
    beside = s.get("beside_predictor", True)
    if not isinstance(beside, bool):
        raise ValueError(f"forecaster.beside_predictor must be true or false, got {beside!r}")
    d = ForecasterBudget()
    return ForecasterBudget(
        steps=s.int("steps", d.steps, 1, 1_000_000),
        clips=s.int("clips", d.clips, 1, 1_000_000),
        batch_size=s.int("batch_size", d.batch_size, 1, 1_000_000),
        lr=_number(s, "lr", d.lr, 1e-9, 1.0),
        weight_decay=_number(s, "weight_decay", d.weight_decay, 0.0, 1.0),
        width=s.int("width", d.width, 2, 4096),
        depth=s.int("depth", d.depth, 0, 64),
        heads=s.int("heads", d.heads, 1, 64),
        context_steps=s.int("context_steps", d.context_steps, 1, 1024),
        linear_steps=s.int("linear_steps", d.linear_steps, 1, 1024),
        seed_start=s.int("seed_start", d.seed_start, _TRAIN_START, _TRAIN_STOP - 1),
        seed=s.int("seed", d.seed, 0, 2**31 - 1),
        frames=s.int("frames", None, 2, 4096),
        world=_world(s, "physics2d"),
        world_params=s.mapping("world_params"),
        beside_predictor=beside,
    )


def _parse_baselines(data: Any) -> BaselineSpec:
    s = Section(data, "baselines", ("random_init", "pixels"))
    seeds = BaselineSpec.random_init_seeds
    if s.has("random_init"):
        ri = s.section("random_init", ("seeds",))
        value = ri.required("seeds")
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValueError(f"baselines.random_init.seeds must be a list of ints, got {value!r}")
        seeds = tuple(
            check_int(f"baselines.random_init.seeds[{i}]", v, 0, 2**31 - 1)
            for i, v in enumerate(value)
        )
        if len(set(seeds)) < 5:
            raise ValueError(
                "baselines.random_init.seeds needs >= 5 distinct seeds (a random-init baseline is "
                f"the mean and spread over >= 5 models), got {list(seeds)}"
            )
    pixel_size = BaselineSpec.pixel_size
    if s.has("pixels"):
        px = s.section("pixels", ("size",))
        pixel_size = px.int("size", pixel_size, 2, 512)
    return BaselineSpec(random_init_seeds=seeds, pixel_size=pixel_size)


def parse(data: Mapping[str, Any], source: str = "<dict>") -> PhysicsSpec:
    """Validate a physics suite mapping (without its ``kind:``); raise ValueError naming the key.

    ``source`` (the file it came from) is not needed: the report records the suite as written.
    """
    top = Section(
        data, "", ("name", "batch_size", "bootstrap", "probes", "baselines", "forecaster")
    )
    probes = Section(top.required("probes"), "probes", PROBES)
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
    boot = top.section("bootstrap", ("resamples", "seed"))
    spec = PhysicsSpec(
        name=top.string("name", "suite"),
        state=state,
        rollout=rollout,
        voe=voe,
        baselines=_parse_baselines(top.get("baselines")),
        forecaster=_parse_forecaster(top.data["forecaster"]) if top.has("forecaster") else None,
        batch_size=top.int("batch_size", 32, 1, 4096),
        bootstrap_resamples=boot.int("resamples", 1000, 10, 100_000),
        bootstrap_seed=boot.int("seed", 0, 0, 2**31 - 1),
        source={"kind": "physics", **plain(dict(data))},
    )
    check_disjoint(spec.seed_ranges())
    return spec

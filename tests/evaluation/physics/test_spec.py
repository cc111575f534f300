"""The physics suite schema: the shipped suite loads; malformed suites fail naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from jepa_world.evaluation.physics.spec import PROBE_SEED_START, PROPERTIES, SEED_BLOCK, parse
from jepa_world.evaluation.suite import load_suite, resolve_suite_path


@pytest.fixture(scope="module")
def physics() -> dict:
    return yaml.safe_load(resolve_suite_path("physics").read_text())


def test_shipped_physics_suite_is_valid(physics):
    suite = load_suite("probes/physics.yaml")
    assert suite.kind == "physics" and suite.name == "physics"
    assert suite.probes == ("state", "rollout", "voe")
    assert suite.voe.properties == PROPERTIES
    assert suite.rollout.horizons == (1, 2, 4, 8, 16)
    assert len(suite.baselines.random_init_seeds) >= 5
    ranges = suite.seed_ranges()
    assert all(r.start >= PROBE_SEED_START for r in ranges.values())
    # VoE properties draw from their own blocks
    starts = [suite.voe.property_range(p).start for p in PROPERTIES]
    assert starts == [
        physics["probes"]["voe"]["quadruplets"]["seed_start"] + i * SEED_BLOCK
        for i in range(len(PROPERTIES))
    ]
    assert load_suite("physics").seed_ranges() == ranges  # shipped name works too


def _broken(physics: dict, path: str, value=None, delete: bool = False) -> dict:
    data = copy.deepcopy(physics)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "delete", "message"),
    [
        ("probes.physics", {}, False, "unknown key probes.physics"),
        ("probes.state.train", None, True, "missing key probes.state.train"),
        ("probes.state.train.clips", 0, False, r"probes.state.train.clips=0 is out of range"),
        ("probes.state.val.seed_start", 5, False, "probes.state.val.seed_start=5 is out of range"),
        ("probes.voe.properties", ["permanence", "levitation"], False, "levitation"),
        ("probes.voe.clip_score", "max", False, "additive"),
        ("probes.voe.token_reduction", "median", False, "probes.voe.token_reduction"),
        ("probes.voe.context", "sliding", False, "probes.voe.context"),
        ("probes.rollout.horizons", [4, 2], False, "strictly increasing"),
        ("probes.voe.open_view.kinds", ["warp"], False, "probes.voe.open_view.kinds"),
        ("baselines.random_init.seeds", [0, 1, 2], False, ">= 5 distinct seeds"),
        ("probes.state.world", "two_rooms", False, "probes.state.world"),
        ("probes.voe.quadruplets.count", "many", False, "probes.voe.quadruplets.count"),
        ("probes.state.trian", {}, False, "unknown key probes.state.trian"),
        ("probes.voe.context_lengths", [4, 2], False, "probes.voe.context_lengths"),
        ("probes.voe.calibration.count", 0, False, "probes.voe.calibration.count=0"),
        ("probes.voe.calibration.percentile", 120, False, "probes.voe.calibration.percentile"),
        ("probes.voe.calibration.seed_start", 10, False, "probes.voe.calibration.seed_start"),
        ("forecaster.seed_start", 3_000_000_000, False, "forecaster.seed_start"),
        ("forecaster.steps", 0, False, "forecaster.steps=0 is out of range"),
        ("forecaster.layers", 2, False, "unknown key forecaster.layers"),
        ("forecaster.beside_predictor", "yes", False, "forecaster.beside_predictor"),
        ("forecaster.world", "two_rooms", False, "forecaster.world"),
        ("forecaster.linear_steps", 0, False, "forecaster.linear_steps=0 is out of range"),
    ],
)
def test_malformed_suites_name_the_key(physics, path, value, delete, message):
    with pytest.raises(ValueError, match=message):
        load_suite(_broken(physics, path, value, delete))


def test_a_key_written_twice_is_rejected_with_its_name_and_line(physics, tmp_path):
    """Plain YAML keeps the last of two equal keys without a word; a suite file must not."""
    text = yaml.safe_dump(physics, sort_keys=False)
    path = tmp_path / "twice.yaml"
    path.write_text(text + "name: again\n")
    with pytest.raises(ValueError, match=r"key 'name' appears twice in one mapping \(line \d+\)"):
        load_suite(path)
    path.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match="is not valid YAML"):
        load_suite(path)


def test_voe_calibration_and_forecaster_budget(physics):
    suite = load_suite("probes/physics.yaml")
    voe, budget = suite.voe, suite.forecaster
    assert voe.context_lengths and all(n >= 1 for n in voe.context_lengths)
    assert voe.abs_percentile == 90.0
    # calibration quadruplets: a block per property, disjoint from every scored range
    cal = [voe.calibration_range(p) for p in PROPERTIES]
    assert len({r.start for r in cal}) == len(PROPERTIES)
    assert all(f"probes.voe.calibration[{p}]" in suite.seed_ranges() for p in PROPERTIES)
    # the forecaster fits on training-range clips, never on a probe range
    assert budget is not None and budget.seed_start + budget.clips <= 10**9
    assert budget.describe()["seeds"] == [budget.seed_start, budget.seed_start + budget.clips]
    # the transformer remembers further back than the closed-form linear part reads
    assert budget.linear_steps <= budget.context_steps
    assert budget.describe()["linear_steps"] == budget.linear_steps
    data = copy.deepcopy(physics)
    data["probes"]["voe"]["calibration"]["seed_start"] = physics["probes"]["voe"]["quadruplets"][
        "seed_start"
    ]
    with pytest.raises(ValueError, match=r"probes.voe.calibration\[.*overlap|overlap.*calibration"):
        parse({k: v for k, v in data.items() if k != "kind"})
    del data["forecaster"], data["probes"]["voe"]["calibration"]
    bare = parse({k: v for k, v in data.items() if k != "kind"})
    assert bare.forecaster is None and bare.voe.calibration is None


def test_overlapping_seed_ranges_are_rejected(physics):
    start = physics["probes"]["state"]["train"]["seed_start"]
    data = _broken(physics, "probes.state.test.seed_start", start + 10)
    with pytest.raises(ValueError, match="seed ranges overlap: .*probes.state"):
        load_suite(data)


def test_rollout_needs_the_state_probe(physics):
    data = _broken(physics, "probes.state", None, delete=True)
    with pytest.raises(ValueError, match="probes.rollout needs probes.state"):
        load_suite(data)


def test_missing_probes_and_files():
    with pytest.raises(ValueError, match="missing key probes"):
        parse({"name": "x"})
    with pytest.raises(ValueError, match="at least one probe"):
        parse({"probes": {}})
    with pytest.raises(FileNotFoundError, match="no_such_suite"):
        load_suite("no_such_suite.yaml")
    with pytest.raises(ValueError, match="missing key probes"):
        load_suite({"kind": "physics", "name": "x"})


def test_probe_seed_start_matches_the_data_package():
    from jepa_world.data.seeds import PROBE_SEED_START as data_start

    assert PROBE_SEED_START == data_start


def test_the_suite_records_its_kind_and_keys_as_written(physics):
    suite = load_suite(physics)
    assert suite.spec.source == physics
    assert list(suite.spec.source)[0] == "kind"

"""The suite reader: kinds, shipped names, strict YAML and the section reader's messages."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from jepa_world.evaluation import suite as S
from jepa_world.evaluation.suite import (
    KINDS,
    Section,
    SeedRange,
    check_disjoint,
    kind_module,
    load_suite,
    resolve_suite_path,
)


@pytest.fixture(scope="module")
def physics() -> dict:
    return yaml.safe_load(resolve_suite_path("physics").read_text())


def test_shipped_suites_resolve_by_name_and_path():
    path = resolve_suite_path("physics")
    assert path.name == "physics.yaml"
    assert resolve_suite_path("probes/physics.yaml").read_text() == path.read_text()
    assert resolve_suite_path("two_rooms").name == "two_rooms.yaml"
    with pytest.raises(FileNotFoundError, match="no_such_suite"):
        resolve_suite_path("no_such_suite.yaml")
    with pytest.raises(TypeError, match="suite must be a path"):
        resolve_suite_path(42)


def test_a_suite_without_kind_is_rejected_naming_kind_and_the_kinds(physics):
    data = {k: v for k, v in physics.items() if k != "kind"}
    with pytest.raises(ValueError, match=r"missing key kind: .*\['physics', 'planning'\]"):
        load_suite(data)
    with pytest.raises(ValueError, match=r"kind='chemistry' is unknown: allowed kinds are"):
        load_suite({**data, "kind": "chemistry"})
    with pytest.raises(ValueError, match=r"kind=\['physics'\] is unknown"):
        load_suite({**data, "kind": ["physics"]})
    assert sorted(KINDS) == ["physics", "planning"]


def test_a_suite_file_without_kind_is_rejected(physics, tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in physics.items() if k != "kind"}))
    with pytest.raises(ValueError, match="missing key kind"):
        load_suite(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="a suite must be a YAML mapping"):
        load_suite(path)


def test_load_suite_reads_any_kind_and_passes_suites_through(physics):
    suite = load_suite("physics")
    assert (suite.kind, suite.name) == ("physics", "physics")
    assert suite.source.endswith("physics.yaml")
    assert load_suite(suite) is suite
    assert suite.probes == suite.spec.probes  # the spec's attributes read through the suite
    assert load_suite(physics).spec == suite.spec


def test_a_kind_whose_module_is_missing_fails_clearly(monkeypatch):
    monkeypatch.setitem(KINDS, "planning", "jepa_world.evaluation.no_such_kind")
    with pytest.raises(ModuleNotFoundError, match="kind='planning' need the module"):
        kind_module("planning")
    with pytest.raises(ModuleNotFoundError, match="no_such_kind"):
        load_suite({"kind": "planning", "name": "x"})


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


def test_section_reader_names_the_key():
    top = Section({"a": {"b": 1}, "n": "x", "c": None}, "", ("a", "n", "c"))
    with pytest.raises(ValueError, match=r"unknown key a\.z: a has unknown key\(s\) \['z'\]"):
        Section({"b": 1, "z": 2}, "a", ("b",))
    sub = top.section("a", ("b",))
    assert sub.key("b") == "a.b" and sub.int("b", None, 0) == 1
    with pytest.raises(ValueError, match=r"a\.b=1 is out of range: allowed >= 2"):
        sub.int("b", None, 2)
    with pytest.raises(ValueError, match="a.b must be an int, got 'x'"):
        Section({"b": "x"}, "a", ("b",)).int("b", None, 0)
    assert top.section("c", ("q",)).data == {}  # a key with no value reads as empty
    with pytest.raises(ValueError, match="missing key c"):
        top.section("c", ("q",), required=True)
    with pytest.raises(ValueError, match="n must be a mapping, got str"):
        top.section("n", ())
    assert top.string("n", "d") == "x" and top.string("missing", "d") == "d"
    with pytest.raises(ValueError, match="a must be a non-empty string"):
        top.string("a", "d")
    with pytest.raises(ValueError, match=r"n='x' is not allowed: choose one of \('y',\)"):
        top.choice("n", "y", ("y",))


def test_section_names_and_seed_ranges():
    data = {"names": ["a", "a"], "r": {"seed_start": S.PROBE_SEED_START, "n": 3}}
    s = Section(data, "p", ("names", "r"))
    with pytest.raises(ValueError, match=r"p\.names lists an entry twice"):
        s.names("names", ("a",), ("a", "b"))
    with pytest.raises(ValueError, match="p.names has unknown entry 'a': choose from"):
        s.names("names", ("b",), ("b",))
    assert s.seed_range("r", "n", 1) == SeedRange(S.PROBE_SEED_START, 3)
    with pytest.raises(ValueError, match=r"p\.r\.n=3 is out of range"):
        s.seed_range("r", "n", 4)
    low = Section({"r": {"seed_start": 5, "n": 3}}, "p", ("r",))
    with pytest.raises(ValueError, match=r"p\.r\.seed_start=5 is out of range"):
        low.seed_range("r", "n", 1)


def test_overlapping_seed_ranges_are_named():
    check_disjoint({"a": SeedRange(10, 5), "b": SeedRange(15, 5)})
    with pytest.raises(ValueError, match=r"seed ranges overlap: b \[14, 19\) and a \[10, 15\)"):
        check_disjoint({"a": SeedRange(10, 5), "b": SeedRange(14, 5)})
    assert SeedRange(3, 2).seeds() == [3, 4] and SeedRange(3, 2).stop == 5


def test_importing_evaluation_stays_light():
    code = (
        "import sys, jepa_world.evaluation as e; e.load_suite('physics'); "
        "import jepa_world.evaluation.physics.runner, jepa_world.evaluation.report; "
        "print(sorted(m for m in ('lightning', 'pytorch_lightning', 'matplotlib', 'wandb', "
        "'gymnasium') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

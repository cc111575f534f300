"""The protocol's checks and the model string: one-line errors naming the string or shape."""

from __future__ import annotations

import sys

import pytest
import torch

from jepa_world.evaluation.adapters import Features, load_adapter, parse_model_string
from jepa_world.evaluation.adapters.protocol import check_features


def test_model_strings_parse_into_scheme_target_and_options():
    assert parse_model_string("timm:resnet18") == ("timm", "resnet18", {})
    assert parse_model_string("timm:resnet18?file=/w.safetensors&size=224") == (
        "timm",
        "resnet18",
        {"file": "/w.safetensors", "size": "224"},
    )
    assert parse_model_string("py:pkg.mod:build?dim=4") == ("py", "pkg.mod:build", {"dim": "4"})
    assert parse_model_string("runs/quickstart/encoder")[0] == "path"


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("no/such/folder", "'no/such/folder': not an export folder and no known scheme"),
        ("timm:", "nothing after timm:"),
        ("timm:resnet18?colour=red", "unknown option 'colour'"),
        ("timm:resnet18?size=big", "size='big' must be an int"),
        ("timm:resnet18?file=/no/such.safetensors", "weights file /no/such.safetensors not found"),
        ("timm:no_such_net", "timm:no_such_net: timm has no model 'no_such_net'"),
        ("torchvision:resnet50", "torchvision:resnet50: unknown video model"),
        ("py:nomodule_xyz:build", "cannot import module 'nomodule_xyz'"),
        ("py:json:nothing", "module 'json' has no callable 'nothing'"),
        ("py:json", "expected py:<module>:<factory>"),
    ],
)
def test_bad_model_strings_get_one_line_errors(spec, match):
    with pytest.raises(ValueError, match=match) as err:
        load_adapter(spec)
    assert "\n" not in str(err.value)


def test_a_missing_extra_names_the_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails as if not installed
    with pytest.raises(
        ImportError, match=r'hf:some/model needs HF transformers: pip install -e "\.\[hf\]"'
    ):
        load_adapter("hf:some/model")


def test_features_of_the_wrong_shape_are_named():
    good = Features(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5, 4))
    assert check_features(good, 2, 3, "m") is good
    assert check_features(torch.zeros(2, 3, 5, 4), 2, 3, "m").pooled.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"m: pooled features have shape \(2, 4, 4\), expected"):
        check_features(Features(torch.zeros(2, 4, 4)), 2, 3, "m")
    with pytest.raises(ValueError, match=r"m: token features have shape \(2, 3, 4\)"):
        check_features(Features(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)), 2, 3, "m")
    assert Features(torch.zeros(2, 3, 4)).as_tokens().shape == (2, 3, 1, 4)


def test_py_models_with_the_wrong_output_shape_fail_in_the_probes():
    from jepa_world.evaluation.physics.model import load_probe_model

    view = load_probe_model("py:toy_models:build_wrong_shape")
    with pytest.raises(
        ValueError, match=r"frozen_toy: pooled features have shape \(1, 2, 3, 4, 5\)"
    ):
        view.targets(torch.zeros(2, 4, 3, 64, 64, dtype=torch.uint8))

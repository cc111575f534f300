"""Exports written by earlier releases (format_version 1) still load and give the same outputs.

The fixtures in tests/fixtures/exports_v1 are tiny exports of the quickstart (video JEPA) and Two
Rooms (action-conditioned) recipes, with the outputs that the release which wrote them gave on
fixed inputs (``expected.safetensors``). Tolerances allow other CPUs' float rounding.
"""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from jepa_world import load_encoder, load_world_model
from jepa_world.worlds import create_world

FIXTURES = Path(__file__).parent / "fixtures" / "exports_v1"
# written before exports carried weight checksums: they load with a warning (tests/test_hub.py)
pytestmark = pytest.mark.filterwarnings("ignore:.*has no weight checksums:UserWarning")


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_video_world_model_export_still_loads_and_agrees():
    folder = FIXTURES / "physics"
    expected = load_file(folder / "expected.safetensors")
    model = load_world_model(folder)
    video = torch.from_numpy(create_world("physics2d", frames=16, size=64).generate([123])["video"])
    with torch.no_grad():
        assert close(model.encoder.embed(video), expected["embed"])
        assert close(load_encoder(folder).embed(video), expected["embed"])
        assert close(model.targets(video), expected["targets"])
        assert close(model.predict(video[:, :4], 2), expected["predict"])


def test_action_world_model_export_still_loads_and_agrees():
    folder = FIXTURES / "two_rooms"
    expected = load_file(folder / "expected.safetensors")
    model = load_world_model(folder)
    frames = create_world("two_rooms", frames=17).generate([123])["video"][0]
    with torch.no_grad():
        z = model.encode(torch.from_numpy(frames[:3]))
        assert close(z, expected["encode"])
        assert close(model.rollout(z, expected["actions"]), expected["rollout"])

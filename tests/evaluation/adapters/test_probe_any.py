"""The physics suite end to end on models of every adapter: the keys a jepa-world export gets,
present for every model (roll-out and VoE through the fitted forecaster where a model has no
predictor of its own)."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("jepa_world.evaluation.physics.fitted")  # the fitted forecaster

S = 3_000_000_000
SUITE = {
    "kind": "physics",
    "name": "tiny",
    "batch_size": 16,
    "bootstrap": {"resamples": 10, "seed": 0},
    "probes": {
        "state": {
            "world_params": {"occluders": [0, 0]},
            "train": {"seed_start": S, "clips": 8},
            "val": {"seed_start": S + 1000, "clips": 4},
            "test": {"seed_start": S + 2000, "clips": 4},
        },
        "rollout": {"test": {"seed_start": S + 3000, "clips": 4}, "horizons": [1, 2]},
        "voe": {
            "world_params": {"frames": 24, "distractors": [0, 1]},
            "properties": ["permanence", "continuity"],
            "quadruplets": {"seed_start": S + 10_000_000, "count": 2},
            "open_view": {"seed_start": S + 20_000_000, "pairs": 1, "kinds": ["vanish"]},
        },
    },
    "forecaster": {"steps": 3, "clips": 8, "width": 8, "depth": 1, "heads": 2, "context_steps": 2},
    "baselines": {"random_init": {"seeds": [0, 1, 2, 3, 4]}, "pixels": {"size": 8}},
}


def _keys(report) -> set[str]:
    return {k for k in report["metrics"] if not k.startswith("baselines/")}


@pytest.fixture(scope="module")
def export_keys(tmp_path_factory, tiny_world_model):
    from jepa_world.evaluation import run_suite
    from jepa_world.hub import save_pretrained

    torch.manual_seed(0)
    model = tiny_world_model(dim=16)
    path = save_pretrained(model, tmp_path_factory.mktemp("e2e") / "m", {"context_steps": 2})
    return _keys(run_suite(str(path), SUITE))


@pytest.fixture(scope="module")
def hf_dirs(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("hf_e2e")
    torch.manual_seed(5)
    transformers.VJEPA2Model(
        transformers.VJEPA2Config(
            crop_size=32,
            patch_size=16,
            frames_per_clip=8,
            tubelet_size=2,
            hidden_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            pred_hidden_size=16,
            pred_num_attention_heads=2,
            pred_num_hidden_layers=1,
            num_pooler_layers=1,
        )
    ).save_pretrained(root / "vjepa2")
    transformers.VideoMAEModel(
        transformers.VideoMAEConfig(
            image_size=32,
            patch_size=16,
            num_frames=8,
            tubelet_size=2,
            hidden_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            intermediate_size=32,
        )
    ).save_pretrained(root / "videomae")
    return root


@pytest.mark.parametrize(
    "model",
    ["py:toy_models:build", "timm:resnet18?size=32&frames=8", "hf:vjepa2", "hf:videomae"],
)
def test_every_adapter_gets_every_key_an_export_gets(model, export_keys, hf_dirs):
    from jepa_world.evaluation import run_suite

    if model.startswith("hf:"):
        model = f"hf:{hf_dirs / model[3:]}"
    report = run_suite(model, SUITE)
    missing = sorted(export_keys - _keys(report))
    assert not missing, missing[:10]
    metrics = report["metrics"]
    assert "baselines/random_init/voe/mean/relative_acc" in metrics
    assert report["protocol"]["model_input"].startswith(("frames scaled", "none"))

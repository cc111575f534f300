"""A randomly initialised model with a shipped recipe's architecture, exported for the probes.

The probe benchmarks time a suite on a model the size of the one a recipe trains, without
training it first: the recipe's ``model.init_args`` build a fresh ``JEPA`` (frames and image size
from its data section), which is exported with the same metadata a trained run writes.
"""

from __future__ import annotations

from pathlib import Path

import yaml

RECIPES = Path(__file__).resolve().parents[1] / "jepa_world" / "recipes"


def random_recipe_model(recipe: str, directory: Path) -> Path:
    """Export a random-init model built from ``recipes/<recipe>.yaml`` into ``directory``."""
    import torch

    from jepa_world.hub import save_pretrained
    from jepa_world.training import JEPA

    config = yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text())
    world = config["data"]["init_args"]["world_params"]
    torch.manual_seed(0)
    module = JEPA(
        **config["model"]["init_args"], frames=world["frames"], img_size=world.get("size", 64)
    )
    return save_pretrained(module, directory, metadata=module.export_metadata())

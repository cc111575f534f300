"""``py:<module>:<factory>``: any model, from a Python factory.

``factory(**options)`` (options from the model string's query, as strings) returns an object
that implements the probe protocol (``info`` and ``features``; optionally ``predict``,
``encode`` / ``rollout``, ``random_init``). Its random-init twin is its own ``random_init(seed)``
when it has one; else a deep copy whose submodules with ``reset_parameters`` are reset after
``torch.manual_seed(seed)``; a model with neither has no random-init baseline, and the report
says so.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import torch
from torch import nn

from jepa_world.evaluation.adapters.protocol import VideoFeatureModel

__all__ = ["load_py", "reset_twin"]


def _modules(model: Any) -> list[nn.Module]:
    """The torch modules a model object is or holds (its attributes)."""
    if isinstance(model, nn.Module):
        return [model]
    return [v for v in vars(model).values() if isinstance(v, nn.Module)]


def reset_twin(model: Any, seed: int) -> Any | None:
    """A deep copy of ``model`` with every submodule's ``reset_parameters`` called after
    ``torch.manual_seed(seed)`` (in module order); None when no submodule has one."""
    twin = copy.deepcopy(model)
    resettable = [
        m for root in _modules(twin) for m in root.modules() if hasattr(m, "reset_parameters")
    ]
    if not resettable:
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in resettable:
            module.reset_parameters()
    info = getattr(twin, "info", None)
    if info is not None and hasattr(info, "name"):
        from dataclasses import replace

        twin.info = replace(info, name=f"random_init[{seed}]")
    return twin


def load_py(target: str, options: dict[str, str], spec: str) -> VideoFeatureModel:
    """Import ``module:factory`` and call the factory with ``options``."""
    module_name, sep, factory_name = target.partition(":")
    if not sep or not module_name or not factory_name:
        raise ValueError(f"{spec}: expected py:<module>:<factory>, e.g. py:mypkg.models:build")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"{spec}: cannot import module {module_name!r}: {err}") from err
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ValueError(f"{spec}: module {module_name!r} has no callable {factory_name!r}")
    model = factory(**options)
    if not isinstance(model, VideoFeatureModel):
        raise ValueError(
            f"{spec}: {factory_name}() returned {type(model).__name__}, which lacks the probe "
            "protocol (an `info` ModelInfo and a `features(video)` method)"
        )
    return model

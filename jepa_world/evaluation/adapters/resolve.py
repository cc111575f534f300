"""One string picks the model: a jepa-world export folder, ``timm:<name>``,
``torchvision:<name>``, ``hf:<folder or id>`` or ``py:<module>:<factory>``, with options after
``?`` (``timm:resnet18?file=/weights/resnet18.safetensors&size=224``).

Options: ``timm``: ``file`` (local weights), ``size`` (input side), ``frames`` (probe window);
``torchvision``: the same; ``hf``: ``frames`` (V-JEPA 2's probe window); ``py``: passed to the
factory as keyword strings. A bad string, an unknown option or a missing optional dependency is
a one-line error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jepa_world.evaluation.adapters.protocol import VideoFeatureModel

__all__ = ["SCHEMES", "load_adapter", "parse_model_string", "random_twin"]

SCHEMES = {
    "timm": ("file", "size", "frames"),
    "torchvision": ("file", "size", "frames"),
    "hf": ("frames",),
    "py": None,  # any options, passed to the factory
}
"""The model-string schemes and the options each takes (None: any)."""


def parse_model_string(spec: str) -> tuple[str, str, dict[str, str]]:
    """``scheme:target?k=v&k2=v2`` -> (scheme, target, options); a path -> ("path", spec, {})."""
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in SCHEMES or (os.name == "nt" and len(scheme) == 1):
        return "path", spec, {}
    target, _, query = rest.partition("?")
    if not target:
        raise ValueError(f"model string {spec!r}: nothing after {scheme}:")
    options: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise ValueError(f"model string {spec!r}: option {part!r} is not key=value")
        options[key] = value
    allowed = SCHEMES[scheme]
    if allowed is not None:
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(
                f"model string {spec!r}: unknown option {unknown[0]!r}; {scheme}: takes "
                f"{', '.join(allowed)}"
            )
    return scheme, target, options


def _int(spec: str, options: dict[str, str], key: str) -> int | None:
    if key not in options:
        return None
    try:
        value = int(options[key])
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"model string {spec!r}: {key}={options[key]!r} must be an int >= 1")
    return value


def _file(spec: str, options: dict[str, str]) -> str | None:
    path = options.get("file")
    if path is not None and not Path(path).is_file():
        raise ValueError(f"model string {spec!r}: weights file {path} not found")
    return path


def load_adapter(model: str | os.PathLike | Any, world_size: int = 64) -> VideoFeatureModel:
    """The probe-protocol model a string names (objects that implement the protocol pass
    through; a loaded ``hub.WorldModel`` is wrapped as an export)."""
    if not isinstance(model, (str, os.PathLike)):
        if isinstance(model, VideoFeatureModel):
            return model
        from jepa_world.evaluation.adapters.export import ExportAdapter

        encoder = getattr(model, "encoder", None)
        if encoder is not None and hasattr(encoder, "grid"):
            return ExportAdapter(encoder, model, _loaded_config(model), "model")
        raise TypeError(
            "model must be an export folder path, a model string (timm:, torchvision:, hf:, "
            "py:), a jepa_world.hub.WorldModel or an object of the probe protocol (info, "
            f"features), got {type(model).__name__}"
        )
    spec = os.fspath(model)
    scheme, target, options = parse_model_string(spec)
    if scheme == "path":
        if not Path(spec).is_dir():
            raise ValueError(
                f"model string {spec!r}: not an export folder and no known scheme "
                f"({', '.join(s + ':' for s in SCHEMES)})"
            )
        from jepa_world.evaluation.adapters.export import load_export

        return load_export(spec)
    if scheme == "timm":
        from jepa_world.evaluation.adapters.timm_adapter import TimmAdapter

        frames = _int(spec, options, "frames") or 16
        return TimmAdapter(
            target, _file(spec, options), _int(spec, options, "size"), frames, world_size, spec=spec
        )
    if scheme == "torchvision":
        from jepa_world.evaluation.adapters.torchvision_adapter import TorchvisionAdapter

        return TorchvisionAdapter(
            target,
            _file(spec, options),
            _int(spec, options, "size"),
            _int(spec, options, "frames"),
            world_size,
            spec=spec,
        )
    if scheme == "hf":
        from jepa_world.evaluation.adapters.hf import HFAdapter

        return HFAdapter(target, _int(spec, options, "frames"), spec=spec)
    from jepa_world.evaluation.adapters.py_adapter import load_py

    return load_py(target, options, spec)


def _loaded_config(model: Any) -> dict[str, Any]:
    from jepa_world.evaluation.models import load_model

    return load_model(model).config


def random_twin(model: VideoFeatureModel, seed: int) -> tuple[VideoFeatureModel | None, str]:
    """``model``'s untrained twin for ``seed`` and how it was built (None and the reason when
    the model has no way to build one)."""
    build = getattr(model, "random_init", None)
    if callable(build):
        return build(seed), model.info.random_init
    from jepa_world.evaluation.adapters.py_adapter import reset_twin

    twin = reset_twin(model, seed)
    if twin is None:
        return None, (
            f"{model.info.name}: no random-init baseline (no random_init(seed) method and no "
            "submodule with reset_parameters)"
        )
    return twin, "deep copy with every submodule's reset_parameters() after torch.manual_seed"

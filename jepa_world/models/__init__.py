"""Encoders (video ViT, small CNN) and the predictor, built by name from presets."""

from __future__ import annotations

from jepa_world.models.encoders import VideoCNN, VideoEncoder, VideoViT
from jepa_world.models.predictor import Predictor, create_predictor
from jepa_world.models.registry import ENCODERS, create_encoder, list_encoders, register_encoder

__all__ = [
    "ENCODERS",
    "Predictor",
    "VideoCNN",
    "VideoEncoder",
    "VideoViT",
    "create_encoder",
    "create_predictor",
    "list_encoders",
    "register_encoder",
]

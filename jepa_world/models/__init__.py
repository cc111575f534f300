"""Encoders (video ViT, small CNN, keypoint CNN), the predictor and the action-conditioned
predictors, built by name from presets."""

from __future__ import annotations

from jepa_world.models.action_predictor import (
    ACTION_PREDICTORS,
    ActionPredictor,
    create_action_predictor,
)
from jepa_world.models.encoders import VideoCNN, VideoEncoder, VideoViT
from jepa_world.models.frame_encoder import KeypointCNN
from jepa_world.models.predictor import Predictor, create_predictor
from jepa_world.models.registry import ENCODERS, create_encoder, list_encoders, register_encoder

__all__ = [
    "ACTION_PREDICTORS",
    "ENCODERS",
    "ActionPredictor",
    "KeypointCNN",
    "Predictor",
    "VideoCNN",
    "VideoEncoder",
    "VideoViT",
    "create_action_predictor",
    "create_encoder",
    "create_predictor",
    "list_encoders",
    "register_encoder",
]

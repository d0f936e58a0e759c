"""Models: MLP, a small CNN, a reduced ResNet-18. Each exposes ``features(x)`` and a linear ``head``."""

from lifelong.models.build import MODELS, ModelSpec, build_model
from lifelong.models.networks import MLP, FeatureModel, ReducedResNet18, SmallCNN

__all__ = [
    "MLP",
    "MODELS",
    "FeatureModel",
    "ModelSpec",
    "ReducedResNet18",
    "SmallCNN",
    "build_model",
]

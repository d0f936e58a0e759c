"""Models: MLP, a small CNN, a reduced ResNet-18 (each exposes ``features(x)`` and a linear
``head``), and :class:`UserModel` for your own network."""

from lifelong.models.build import MODELS, ModelSpec, build_model
from lifelong.models.networks import MLP, FeatureModel, ReducedResNet18, SmallCNN
from lifelong.models.user import UserModel

__all__ = [
    "MLP",
    "MODELS",
    "FeatureModel",
    "ModelSpec",
    "ReducedResNet18",
    "SmallCNN",
    "UserModel",
    "build_model",
]

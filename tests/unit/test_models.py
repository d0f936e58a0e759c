"""Models: output shapes and ``features()`` dimensions on MNIST- and CIFAR-shaped inputs."""

from __future__ import annotations

import pytest
import torch

from lifelong.errors import LifelongError
from lifelong.models import MLP, ModelSpec, ReducedResNet18, SmallCNN, build_model

SHAPES = {"mnist": (1, 28, 28), "mnist-padded": (1, 32, 32), "cifar": (3, 32, 32)}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("name", "hidden", "feature_dim"),
    [("mlp", (400, 400), 400), ("mlp", (32,), 32), ("cnn", (256,), 256), ("resnet18", (8,), 64)],
)
def test_forward_and_feature_shapes(shape, name, hidden, feature_dim):
    torch.manual_seed(0)
    model = build_model(ModelSpec(name, SHAPES[shape], 100, hidden)).eval()
    x = torch.rand(3, *SHAPES[shape])
    with torch.no_grad():
        logits, features = model(x), model.features(x)
    assert logits.shape == (3, 100) and features.shape == (3, feature_dim)
    assert model.feature_dim == feature_dim and model.head.in_features == feature_dim
    assert torch.allclose(model.head(features), logits, atol=1e-5)


def test_model_classes_directly():
    assert MLP(784, (400, 400), 10)(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert SmallCNN(3, 32, 10).features(torch.rand(2, 3, 32, 32)).shape == (2, 256)
    resnet = ReducedResNet18(3, 10)
    assert resnet(torch.rand(2, 3, 32, 32)).shape == (2, 10)  # training mode, batch statistics
    n_params = sum(p.numel() for p in resnet.parameters())
    assert 1_000_000 < n_params < 1_200_000  # GEM's reduced ResNet-18 has about 1.1M parameters


def test_bad_model_arguments_are_clear_errors():
    with pytest.raises(LifelongError, match="unknown model 'vgg'"):
        build_model(ModelSpec("vgg", (1, 28, 28), 10))
    with pytest.raises(LifelongError, match="hidden sizes must be positive"):
        build_model(ModelSpec("mlp", (1, 28, 28), 10, (0,)))

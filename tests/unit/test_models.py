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


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_xavier_init_draws_glorot_uniform_weights_and_zero_biases(name):
    torch.manual_seed(0)
    xavier = build_model(ModelSpec(name, SHAPES["mnist"], 10, (100, 100), init="xavier"))
    torch.manual_seed(0)
    default = build_model(ModelSpec(name, SHAPES["mnist"], 10, (100, 100)))
    layers = [m for m in xavier.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    for layer in layers:
        weight = layer.weight.detach()
        fan_in, fan_out = weight[0].numel(), weight.shape[0] * weight[0, 0].numel()
        bound = (6.0 / (fan_in + fan_out)) ** 0.5  # Glorot & Bengio 2010: U(-bound, bound)
        assert weight.abs().max() <= bound
        assert weight.std() == pytest.approx(bound / 3**0.5, rel=0.1)
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    first = next(m for m in default.modules() if isinstance(m, torch.nn.Linear | torch.nn.Conv2d))
    assert first.bias.abs().sum() > 0  # PyTorch's default draws biases


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_truncated_normal_init_draws_tensorflow_truncated_normal_weights_and_biases_of_one_tenth(
    name,
):
    torch.manual_seed(0)
    network = build_model(ModelSpec(name, SHAPES["mnist"], 10, (200, 200), init="truncated-normal"))
    layers = [m for m in network.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    for layer in layers:
        weight = layer.weight.detach()
        assert weight.abs().max() <= 0.2  # cut at 2 standard deviations
        # the s.d. of N(0, 0.1^2) truncated to [-0.2, 0.2]: 0.1 * 0.8796
        assert weight.std() == pytest.approx(0.08796, rel=0.1)
        assert torch.equal(layer.bias, torch.full_like(layer.bias, 0.1))


def test_init_applies_only_to_the_built_in_classifiers(tiny_config):
    from lifelong.core.runner import run

    with pytest.raises(
        LifelongError, match="unknown init 'he'; valid: default, truncated-normal, xavier"
    ):
        build_model(ModelSpec("mlp", SHAPES["mnist"], 10, (8,), init="he"))
    with pytest.raises(LifelongError, match="not gpt-tiny"):
        build_model(ModelSpec("gpt-tiny", (2, 8), 10, (8,), objective="lm", init="xavier"))
    with pytest.raises(LifelongError, match="your own model starts from the weights you give"):
        run(tiny_config(init="xavier"), model=torch.nn.Linear(64, 10), write=False)

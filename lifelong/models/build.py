"""Build a model by name from the scenario's input shape and number of outputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from lifelong.errors import ConfigError, unknown_name
from lifelong.models.hf import HF_PREFIX, BagOfWords, HFClassifier
from lifelong.models.networks import MLP, ReducedResNet18, SmallCNN

MODELS = {
    "mlp": "fully connected ReLU network; hidden sizes from --hidden (default 400,400)",
    "cnn": "two conv blocks + one hidden layer (--hidden gives the dense width, default 256)",
    "resnet18": "reduced ResNet-18 (20 base filters, as in GEM); --hidden sets the base width",
    "bow": "text: mean token embedding + one hidden layer (--hidden: embedding,hidden; default 64)",
    "hf:PATH": "text: a Hugging Face encoder (local folder or hub name), mean-pooled, + linear head",
}


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build (or rebuild, e.g. a new Progressive column) a model."""

    name: str
    input_shape: tuple[int, ...]  # (C, H, W) images, or e.g. (D,) features (mlp only)
    num_outputs: int
    hidden: tuple[int, ...] = (400, 400)
    vocab_size: int = 0  # text models: token ids of the scenario's tokenizer

    def build(self) -> nn.Module:
        return build_model(self)


def build_model(spec: ModelSpec) -> nn.Module:
    """Instantiate the model described by ``spec``."""
    if spec.name.startswith(HF_PREFIX):
        return HFClassifier.from_pretrained(spec.name.removeprefix(HF_PREFIX), spec.num_outputs)
    if spec.name == "bow":
        if spec.vocab_size < 1:
            raise ConfigError(
                "the bow model needs text inputs: use a text benchmark (split-wordnet)"
            )
        hidden = spec.hidden or (64,)
        return BagOfWords(spec.vocab_size, spec.num_outputs, dim=hidden[0], hidden=hidden[-1])
    if spec.vocab_size:
        raise ConfigError(
            f"the {spec.name} model does not read text; use --model bow or --model hf:PATH"
        )
    if spec.name == "mlp":
        if any(size < 1 for size in spec.hidden):
            raise ConfigError(f"hidden sizes must be positive, got {spec.hidden}")
        return MLP(math.prod(spec.input_shape), spec.hidden, spec.num_outputs)
    if spec.name in MODELS and len(spec.input_shape) != 3:
        raise ConfigError(
            f"the {spec.name} model needs image inputs (C, H, W), but the inputs have shape "
            f"{tuple(spec.input_shape)}; use the mlp model"
        )
    c, h, w = spec.input_shape
    if spec.name == "cnn":
        if h != w:
            raise ConfigError("the cnn model needs square images")
        return SmallCNN(c, h, spec.num_outputs, hidden=spec.hidden[-1] if spec.hidden else 256)
    if spec.name == "resnet18":
        return ReducedResNet18(c, spec.num_outputs, width=spec.hidden[0] if spec.hidden else 20)
    raise unknown_name("model", spec.name, MODELS)

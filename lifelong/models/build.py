"""Build a model by name from the scenario's input shape and number of outputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from lifelong.errors import ConfigError, unknown_name
from lifelong.models.hf import HF_PREFIX, BagOfWords, HFCausalLM, HFClassifier, tiny_gpt
from lifelong.models.networks import MLP, ReducedResNet18, SmallCNN

MODELS = {
    "mlp": "fully connected ReLU network; hidden sizes from --hidden (default 400,400)",
    "cnn": "two conv blocks + one hidden layer (--hidden gives the dense width, default 256)",
    "resnet18": "reduced ResNet-18 (20 base filters, as in GEM); --hidden sets the base width",
    "bow": "text: mean token embedding + one hidden layer (--hidden: embedding,hidden; default 64)",
    "hf:PATH": "text: a Hugging Face encoder (local folder or hub name), mean-pooled, + linear head; "
    "on a language-modelling stream, its causal language model (AutoModelForCausalLM)",
    "gpt-tiny": "language modelling: a randomly initialised tiny GPT-2 (no download; --hidden: "
    "width,layers; default 64,2)",
}
# Models that learn language-modelling streams (the others classify).
LANGUAGE_MODELS = ("gpt-tiny", "hf:PATH")
# Initial weights of the built-in classifiers: PyTorch's layer defaults, Glorot & Bengio's
# uniform weights with zero biases (the init of Mammoth's networks, e.g. its MNIST MLP), or
# TensorFlow's truncated normal (s.d. 0.1) with biases 0.1 (the A-GEM code's networks).
INITS = ("default", "xavier", "truncated-normal")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build (or rebuild, e.g. a new Progressive column) a model."""

    name: str
    input_shape: tuple[int, ...]  # (C, H, W) images, or e.g. (D,) features (mlp only)
    num_outputs: int
    hidden: tuple[int, ...] = (400, 400)
    vocab_size: int = 0  # text models: token ids of the scenario's tokenizer
    objective: str = "classify"  # the scenario's: "lm" builds a causal language model
    init: str = "default"  # one of INITS

    def build(self) -> nn.Module:
        return build_model(self)


def build_model(spec: ModelSpec) -> nn.Module:
    """Instantiate the model described by ``spec``."""
    if spec.init not in INITS:
        raise unknown_name("init", spec.init, INITS)
    if spec.init != "default" and (spec.objective == "lm" or spec.name.startswith(HF_PREFIX)):
        raise ConfigError(
            f"init={spec.init} re-initialises lifelong's built-in classifiers (mlp, cnn, "
            f"resnet18, bow), not {spec.name}"
        )
    if spec.objective == "lm":
        return _language_model(spec)
    if spec.name.startswith(HF_PREFIX):
        return HFClassifier.from_pretrained(spec.name.removeprefix(HF_PREFIX), spec.num_outputs)
    return initialise(_classifier(spec), spec.init)


def initialise(network: nn.Module, init: str) -> nn.Module:
    """``network`` with its linear and convolutional layers initialised by ``init`` (see INITS);
    ``default`` keeps PyTorch's."""
    for module in network.modules():
        if init == "default" or not isinstance(module, (nn.Linear, nn.Conv2d)):
            continue
        if init == "xavier":  # Glorot & Bengio 2010, zero biases (Mammoth's networks)
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        else:  # TensorFlow's truncated normal (s.d. 0.1, cut at 2 s.d.), biases 0.1 (A-GEM's code)
            nn.init.trunc_normal_(module.weight, std=0.1, a=-0.2, b=0.2)
            if module.bias is not None:
                nn.init.constant_(module.bias, 0.1)
    return network


def _classifier(spec: ModelSpec) -> nn.Module:
    """A built-in classifier (mlp, cnn, resnet18, bow) with PyTorch's initial weights."""
    if spec.name == "gpt-tiny":
        raise ConfigError(
            "the gpt-tiny model is a language model: use a language-modelling benchmark "
            "(wordnet-domains)"
        )
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


def _language_model(spec: ModelSpec) -> nn.Module:
    """A causal language model for a language-modelling stream (token inputs (2, L))."""
    if spec.name.startswith(HF_PREFIX):
        return HFCausalLM.from_pretrained(spec.name.removeprefix(HF_PREFIX))
    if spec.name != "gpt-tiny":
        raise ConfigError(
            f"a language-modelling stream needs a causal language model, not {spec.name}: "
            f"use --model {' or '.join(LANGUAGE_MODELS)}"
        )
    width, layers = (tuple(spec.hidden) + (64, 2)[len(spec.hidden) :])[:2]
    if width < 2 or width % 2 or layers < 1:
        raise ConfigError(f"gpt-tiny needs an even width >= 2 and >= 1 layer, got {spec.hidden}")
    return tiny_gpt(spec.vocab_size, spec.input_shape[-1], width=width, layers=layers)

"""Users' own networks: any ``nn.Module`` that maps a batch of inputs to logits.

lifelong needs to know one thing about a network: its *output layer*, the ``nn.Linear`` whose
outputs are the scenario's output units. It is found automatically (the last ``nn.Linear``
registered in the module, i.e. the last one in ``named_modules()`` order) or named by the user
(``UserModel(net, output_layer="classifier.fc")``). From it lifelong

* checks the number of outputs: if the layer has ``out_features`` different from the scenario's
  number of output units, it is replaced by a freshly initialised ``nn.Linear(in_features,
  num_outputs)`` and a warning says so (task-incremental "multi-head" behaviour is obtained by
  masking logits, so one layer over all units is all any setting needs);
* derives ``features(x)``, the penultimate representation, as the input of the output layer (used
  by iCaRL's nearest-mean-of-exemplars classifier).

Strategies that need a particular architecture say so with a :class:`ConfigError` naming what is
missing (Progressive and DEN grow fully connected columns/units: they need lifelong's ``MLP``).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from lifelong.errors import ConfigError, LifelongError
from lifelong.models.networks import MLP

ModelSource = nn.Module | Callable[[], nn.Module]
USER_MODEL_PREFIX = "user:"


@dataclass(frozen=True)
class UserModel:
    """A network supplied by the user, and where its output layer is.

    Attributes:
        source: an ``nn.Module`` (its current weights are the initial weights of every run; it is
            copied, never trained in place), or a zero-argument factory returning a fresh module
            (called after the run's seed is set, so initialisation is reproducible).
        output_layer: dotted name of the output ``nn.Linear``, e.g. ``"classifier.fc"`` (default:
            the last ``nn.Linear`` of the module).
    """

    source: ModelSource
    output_layer: str | None = None

    @property
    def name(self) -> str:
        """The class name of the network (recorded as ``model: user:<name>`` in the config)."""
        if isinstance(self.source, nn.Module):
            return type(self.source).__name__
        return getattr(self.source, "__name__", type(self.source).__name__)

    def build(self, num_outputs: int, *, language_model: bool = False) -> tuple[nn.Module, str]:
        """A fresh network with ``num_outputs`` outputs, and the name of its output layer; a
        ``language_model`` is kept as it is (its outputs are its vocabulary; layer name ``""``)."""
        if isinstance(self.source, nn.Module):
            try:
                network = copy.deepcopy(self.source)
            except Exception as err:  # noqa: BLE001 - whatever stops a copy, the fix is the same
                raise LifelongError(
                    f"model {self.name} cannot be copied ({type(err).__name__}: {err}); pass a "
                    "factory instead: model=lambda: MyNet()"
                ) from None
        else:
            network = self.source()
            if not isinstance(network, nn.Module):
                raise LifelongError(
                    f"model factory {self.name} returned {type(network).__name__}, not an nn.Module"
                )
        if language_model:
            return network, ""
        layer = find_output_layer(network, self.output_layer)
        fit_output_layer(network, layer, num_outputs)
        return network, layer


def as_user_model(model: UserModel | ModelSource) -> UserModel:
    """Wrap a module or factory as a :class:`UserModel` (output layer found automatically)."""
    if isinstance(model, UserModel):
        return model
    if isinstance(model, nn.Module) or callable(model):
        return UserModel(model)
    raise LifelongError(
        f"model must be an nn.Module, a zero-argument factory or a UserModel, got "
        f"{type(model).__name__}"
    )


def find_output_layer(model: nn.Module, name: str | None = None) -> str:
    """The dotted name of ``model``'s output layer: ``name`` (checked) or its last ``nn.Linear``."""
    if name is None:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ConfigError(
                f"model {type(model).__name__} has no nn.Linear layer; lifelong needs its output "
                "layer to be an nn.Linear over the output units (name it with "
                "UserModel(net, output_layer=...))"
            )
        return linears[-1]
    try:
        layer = model.get_submodule(name)
    except AttributeError:
        raise ConfigError(f"model {type(model).__name__} has no layer '{name}'") from None
    if not isinstance(layer, nn.Linear):
        raise ConfigError(
            f"output layer '{name}' of model {type(model).__name__} is a "
            f"{type(layer).__name__}; it must be an nn.Linear"
        )
    return name


def fit_output_layer(model: nn.Module, name: str, num_outputs: int) -> None:
    """Replace the output layer by a fresh ``nn.Linear`` if it does not have ``num_outputs``."""
    layer = model.get_submodule(name)
    assert isinstance(layer, nn.Linear)
    if layer.out_features == num_outputs:
        return
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    replacement = nn.Linear(layer.in_features, num_outputs, bias=layer.bias is not None)
    setattr(parent, attribute, replacement.to(layer.weight.device, layer.weight.dtype))
    warnings.warn(
        f"lifelong: output layer '{name}' of {type(model).__name__} has {layer.out_features} "
        f"outputs but the scenario has {num_outputs} output units; it was replaced by a new "
        f"nn.Linear({layer.in_features}, {num_outputs})",
        stacklevel=2,
    )


def penultimate(model: nn.Module, output_layer: str, x: torch.Tensor) -> torch.Tensor:
    """Features of ``x``: the input of ``model``'s output layer, (B, D), from one forward pass."""
    captured: list[torch.Tensor] = []

    def keep(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        captured.append(args[0])

    handle = model.get_submodule(output_layer).register_forward_pre_hook(keep)
    try:
        model(x)
    finally:
        handle.remove()
    if len(captured) != 1 or captured[0].dim() != 2:
        raise ConfigError(
            f"features: the output layer '{output_layer}' of {type(model).__name__} must be applied "
            "once per forward pass to a (batch, features) tensor"
        )
    return captured[0]


def mlp_layers(model: nn.Module, strategy: str, why: str) -> list[nn.Linear]:
    """The linear layers of lifelong's :class:`MLP`; a ConfigError naming ``strategy`` otherwise."""
    if not isinstance(model, MLP):
        raise ConfigError(
            f"{strategy} needs lifelong's fully connected model (--model mlp, or "
            f"lifelong.models.MLP as your model): {why}; got {type(model).__name__}"
        )
    return [m for m in model.modules() if isinstance(m, nn.Linear)]

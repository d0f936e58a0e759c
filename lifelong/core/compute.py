"""Counting the compute a strategy spends: samples passed forward and backward through the model.

A forward hook on the strategy's model counts the samples of every forward pass made in training
mode (the loss, MIR's candidate scoring, GDumb's retraining; evaluation runs in eval mode and is not
counted). When the output takes part in autograd, a hook on the output tensor counts the same samples
once more when a gradient flows back through it: a backward pass (``loss.backward()`` or a strategy's
own ``torch.autograd.grad``). Counts stay on the device (no synchronisation per batch).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class PassCounter:
    """Counts samples forwarded and backpropagated through ``model`` while it is in training mode.

    Args:
        model: the network (``strategy.model``).
        forward: samples forwarded so far (e.g. restored from a checkpoint).
        backward: samples backpropagated so far.
    """

    def __init__(self, model: nn.Module, forward: int = 0, backward: int = 0) -> None:
        self._counts = [forward, backward]
        self._handle = model.register_forward_hook(self._on_forward)

    def _on_forward(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if not module.training or not isinstance(output, torch.Tensor):
            return
        n = output.shape[0] if output.dim() else 1
        self._counts[0] += n
        if output.requires_grad:
            output.register_hook(lambda grad: self._add_backward(n))

    def _add_backward(self, n: int) -> None:
        self._counts[1] += n

    @property
    def forward(self) -> int:
        return self._counts[0]

    @property
    def backward(self) -> int:
        return self._counts[1]

    def close(self) -> None:
        self._handle.remove()

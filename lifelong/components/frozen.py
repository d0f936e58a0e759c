"""Frozen copies of a network: the teachers of LwF, iCaRL, generative replay and pseudo-rehearsal.

A teacher is the model as it was at the end of a task, and must answer as that model does at test
time: BatchNorm layers use their running statistics (not the statistics of the batch being
labelled), and those statistics do not move while it teaches. :class:`Frozen` holds a deep copy of
the network that stays in evaluation mode whatever mode its owner is put in (the training loop calls
``strategy.train()``), runs without autograd, and whose parameters never require gradients (the
optimizer never sees them).
"""

from __future__ import annotations

import copy
from typing import Any, Generic, TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)


class Frozen(nn.Module, Generic[M]):
    """A frozen deep copy of ``network`` (its state is saved as ``<name>.network.*``)."""

    network: M

    def __init__(self, network: M) -> None:
        super().__init__()
        self.network = copy.deepcopy(network).requires_grad_(False)
        self.train(False)
        self._register_load_state_dict_pre_hook(_accept_unwrapped_keys)

    def train(self, mode: bool = True) -> Frozen[M]:
        """Stay in evaluation mode (``mode`` is ignored)."""
        return super().train(False)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            return self.network(*args, **kwargs)

    @torch.no_grad()
    def copy_from(self, network: nn.Module) -> None:
        """Take ``network``'s current parameters and buffers (e.g. at the end of a task)."""
        self.network.load_state_dict(network.state_dict())


def _accept_unwrapped_keys(state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Checkpoints written before teachers were wrapped store ``<name>.<key>``: move them under
    ``<name>.network.``."""
    for key in [k for k in state if k.startswith(prefix) and not k.startswith(prefix + "network.")]:
        state[prefix + "network." + key[len(prefix) :]] = state.pop(key)

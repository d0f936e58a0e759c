"""An MLP whose hidden layers can grow, shrink and duplicate units (for DEN, Yoon et al. 2018).

Every hidden unit carries the task at which it was added (its "timestamp"); ``forward(x, task)``
zeroes units added after ``task``, so later units never change an earlier task's function. Resizing
replaces the affected parameters (the training loop builds a new optimizer at the next phase).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class ExpandableMLP(nn.Module):
    """Layers ``weights[i]`` (out x in) and ``biases[i]``; hidden widths ``widths``; ReLU hidden
    units."""

    def __init__(self, linears: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(m.weight.detach().clone()) for m in linears])
        self.biases = nn.ParameterList([nn.Parameter(m.bias.detach().clone()) for m in linears])
        self.stages = [torch.zeros(m.out_features, dtype=torch.long) for m in linears[:-1]]

    @property
    def widths(self) -> list[int]:
        return [len(s) for s in self.stages]

    def interleaved(self) -> list[nn.Parameter]:
        """w_0, b_0, w_1, b_1, ... (the order DEN keeps its masks and snapshots in)."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def units_of(self, stage: int) -> list[torch.Tensor]:
        """Per hidden layer, the units added at ``stage`` (bool, on the weights' device)."""
        return [(s == stage).to(w.device) for s, w in zip(self.stages, self.weights, strict=False)]

    def forward(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        h = x.flatten(1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = F.linear(h, w, b)
            if i < len(self.stages):
                h = F.relu(h)
                if task is not None:
                    h = h * (self.stages[i].to(h.device) <= task)
        return h

    # ------------------------------------------------------------------ structure edits
    def _set(self, i: int, weight: torch.Tensor, bias: torch.Tensor) -> None:
        self.weights[i] = nn.Parameter(weight.detach().clone())
        self.biases[i] = nn.Parameter(bias.detach().clone())

    def widen(self, layer: int, n: int, stage: int, generator: torch.Generator) -> None:
        """Append ``n`` units to hidden layer ``layer`` (PyTorch's default Linear
        initialisation)."""
        w, b, nxt = self.weights[layer], self.biases[layer], self.weights[layer + 1]
        bound_in, bound_out = 1 / math.sqrt(w.shape[1]), 1 / math.sqrt(nxt.shape[1] + n)

        def uniform(shape: tuple[int, ...], bound: float) -> torch.Tensor:
            return ((torch.rand(shape, generator=generator) * 2 - 1) * bound).to(w)

        self._set(
            layer,
            torch.cat([w, uniform((n, w.shape[1]), bound_in)]),
            torch.cat([b, uniform((n,), bound_in)]),
        )
        self._set(
            layer + 1,
            torch.cat([nxt, uniform((nxt.shape[0], n), bound_out)], 1),
            self.biases[layer + 1],
        )
        self.stages[layer] = torch.cat([self.stages[layer], torch.full((n,), stage)])

    def keep(self, layer: int, units: torch.Tensor) -> None:
        """Keep only hidden ``units`` (indices) of ``layer``."""
        self._set(layer, self.weights[layer][units], self.biases[layer][units])
        self._set(layer + 1, self.weights[layer + 1][:, units], self.biases[layer + 1])
        self.stages[layer] = self.stages[layer][units.cpu()]

    def duplicate(self, layer: int, units: torch.Tensor, stage: int) -> None:
        """Append copies of hidden ``units`` of ``layer`` (same incoming and outgoing weights)."""
        w, b, nxt = self.weights[layer], self.biases[layer], self.weights[layer + 1]
        self._set(layer, torch.cat([w, w[units]]), torch.cat([b, b[units]]))
        self._set(layer + 1, torch.cat([nxt, nxt[:, units]], 1), self.biases[layer + 1])
        self.stages[layer] = torch.cat([self.stages[layer], torch.full((len(units),), stage)])

    def drop_empty(self, layer: int, stage: int) -> int:
        """Remove the units of ``stage`` whose incoming weights are all zero (group sparsity
        killed them); returns how many."""
        new = (self.stages[layer] == stage).to(self.weights[layer].device)
        empty = new & (self.weights[layer] == 0).all(1)
        self.keep(layer, torch.nonzero(~empty).flatten())
        return int(empty.sum())

    def split_drifted(
        self,
        layer: int,
        previous: tuple[torch.Tensor, torch.Tensor],
        threshold: float,
        stage: int,
        limit: int = 0,
    ) -> int:
        """DEN's split: every unit whose incoming weights and bias moved by
        ||(w_i, b_i) - (w_i^{t-1}, b_i^{t-1})||_2 > ``threshold`` from ``previous`` =
        (w^{t-1}, b^{t-1}) is duplicated (only the ``limit`` most drifted of them when
        ``limit`` > 0); the copy (timestamp ``stage``) keeps the new values, the original gets back
        w^{t-1} and b^{t-1} (inputs added since are cut). Returns the number of units split."""
        weight, bias = previous
        rows, cols = weight.shape
        moved = self.weights[layer][:rows, :cols] - weight
        drift = torch.cat([moved, (self.biases[layer][:rows] - bias)[:, None]], 1).norm(dim=1)
        drifted = drift > threshold
        if 0 < limit < int(drifted.sum()):
            most = torch.topk(torch.where(drifted, drift, -1.0), limit).indices
            drifted = torch.zeros_like(drifted).index_fill_(0, most, True)
        units = torch.nonzero(drifted).flatten()
        self.duplicate(layer, units, stage)
        with torch.no_grad():
            self.weights[layer][units] = 0.0
            self.weights[layer][units, :cols] = weight[units]
            self.biases[layer][units] = bias[units]
        return len(units)

    def widen_all(self, n: int, stage: int, generator: torch.Generator) -> None:
        """Append ``n`` units of timestamp ``stage`` to every hidden layer."""
        for layer in range(len(self.stages)):
            self.widen(layer, n, stage, generator)

    def drop_and_split(
        self, previous: Sequence[torch.Tensor], threshold: float, stage: int, limit: int = 0
    ) -> tuple[int, int]:
        """Layer by layer, :meth:`drop_empty` then :meth:`split_drifted` (``previous``: w_0, b_0,
        w_1, b_1, ... before the task; ``limit``: most units split per layer, 0 for no limit).
        Returns (units dropped, units split)."""
        dropped = split = 0
        for i in range(len(self.stages)):
            dropped += self.drop_empty(i, stage)
            before = (previous[2 * i], previous[2 * i + 1])
            split += self.split_drifted(i, before, threshold, stage, limit)
        return dropped, split

    def structure(self) -> dict[str, object]:
        """What :meth:`resize` needs to rebuild these shapes before a state dict loads."""
        return {"shapes": [list(w.shape) for w in self.weights], "stages": self.stages}

    def resize(self, shapes: Sequence[Sequence[int]], stages: Sequence[torch.Tensor]) -> None:
        """Give every layer the (out, in) ``shapes`` (values follow from a state dict)."""
        for i, (out, inp) in enumerate(shapes):
            if tuple(self.weights[i].shape) != (out, inp):
                ref = self.weights[i]
                self._set(i, ref.new_zeros(out, inp), ref.new_zeros(out))
        self.stages = [s.clone() for s in stages]


def soft_threshold_(w: torch.Tensor, amount: float, mask: torch.Tensor) -> None:
    """Proximal step of amount * ||w||_1 on the entries in ``mask``: exact zeros appear."""
    shrunk = w.sign() * (w.abs() - amount).clamp_min(0)
    w.copy_(torch.where(mask, shrunk, w))


def group_soft_threshold_(w: torch.Tensor, amount: float, rows: torch.Tensor) -> None:
    """Proximal step of amount * sum_g ||w_g||_2 with one group per row in ``rows`` (a unit's
    incoming weights): whole rows become zero."""
    norms = w.norm(dim=1, keepdim=True)
    scale = (1 - amount / norms.clamp_min(1e-12)).clamp_min(0)
    w.copy_(torch.where(rows[:, None], w * scale, w))


def connected_units(weights: Sequence[torch.Tensor], outputs: torch.Tensor) -> list[torch.Tensor]:
    """Breadth-first search down from the output units ``outputs`` (bool): for every hidden
    layer, the units with a non-zero path to them (DEN's selected sub-network)."""
    selected, current = [], outputs
    for w in reversed(weights[1:]):
        current = (w[current] != 0).any(0)
        selected.append(current)
    return selected[::-1]

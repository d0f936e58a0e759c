"""Progressive network columns for the MLP (Rusu et al. 2016): one column per task with lateral
adapters that read every earlier column's hidden activations."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class LateralAdapter(nn.Module):
    """a_i = U relu(V (alpha * [h^1_i, ..., h^{k-1}_i])): the paper's non-linear lateral connection
    for dense layers, with a learned scalar alpha and V reducing the earlier columns' concatenated
    activations to one column's width."""

    def __init__(self, in_features: int, reduced: int, out_features: int, alpha: float) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor(alpha))
        self.reduce = nn.Linear(in_features, reduced)  # V
        self.project = nn.Linear(reduced, out_features, bias=False)  # U

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.project(F.relu(self.reduce(self.alpha * h)))


class Column(nn.Module):
    """One column: layers sizes[0] -> ... -> sizes[-1] (ReLU between, logits at the end) plus,
    for the k-th column (k >= 1), one lateral adapter into every layer after the first."""

    def __init__(
        self,
        sizes: Sequence[int],
        index: int,
        alpha: float,
        layers: Sequence[nn.Linear] | None = None,
    ) -> None:
        super().__init__()
        pairs = list(zip(sizes[:-1], sizes[1:], strict=False))
        self.layers = nn.ModuleList(layers or [nn.Linear(a, b) for a, b in pairs])
        self.laterals = nn.ModuleList(
            [LateralAdapter(index * a, a, b, alpha) for a, b in pairs[1:]] if index else []
        )

    def forward(self, x: torch.Tensor, earlier: list[list[torch.Tensor]]) -> list[torch.Tensor]:
        """Inputs of every layer after the first, then the logits; ``earlier[j]`` is column j's."""
        h, outputs = x, []
        for i, layer in enumerate(self.layers):
            z = layer(h)
            if i > 0 and self.laterals:
                z = z + self.laterals[i - 1](torch.cat([col[i - 1] for col in earlier], dim=1))
            h = z if i == len(self.layers) - 1 else F.relu(z)
            outputs.append(h)
        return outputs


class ProgressiveMLP(nn.Module):
    """Columns of an MLP; ``forward(x, column)`` runs columns 0..column and returns the last's
    logits."""

    def __init__(self, sizes: Sequence[int], first: Sequence[nn.Linear], alpha: float) -> None:
        super().__init__()
        self.sizes, self.alpha = list(sizes), alpha
        self.columns = nn.ModuleList([Column(self.sizes, 0, alpha, layers=first)])

    def add_column(self) -> None:
        """Freeze every existing column and append a new, trainable one."""
        self.columns.requires_grad_(False)
        self.columns.append(
            Column(self.sizes, len(self.columns), self.alpha).to(
                next(self.columns.parameters()).device  # column 0's first weight
            )
        )

    def forward(self, x: torch.Tensor, column: int | None = None) -> torch.Tensor:
        last = len(self.columns) - 1 if column is None else min(column, len(self.columns) - 1)
        x = x.flatten(1)
        outputs: list[list[torch.Tensor]] = []
        for k in range(last + 1):
            outputs.append(self.columns[k](x, outputs))
        return outputs[-1][-1]

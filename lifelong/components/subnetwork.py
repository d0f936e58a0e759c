"""Which entries of an :class:`~lifelong.components.expandable.ExpandableMLP` train in a phase.

DEN (Yoon et al. 2018) trains a different part of the network in each phase of a task: the new
task's outputs, the selected sub-network, the new units. ``TrainableSubset`` keeps one boolean mask
per weight matrix and bias, zeroes the other gradients, restores the other values after every step
(Adam's moments would move them), and applies the proximal steps of the l1 and group penalties.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lifelong.components.expandable import (
    ExpandableMLP,
    group_soft_threshold_,
    soft_threshold_,
)


class TrainableSubset:
    """Masks (per layer: ``masks`` for weights, ``rows`` for biases), the values at the phase
    start (``stored``), the rows under the group penalty (``group``) and the weights before the
    task (``previous``: w_0, b_0, w_1, b_1, ...; DEN's W^{t-1})."""

    KEYS = ("masks", "rows", "stored", "group", "previous")

    def __init__(self) -> None:
        self.masks: list[torch.Tensor] = []
        self.rows: list[torch.Tensor] = []
        self.stored: list[torch.Tensor] = []
        self.group: list[torch.Tensor] = []
        self.previous: list[torch.Tensor] = []

    def select(
        self,
        model: ExpandableMLP,
        rows: Sequence[torch.Tensor],
        cols: Sequence[torch.Tensor | None] | None = None,
    ) -> None:
        """Trainable = rows x cols per layer (a col None: every input)."""
        cols = cols if cols is not None else [None] * len(rows)
        self.masks = [
            (r[:, None] & (c[None, :] if c is not None else True)).expand(w.shape).clone()
            for r, c, w in zip(rows, cols, model.weights, strict=True)
        ]
        self.rows = list(rows)
        self.stored = [p.detach().clone() for p in model.interleaved()]
        self.group = [torch.zeros_like(r) for r in rows]

    def select_units(
        self, model: ExpandableMLP, stage: int, head: torch.Tensor, *, group: bool
    ) -> None:
        """Trainable: the units of timestamp ``stage`` (incoming rows, outgoing columns) and the
        output rows ``head``; with ``group``, the new units' incoming rows get the group penalty."""
        new = model.units_of(stage)
        rows = [*new, head]
        self.select(model, rows)
        for i, n in enumerate(new):  # outgoing weights: to every unit above, or to the head only
            self.masks[i + 1] |= n[None, :] & (rows[i + 1][:, None] | (i + 1 < len(new)))
        if group:
            self.group = [*new, torch.zeros_like(head)]

    def _flat(self) -> list[torch.Tensor]:
        return [m for pair in zip(self.masks, self.rows, strict=True) for m in pair]

    def drift_penalty(self, model: ExpandableMLP) -> torch.Tensor:
        """sum of (W - W^{t-1})^2 over the trainable hidden-layer weights. The output layer is
        left out: its trainable rows are the new task's, which have no W^{t-1}."""
        total = model.weights[0].new_zeros(())
        hidden = zip(model.weights[:-1], self.previous[:-2:2], self.masks[:-1], strict=True)
        for w, prev, mask in hidden:
            r, c = prev.shape
            total = total + ((w[:r, :c] - prev) ** 2 * mask[:r, :c]).sum()
        return total

    def mask_gradients(self, model: ExpandableMLP) -> None:
        for p, mask in zip(model.interleaved(), self._flat(), strict=True):
            if p.grad is not None:
                p.grad.mul_(mask)

    @torch.no_grad()
    def restore_and_shrink(self, model: ExpandableMLP, l1: float, group_l1: float) -> None:
        """Put frozen entries back, then the proximal steps of l1 and group l1."""
        for p, mask, stored in zip(model.interleaved(), self._flat(), self.stored, strict=True):
            p.copy_(torch.where(mask, p, stored))
        for w, mask, group in zip(model.weights, self.masks, self.group, strict=True):
            if l1 > 0:
                soft_threshold_(w, l1, mask)
            if group_l1 > 0 and group.any():
                group_soft_threshold_(w, group_l1, group)

    def count(self) -> int:
        return sum(int(m.sum()) for m in self._flat())

    def state(self) -> dict[str, list[torch.Tensor]]:
        return {k: getattr(self, k) for k in self.KEYS}

    def load(self, state: dict[str, list[torch.Tensor]], device: torch.device) -> None:
        for key in self.KEYS:
            setattr(self, key, [t.to(device) for t in state[key]])

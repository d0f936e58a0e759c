"""Shuffled mini-batches over the training data of one or more tasks, as index tensors.

The order is a pure function of (seed, epoch): resuming at iteration ``k`` regenerates the same
batches without replaying any data, and no per-sample Python runs while training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from lifelong.data.scenarios import Scenario


def batches_per_epoch(samples: int, batch_size: int) -> int:
    """Batches in one pass over ``samples``; a final batch of a single sample is dropped (BatchNorm
    cannot train on one sample), so every batch has at least two samples when the data has."""
    full, rest = divmod(samples, batch_size)
    return full + (1 if rest > 1 or (rest == 1 and full == 0) else 0)


class BatchStream:
    """Yields (task_ids, indices) batches, reshuffled every epoch, for ever.

    Args:
        scenario: source of the tasks' training indices.
        tasks: indices of the tasks to draw from (several for joint / cumulative training).
        batch_size: samples per batch (the last batch of an epoch may be smaller, never a lone sample).
        seed: determines the order of every epoch.
    """

    def __init__(
        self, scenario: Scenario, tasks: Sequence[int], batch_size: int, seed: int
    ) -> None:
        self.task_ids = torch.cat(
            [
                torch.full(
                    (len(scenario[t].train_indices),), t, dtype=torch.long, device=scenario.device
                )
                for t in tasks
            ]
        )
        self.indices = torch.cat([scenario[t].train_indices for t in tasks])
        self.batch_size = batch_size
        self.seed = seed
        if len(self.indices) == 0:
            raise ValueError("no training samples in the selected tasks")

    @property
    def samples(self) -> int:
        return len(self.indices)

    @property
    def iterations_per_epoch(self) -> int:
        """Batches per epoch (see :func:`batches_per_epoch`)."""
        return batches_per_epoch(self.samples, self.batch_size)

    def _order(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.samples, generator=generator).to(self.indices.device)

    def batches(self, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches from iteration ``start`` on (``start`` counts batches since the first epoch)."""
        per_epoch = self.iterations_per_epoch
        epoch, position = divmod(start, per_epoch)
        while True:
            # Shuffle once per epoch; each batch is then a slice (no per-batch gather).
            order = self._order(epoch)
            task_ids, indices = self.task_ids[order], self.indices[order]
            for b in range(position, per_epoch):
                part = slice(b * self.batch_size, (b + 1) * self.batch_size)
                yield task_ids[part], indices[part]
            epoch, position = epoch + 1, 0

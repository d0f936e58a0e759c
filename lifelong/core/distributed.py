"""Data-parallel training over several processes with ``torch.distributed`` (gloo on CPU, NCCL on
CUDA), started by ``torchrun --nproc-per-node N -m lifelong run ...``.

Every process (rank) builds the same scenario, model and strategy from the same seed and draws the
same global batches; each rank computes the loss of its slice of every batch (``tensor_split``,
weighted by its share so unequal slices average correctly), the gradients are averaged over the
ranks in one all-reduce, and every rank takes the same optimizer step, so the ranks stay identical
and the run follows the single-process run up to floating-point rounding. The strategy's hooks
(``after_backward``, ``after_step``, ``after_task``) see the whole batch on every rank, so replay
memories and Fisher estimates are the same everywhere; evaluation runs on every rank. Only rank 0
writes results and checkpoints.

The gradients are reduced by hand (one flat ``all_reduce``) rather than by wrapping the model in
``DistributedDataParallel``: strategies, checkpoints and the output layer address parameters by
their names, which the wrapper would change, and a strategy's extra forward passes (replay, Fisher)
would each need the wrapper's bucket bookkeeping.

Supported strategies: :data:`SUPPORTED` (their losses are sums over the batch plus terms every rank
computes identically). Under ER every rank replays the same memory batch beside its slice, so the
replayed examples weigh more than in one process (not the same numbers as a single-process run).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from lifelong.core.strategy import Batch
from lifelong.errors import ConfigError

SUPPORTED = frozenset({"naive", "ewc", "er"})


@dataclass(frozen=True)
class DataParallel:
    """This process's place in the group: ``rank`` of ``world`` processes."""

    rank: int
    world: int

    def slice(self, batch: Batch) -> tuple[Batch, float]:
        """This rank's part of ``batch`` and the factor (world x share of the batch) its mean loss
        is scaled by, so that the average over ranks of the scaled gradients is the batch's."""
        x, y, ids = (
            t.tensor_split(self.world)[self.rank] for t in (batch.x, batch.y, batch.task_ids)
        )
        return Batch(x, y, ids), len(y) * self.world / len(batch)

    def average(self, grads: Sequence[torch.Tensor], loss: torch.Tensor) -> torch.Tensor:
        """Average ``grads`` (in place) and ``loss`` over the ranks in one all-reduce; returns the
        averaged loss."""
        flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1).float()])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()
        return flat[-1]

    def share(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        holder = [value]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]


def from_environment(device: torch.device, config: Any) -> DataParallel | None:
    """The process group started by ``torchrun`` (``WORLD_SIZE`` > 1), joined on first use; None
    for a single process. Refuses what data-parallel training does not support."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    if config.strategy not in SUPPORTED:
        raise ConfigError(
            f"strategy '{config.strategy}' does not support data-parallel training (torchrun); "
            f"supported: {', '.join(sorted(SUPPORTED))}"
        )
    if config.training.online or config.training.grad_accumulation > 1:
        raise ConfigError(
            "data-parallel training (torchrun) does not combine with online streams or "
            "--grad-accumulation yet"
        )
    if config.training.batch_size < world:
        raise ConfigError(f"batch_size must be >= the {world} processes of torchrun")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DataParallel(dist.get_rank(), dist.get_world_size())


def device_of_rank(device: torch.device) -> torch.device:
    """Each process's own GPU (``LOCAL_RANK``) under torchrun; other devices unchanged."""
    if device.type == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device

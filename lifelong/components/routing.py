"""Task routing for parameter isolation: run each task's samples through its own network."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from lifelong.core.strategy import Strategy


def route_by_task(
    x: torch.Tensor, task_ids: torch.Tensor | None, run: Callable[[torch.Tensor, int], torch.Tensor]
) -> torch.Tensor:
    """``run(x_t, t)`` for each task ``t`` present in ``task_ids``, reassembled in batch order.

    Training and evaluation batches hold one task, which takes the fast path (one call, no copy).

    Raises:
        ValueError: without task ids (these methods need the task-incremental setting).
    """
    if task_ids is None:
        raise ValueError("this strategy routes samples by task id (task-incremental setting only)")
    tasks = task_ids.unique().tolist()
    if len(tasks) == 1:
        return run(x, tasks[0])
    parts = {t: run(x[task_ids == t], t) for t in tasks}
    first = next(iter(parts.values()))
    out = first.new_zeros(len(x), *first.shape[1:])
    for t, part in parts.items():
        out = out.index_put((task_ids == t,), part)
    return out


@torch.no_grad()
def training_loss(strategy: Strategy, task: int, limit: int = 1024) -> float:
    """Cross-entropy of ``strategy`` on (up to ``limit`` of) ``task``'s training samples, routed
    to the task (DEN's expansion test)."""
    scenario = strategy.context.scenario
    idx = scenario.tasks[task].train_indices[:limit]
    ids = torch.full_like(idx, task)
    x, y = scenario.train_batch(ids, idx)
    return float(F.cross_entropy(strategy.masked_logits(strategy(x, ids), ids), y))

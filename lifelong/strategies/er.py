"""Experience replay (Chaudhry et al. 2019, "On tiny episodic memories in continual learning").

A memory of ``buffer_size`` examples (the budget, in stored examples) is filled by reservoir
sampling over the whole stream. Each step trains on the current batch B joined with a batch B_M of
``replay_batch_size`` examples drawn uniformly from the memory::

    L(theta) = CE(f_theta(x), y) averaged over B u B_M

and the current batch is then offered to the reservoir. Deviation: none (the paper's ring buffer and
reservoir variants are both described; this is the reservoir one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lifelong.components.buffer import STORAGE, ReplayBuffer, Storage, joined, make_buffer
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy, StrategyConfig


@dataclass(frozen=True)
class ERConfig(StrategyConfig):
    buffer_size: int = field(1000, "memory budget |M| in stored examples (total, all tasks)")
    replay_batch_size: int = field(128, "replayed examples per step (|B_M|)")
    storage: Storage = field(
        "auto", "dtype of the stored inputs (auto: uint8 when lossless, else float32)"
    )

    def __post_init__(self) -> None:
        check(self.buffer_size >= 1, "buffer_size must be >= 1")
        check(self.replay_batch_size >= 1, "replay_batch_size must be >= 1")
        check(self.storage in ("auto", *STORAGE), f"storage must be auto or one of {STORAGE}")


def replay_metrics(buffer: Any) -> dict[str, Any]:
    """The memory budget of a buffer-based strategy, for metrics.json."""
    return {
        "buffer_capacity_examples": buffer.capacity,
        "buffer_stored_examples": len(buffer),
        "buffer_bytes": buffer.nbytes(),
        "buffer_storage": buffer.storage,
    }


@register
class ER(Strategy):
    """Joint training on the current batch and a replay batch from a reservoir memory."""

    name = "er"
    config_class = ERConfig
    paper = "Chaudhry et al. 2019, On tiny episodic memories in continual learning"
    config: ERConfig
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer = make_buffer(config.buffer_size, context.scenario, config.storage)

    def loss(self, batch: Batch) -> torch.Tensor:
        if len(self.buffer) == 0:
            return self.classification_loss(batch)
        replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
        return self.classification_loss(joined(batch, replay))

    def after_step(self, batch: Batch) -> None:
        self.buffer.add_reservoir(batch.x, batch.y, batch.task_ids, self.context.rng)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)

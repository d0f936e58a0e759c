"""Experience replay (Chaudhry et al. 2019, "On tiny episodic memories in continual learning").

A memory of ``buffer_size`` examples (the budget, in stored examples) is filled by reservoir
sampling over the whole stream. Each step trains on the current batch B joined with a batch B_M of
``replay_batch_size`` examples drawn uniformly from the memory::

    L(theta) = CE(f_theta(x), y) averaged over B u B_M

and the current batch is then offered to the reservoir. Deviation: none (the paper describes a ring
buffer and a reservoir; the reservoir is the default, ``buffer_policy=ring`` the ring buffer, see
:mod:`lifelong.components.memory` for these and the task- and class-balanced memories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lifelong.components.buffer import ReplayBuffer, joined
from lifelong.components.memory import policy_buffer, store_step, store_task
from lifelong.components.replay_config import ReplayPolicyConfig
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class ERConfig(ReplayPolicyConfig):
    """A memory of ``buffer_size`` examples, ``replay_batch_size`` replayed per step."""


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
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss
    task_free = True
    config: ERConfig
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer = policy_buffer(
            config.buffer_policy,
            config.buffer_size,
            context.scenario,
            config.storage,
            task_free=context.task_free,
        )

    def loss(self, batch: Batch) -> torch.Tensor:
        if len(self.buffer) == 0:
            return self.task_loss(batch)
        replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
        return self.task_loss(joined(batch, replay))

    def after_step(self, batch: Batch) -> None:
        scenario = self.context.scenario
        store_step(
            self.config.buffer_policy, self.buffer, batch, self.context.rng, scenario.num_tasks
        )

    def after_task(self, task: Task) -> None:
        scenario = self.context.scenario
        store_task(self.config.buffer_policy, self.buffer, task, scenario, self.context.rng)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)

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

import torch

from lifelong.components.buffer import joined
from lifelong.components.policy_memory import PolicyMemory
from lifelong.components.replay_config import ReplayPolicyConfig
from lifelong.core.registry import register
from lifelong.core.strategy import Batch


@dataclass(frozen=True)
class ERConfig(ReplayPolicyConfig):
    """A memory of ``buffer_size`` examples, ``replay_batch_size`` replayed per step."""


@register
class ER(PolicyMemory):
    """Joint training on the current batch and a replay batch from a reservoir memory."""

    name = "er"
    config_class = ERConfig
    paper = "Chaudhry et al. 2019, On tiny episodic memories in continual learning"
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss
    task_free = True
    config: ERConfig

    def loss(self, batch: Batch) -> torch.Tensor:
        if len(self.buffer) == 0:
            return self.task_loss(batch)
        replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
        return self.task_loss(joined(batch, replay))
